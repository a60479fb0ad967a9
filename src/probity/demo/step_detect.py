"""Demo step: provenance of text: watermark proof first, then calibrated zero-shot evidence."""

from __future__ import annotations

from typing import Any

ORDER = 90
TITLE = "Provenance: was this text machine-generated?"

HUMAN = (  # Richard III, I.i (public domain): about 130 tokens, scored on the first 100
    "Now is the winter of our discontent\nMade glorious summer by this sun of York;\n"
    "And all the clouds that lour'd upon our house\nIn the deep bosom of the ocean buried.\n"
    "Now are our brows bound with victorious wreaths;\nOur bruised arms hung up for "
    "monuments;\nOur stern alarums changed to merry meetings,\nOur dreadful marches to "
    "delightful measures.\nGrim-visaged war hath smooth'd his wrinkled front;\nAnd now, "
    "instead of mounting barded steeds\nTo fright the souls of fearful adversaries,\nHe "
    "capers nimbly in a lady's chamber\nTo the lascivious pleasing of a lute."
)
PROMPT = "KING HENRY:\n"


def _score_figure(cal: Any, rows: list[dict[str, Any]], fpr: float) -> Any:
    import numpy as np

    from probity.report import new_figure

    fig, ax = new_figure(6.5, 2.8)
    human = np.asarray(cal.scores)
    ax.hist(human, bins=30, color="#9bb7d4", label=f"human calibration ({cal.n} passages)")
    ax.axvline(cal.threshold(fpr), color="black", ls="--", lw=1, label=f"threshold at {fpr:g} FPR")
    colours = {"proof": "#2a9d4b", "evidence": "#e0a100", "none": "#5b6770"}
    for r in rows:
        if r["score"] is not None:
            ax.axvline(r["score"], color=colours[r["kind"]], lw=2, label=r["text"])
    ax.set_xlabel("Fast-DetectGPT score (higher = more machine-like)")
    ax.set_ylabel("passages")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def run(ctx: Any) -> dict[str, Any]:
    from probity.detect import ZeroShotDetector, find_calibration, provenance
    from probity.errors import ModelError
    from probity.lm import GenerationParams
    from probity.watermark import generate, make_scheme, new_key

    sec = ctx.report.section(TITLE)
    try:
        model = ctx.model()
    except ModelError as exc:
        ctx.say(f"[yellow]skipped:[/] {exc}")
        sec.text(f"Skipped: the embedded demo model is not installed ({exc}).")
        return {"skipped": str(exc)}
    fpr = 0.01
    # 100 new tokens: as long as the human calibration passages (scores grow with length)
    params = GenerationParams(max_new_tokens=100, temperature=0.7, seed=3)
    plain = PROMPT + model.generate([PROMPT], params)[0].text
    key = new_key("demo-provenance", save=False)  # a throwaway key: nothing is stored
    scheme = make_scheme("kgw", key)
    marked = PROMPT + generate(model, [PROMPT], scheme, params)[0].text
    det = ZeroShotDetector("fast-detectgpt", model)
    det.calibration = find_calibration("fast-detectgpt", det.models)
    labels = (
        "watermarked generation (demo key, T=0.7)",
        "plain generation by the demo model (T=0.7)",
        "Shakespeare (Richard III)",
    )
    reports = provenance(
        [marked, plain, HUMAN], keys=[key], detector=det, tokenizer=model, zero_shot_fpr=fpr
    )
    rows = []
    for label, rep in zip(labels, reports, strict=True):
        z = rep.zero_shot
        wm = rep.watermark[0] if rep.watermark else {}
        ctx.say(
            f"[bold]{label}[/]: [bold]{rep.kind.upper()}[/] — watermark p = "
            f"{wm.get('p_value', float('nan')):.2g}; zero-shot score {z.score:.2f}, "
            f"verdict {z.verdict}" + (f" (p = {z.p_value:.3g})" if z.p_value is not None else "")
        )
        rows.append(
            {
                "text": label,
                "kind": rep.kind,
                "watermark_p": wm.get("p_value"),
                "score": None if z.score != z.score else round(z.score, 3),
                "zero_shot": z.verdict,
                "zero_shot_p": z.p_value,
                "certificate": "signed" if rep.certificate else "",
            }
        )
    ctx.say("[dim]A watermark is proof (with a signed certificate); zero-shot is evidence.[/]")
    sec.text(
        "Each text is checked for a Probity watermark first (proof, with an exact p-value and "
        "a signed certificate) and then with Fast-DetectGPT over the demo model, calibrated on "
        f"held-out human Shakespeare to a {fpr:g} false-positive rate (conformal p-values): "
        "evidence, not proof. Richard III is in the demo model's training data, which makes it "
        "look less human to that model: the known memorisation limit of zero-shot detection."
    )
    sec.table(rows)
    if det.calibration is not None:
        sec.figure(
            _score_figure(det.calibration, rows, fpr),
            caption="Zero-shot scores of the three texts against the human calibration",
        )
    else:
        sec.text("No shipped calibration for the demo model: zero-shot verdicts are uncalibrated.")
    sec.code(marked)
    return {"results": rows}
