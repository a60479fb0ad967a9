"""Demo step: what this installation can do, and the embedded demo model writing a line."""

from __future__ import annotations

from typing import Any

ORDER = 0
TITLE = "Setup: the installation and the embedded demo model"


def run(ctx: Any) -> dict[str, Any]:
    from probity.doctor import collect
    from probity.lm import GenerationParams

    doc = collect()
    missing = [n for n, p in doc.packages.items() if p["version"] is None]
    ctx.say(f"Probity {doc.probity} on Python {doc.python}; home {doc.home}")
    ctx.say("optional engines missing: " + (", ".join(missing) if missing else "none"))
    model = ctx.model()
    params = GenerationParams(max_new_tokens=40, temperature=0.8, seed=7)
    prompt = "ROMEO:\n"
    text = model.generate([prompt], params)[0].text
    ctx.say(f"The embedded demo model ({model.name}, offline) continues [italic]{prompt!r}[/]:")
    ctx.say(f"[dim]{text.strip()}[/]")
    sec = ctx.report.section(TITLE)
    sec.facts(
        {
            "Probity": doc.probity,
            "Python": doc.python,
            "home": doc.home,
            "missing optional engines": ", ".join(missing) or "none",
        }
    )
    sec.text(f"The embedded demo model continues the prompt {prompt!r}:")
    sec.code(prompt + text)
    return {"missing_engines": missing, "sample": text}
