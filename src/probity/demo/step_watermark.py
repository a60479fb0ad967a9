"""Demo step: watermark a generation, detect it with a p-value, certify and verify it."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

ORDER = 10
TITLE = "Watermarking: generate, detect with a p-value, certify"


class _ToyModel:
    """A stand-in NextTokenModel (word vocabulary, fixed random bigram logits) used when the
    embedded demo model is not installed, so the step still shows the whole pipeline."""

    name = "toy-bigram (embedded demo model missing)"

    def __init__(self, seed: int = 0) -> None:
        words = [
            "the",
            "a",
            "river",
            "stone",
            "light",
            "green",
            "quiet",
            "city",
            "garden",
            "learns",
            "writes",
            "walks",
            "under",
            "near",
            "slowly",
            "and",
            "but",
            "when",
            "old",
            "new",
            "small",
            "teacher",
            "doctor",
            "story",
            "letter",
            "window",
            "morning",
            "evening",
            "rain",
            "sun",
            "she",
            "he",
            "they",
            "said",
            "asked",
            "found",
            "gave",
            "took",
            "made",
        ]
        self.words = words
        self.vocab_size = len(words)
        self.eos_token_id = None
        self.logits = np.random.default_rng(seed).normal(0, 1.0, (len(words), len(words)))

    def encode(self, text: str) -> list[int]:
        return [self.words.index(w) for w in text.split() if w in self.words]

    def decode(self, ids) -> str:
        return " ".join(self.words[i] for i in ids) + " "

    def next_token_logits(self, input_ids: np.ndarray) -> np.ndarray:
        return self.logits[np.asarray(input_ids)[:, -1]].astype(np.float32)


def _running_z(marks: tuple[int, ...], gamma: float) -> np.ndarray:
    m = np.array([x for x in marks if x >= 0], dtype=float)
    n = np.arange(1, len(m) + 1)
    return (np.cumsum(m) - gamma * n) / np.sqrt(n * gamma * (1 - gamma))


def _marks_html(model: Any, ids: list[int], marks: tuple[int, ...]) -> str:
    colour = {1: "#c8f7c5", 0: "#f9c6c6", -1: "#eeeeee"}
    spans = [
        f'<span style="background:{colour[m]}">{html.escape(model.decode([t]))}</span>'
        for t, m in zip(ids, marks, strict=True)
    ]
    return (
        '<p style="font-family:monospace;line-height:1.8">' + "".join(spans) + "</p>"
        "<p><small>green: green-list token; red: red-list token; grey: not scored "
        "(no context or a repeated context-token pair)</small></p>"
    )


def run(ctx: Any) -> dict[str, Any]:
    from probity.errors import ModelError, TamperedError
    from probity.lm import GenerationParams
    from probity.report import new_figure
    from probity.watermark import certify, generate, make_scheme, new_key, verify_certificate

    try:
        model = ctx.model()
    except ModelError as exc:
        ctx.say(f"[yellow]embedded demo model unavailable ({exc}); using a toy bigram model[/]")
        model = _ToyModel()
    key = new_key("demo", save=False)  # the demo never writes into your Probity home
    scheme = make_scheme("kgw", key, gamma=0.25, delta=2.5)
    n_tokens = 60 if ctx.quick else 120
    prompt = "ROMEO:\n" if not isinstance(model, _ToyModel) else "the"
    params = GenerationParams(max_new_tokens=n_tokens, temperature=1.0, seed=11)
    wm = generate(model, [prompt], scheme, params)[0]
    plain = model.generate([prompt], params)[0] if hasattr(model, "generate") else None
    if plain is None:
        from probity.lm import sample

        plain = sample(model, [prompt], params)[0]
    p_ids = model.encode(prompt)
    d_wm = scheme.detect(list(wm.token_ids), prompt_ids=p_ids, fpr=1e-4)
    d_plain = scheme.detect(list(plain.token_ids), prompt_ids=p_ids, fpr=1e-4)
    human = list(plain.token_ids)
    mixed = human[: len(human) // 2] + list(wm.token_ids)[:40] + human[len(human) // 2 :]
    d_mixed = scheme.detect(mixed, windowed=True, min_window=16)
    ctx.say(f"model: {model.name}; {wm.completion_tokens} watermarked tokens")
    ctx.say(
        f"[green]watermarked[/] text: p-value {d_wm.p_value:.2e}, z {d_wm.z:.1f}, "
        f"{d_wm.green}/{d_wm.scored} green -> watermarked={d_wm.watermarked}"
    )
    ctx.say(
        f"unwatermarked text: p-value {d_plain.p_value:.2f}, {d_plain.green}/"
        f"{d_plain.scored} green -> watermarked={d_plain.watermarked}"
    )
    if d_mixed.window:
        ctx.say(
            f"40 watermarked tokens pasted into human text: best window tokens "
            f"{d_mixed.window['start']}-{d_mixed.window['end']}, corrected p "
            f"{d_mixed.p_value:.2e}"
        )
    cert = certify(d_wm, key, prompt + wm.text, token_ids=wm.token_ids)
    path = ctx.out_dir / "watermark-certificate.json"
    from probity.io import write_json_atomic

    write_json_atomic(path, cert.to_dict())
    ok = verify_certificate(path, key.public_key_hex, text=prompt + wm.text).valid
    forged = cert.to_dict()
    forged["claims"] = {**forged["claims"], "p_value": 1e-40}
    try:
        verify_certificate(forged, key.public_key_hex)
        tamper_caught = False
    except TamperedError:
        tamper_caught = True
    ctx.say(f"certificate {path.name}: verifies={ok}; altered copy rejected={tamper_caught}")
    c2pa_result = _content_credentials(ctx, wm.text, scheme)

    sec = ctx.report.section(TITLE)
    sec.text(
        "A keyed hash of the previous token splits the vocabulary into a green quarter "
        "and a red rest; generation adds 2.5 to green logits. Detection counts green "
        "tokens and reports an exact binomial p-value; the verdict holds at a stated "
        "false-positive rate (1e-4). The certificate is signed with Ed25519 and verifies "
        "with the public key alone."
    )
    sec.table(
        [
            {
                "text": "watermarked generation",
                "tokens scored": d_wm.scored,
                "green": d_wm.green,
                "z": round(d_wm.z, 2),
                "p-value": f"{d_wm.p_value:.2e}",
                "verdict": d_wm.watermarked,
            },
            {
                "text": "same model, no watermark",
                "tokens scored": d_plain.scored,
                "green": d_plain.green,
                "z": round(d_plain.z, 2),
                "p-value": f"{d_plain.p_value:.2e}",
                "verdict": d_plain.watermarked,
            },
            {
                "text": "40 watermarked tokens pasted in (windowed)",
                "tokens scored": d_mixed.scored,
                "green": d_mixed.green,
                "z": round(d_mixed.z, 2),
                "p-value": f"{d_mixed.p_value:.2e}",
                "verdict": d_mixed.watermarked,
            },
        ]
    )
    fig, ax = new_figure(7, 3)
    for d, label in ((d_wm, "watermarked"), (d_plain, "not watermarked")):
        z = _running_z(d.marks, 0.25)
        ax.plot(np.arange(1, len(z) + 1), z, label=label)
    from scipy.special import ndtri

    ax.axhline(-ndtri(1e-4), color="grey", linestyle="--", label="z at FPR 1e-4 (approx.)")
    ax.set_xlabel("tokens scored")
    ax.set_ylabel("z-score")
    ax.legend()
    sec.figure(
        fig,
        caption="Evidence grows with length: the z-score of the green count as tokens are read.",
    )
    sec.html(_marks_html(model, list(wm.token_ids), d_wm.marks))
    sec.facts(
        {
            "key id": key.key_id,
            "certificate": str(path),
            "certificate verifies": ok,
            "altered certificate rejected": tamper_caught,
            "C2PA content credentials": c2pa_result,
        }
    )
    sec.code(path.read_text(encoding="utf-8"))
    return {
        "model": model.name,
        "p_watermarked": d_wm.p_value,
        "p_unwatermarked": d_plain.p_value,
        "watermarked_detected": d_wm.watermarked,
        "unwatermarked_flagged": d_plain.watermarked,
        "certificate_verified": ok,
        "tamper_detected": tamper_caught,
        "c2pa": c2pa_result,
    }


def _content_credentials(ctx: Any, text: str, scheme: Any) -> str:
    """Embed C2PA content credentials in the text and verify them with the c2pa library
    (a throwaway local signing identity: the demo writes nothing into your Probity home)."""
    try:
        from probity.watermark.content_credentials import (
            attach_content_credentials,
            new_signing_identity,
            verify_content_credentials,
        )

        ident = new_signing_identity("Probity demo signer")
        credited = attach_content_credentials(text, scheme.public_params(), identity=ident)
        cred = verify_content_credentials(credited, trust_anchors=ident.ca_pem)
    except Exception as exc:  # optional extra: report and go on
        ctx.say(f"[yellow]C2PA content credentials skipped: {exc}[/]")
        return f"skipped ({type(exc).__name__})"
    out = (
        f"verified with the c2pa library: AI-generated={cred.ai_generated}, "
        f"trusted={cred.trusted}, {len(credited) - len(text)} invisible characters appended"
    )
    ctx.say(f"C2PA content credentials {out}")
    return out
