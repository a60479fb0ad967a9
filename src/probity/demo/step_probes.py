"""Demo step: a small occupation-pronoun probe on the embedded demo model.

The demo model writes Shakespeare-flavoured text and knows nothing about modern occupations,
so its numbers only illustrate the mechanics (prompts, samples, pronoun counting, Wilson
intervals, cue shifts, the chart); they say nothing about any real model. Without the demo
model the step runs the same probe against Probity's scripted test server instead.
"""

from __future__ import annotations

from typing import Any

ORDER = 60
TITLE = "Probes: occupation pronouns and context cues"

_OCCUPATIONS = ["nurse", "carpenter", "pilot"]


def run(ctx: Any) -> dict[str, Any]:
    from probity.errors import ModelError
    from probity.probes import probe_pronouns
    from probity.probes.report import pronoun_section

    samples = 3 if ctx.quick else 5
    opts = {
        "occupations": _OCCUPATIONS[:2] if ctx.quick else _OCCUPATIONS,
        "samples": samples,
        "max_new_tokens": 12 if ctx.quick else 16,
        "seed": 7,
        "cache": False,
        "reference": "parity",
    }
    skipped = False
    try:
        model = ctx.model()
        backend = f"embedded demo model ({model.name})"
        res = _one_thread(lambda: probe_pronouns(model, **opts))
    except ModelError as exc:
        skipped = True
        from probity.lm import OpenAICompatGenerator
        from probity.probes.testing import ScriptedServer

        ctx.say(
            f"[yellow]demo model unavailable ({exc.message}); probing the scripted test "
            "server instead[/]"
        )
        rules = {
            "WNBA": {"female": 1.0},
            "beard": {"male": 1.0},
            "nurse": {"female": 0.8, "male": 0.2},
            "carpenter": {"male": 0.9, "female": 0.1},
        }
        with ScriptedServer(pronoun_rules=rules) as srv:
            backend = "scripted server"
            gen = OpenAICompatGenerator(srv.base_url, "scripted", backoff=0.01)
            res = probe_pronouns(gen, **opts)
    o = res.overall.female_share
    wnba = next((c for c in res.cues if c.cue == "wnba"), None)
    ctx.say(
        f"{res.run['completions']} completions from {backend}; she/(he+she) = "
        f"{o.share:.2f} (95% CI {o.low:.2f}-{o.high:.2f}, n={o.n})"
    )
    if wnba is not None:
        ctx.say(
            f"cue 'used to play in the WNBA': share of she {wnba.neutral.share:.2f} -> "
            f"{wnba.cued.share:.2f} (shift {wnba.shift:+.2f}, 95% CI {wnba.low:+.2f} to "
            f"{wnba.high:+.2f})"
        )
    ctx.say(
        "[dim]The demo model writes Shakespeare: these numbers illustrate the mechanics "
        "only; run `probity probe pronouns --model M` on a real model.[/]"
    )
    sec = pronoun_section(ctx.report, res, title=TITLE)
    sec.text(
        f"Backend: {backend}. The embedded demo model is trained on Shakespeare, so these "
        "numbers illustrate how the probe works (prompts, samples, pronoun counting, "
        "Wilson intervals, cue shifts), not how any real model behaves."
    )
    return {
        "backend": backend,
        "skipped": skipped,
        "completions": res.run["completions"],
        "female_share": None if o.n == 0 else round(o.share, 3),
        "labelled": o.n,
        "wnba_shift": None if wnba is None or wnba.shift != wnba.shift else round(wnba.shift, 3),
    }


def _one_thread(fn: Any) -> Any:
    """Run ``fn`` with one torch thread: for a model this small, thread hand-offs cost more
    than they save, and on a busy machine they make generation many times slower."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the demo model needs torch anyway
        return fn()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)
