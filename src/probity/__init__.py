"""Probity: measure and enforce the responsible use of generative AI.

Engines (``probity.watermark``, ``probity.overlap``, ``probity.citations``,
``probity.fairness``, ``probity.privacy``, ``probity.unlearning``, ``probity.lm``) are pure
libraries; ``probity.guard``, ``probity.curate`` and ``probity.probes`` compose them; the CLI,
the gateway (``probity.serve``) and the reports (``probity.report``) face the outside world.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("probity")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
