"""``probity doctor``: what this installation can do, without importing heavy packages.

Package versions come from installed metadata (``importlib.metadata``), so the report is fast
and never fails: anything it cannot determine is reported as such.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from importlib.util import find_spec
from typing import Any

from probity import __version__
from probity.errors import install_hint
from probity.home import ENV_VAR, home

#: Distribution name -> (extra that provides it, what Probity uses it for).
ENGINES: dict[str, tuple[str, str]] = {
    "numpy": ("core", "vectorised hashing and statistics"),
    "scipy": ("core", "p-values and tests"),
    "pandas": ("core", "tables for audits"),
    "pyarrow": ("core", "Parquet input and output"),
    "scikit-learn": ("core", "tabular models, SISA ensembles"),
    "fairlearn": ("core", "fairness mitigation"),
    "alt-profanity-check": ("core", "embedded toxicity model"),
    "presidio-analyzer": ("core", "PII recognisers"),
    "rapidfuzz": ("core", "fuzzy citation matching"),
    "cryptography": ("core", "Ed25519 certificates"),
    "torch": ("hf", "local language models"),
    "transformers": ("hf", "local language models and watermark processors"),
    "tokenizers": ("hf", "tokenisers"),
    "fastapi": ("server", "the gateway"),
    "uvicorn": ("server", "the gateway's HTTP server"),
    "ray": ("ray", "distributed curation and SISA"),
    "opacus": ("privacy", "differentially private torch training"),
}


@dataclass(frozen=True)
class DoctorReport:
    """Versions, the Probity home and what works offline. ``to_dict`` is ``--json``'s shape.

    ``home`` is the bare path; ``home_from_env`` says whether ``$PROBITY_HOME`` chose it.
    """

    probity: str
    python: str
    platform: str
    home: str
    home_from_env: bool
    home_writable: bool
    packages: dict[str, dict[str, Any]]
    offline: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probity": self.probity,
            "python": self.python,
            "platform": self.platform,
            "home": self.home,
            "home_from_env": self.home_from_env,
            "home_writable": self.home_writable,
            "packages": self.packages,
            "offline": self.offline,
            "notes": self.notes,
        }


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken installation must not break the doctor
        return None


def _home_writable() -> bool:
    try:
        h = home()
        h.mkdir(parents=True, exist_ok=True)
        probe = h / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        return True
    except OSError:
        return False


def _spacy_models() -> list[str]:
    names = []
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"] or ""
        except Exception:
            continue
        if name.replace("_", "-").startswith(("en-core-web", "en-core-sci")):
            names.append(name)
    return sorted(names)


def collect() -> DoctorReport:
    """Gather the report. Never raises."""
    from probity.lm.embedded import demo_model_path

    packages = {
        name: {"version": _version(name), "extra": extra, "used_for": use}
        for name, (extra, use) in ENGINES.items()
    }
    notes: list[str] = []
    missing_extras = sorted(
        {v["extra"] for v in packages.values() if v["version"] is None and v["extra"] != "core"}
    )
    for extra in missing_extras:
        notes.append(f"optional extra '{extra}' is not installed; {install_hint(extra)}")
    try:
        demo = demo_model_path()
        demo_ok = (demo / "config.json").exists() and any(demo.glob("*.safetensors"))
    except Exception:
        demo, demo_ok = None, False
    offline = {
        "demo_model": str(demo) if demo else None,
        "demo_model_present": demo_ok,
        "toxicity_model": _version("alt-profanity-check") is not None,
        "pii_patterns": _version("presidio-analyzer") is not None,
        "spacy_models": _spacy_models(),
        "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0"),
        "citation_db": str(home() / "citations.db"),
        "citation_db_present": (home() / "citations.db").exists(),
        "hf_cache_present": bool(find_spec("huggingface_hub"))
        and os.path.isdir(os.path.expanduser(os.environ.get("HF_HOME", "~/.cache/huggingface"))),
    }
    if not demo_ok:
        notes.append("the embedded demo model is missing; reinstall probity")
    return DoctorReport(
        probity=__version__,
        python=sys.version.split()[0],
        platform=f"{platform.system()} {platform.machine()}",
        home=str(home()),
        home_from_env=bool(os.environ.get(ENV_VAR)),
        home_writable=_home_writable(),
        packages=packages,
        offline=offline,
        notes=notes,
    )
