"""The demo step runs without the embedded model and never writes into the Probity home."""

from __future__ import annotations

from rich.console import Console

from probity.errors import ModelError


class _Ctx:
    def __init__(self, out_dir) -> None:
        from probity.report import Report

        self.out_dir = out_dir
        self.report = Report("t")
        self.console = Console(quiet=True)
        self.quick = True
        self.quiet = True

    def say(self, message: str) -> None:
        pass

    def model(self):
        raise ModelError("no demo model in this test")


def test_demo_step_degrades_to_toy_model(tmp_path, probity_home) -> None:
    from probity.demo import step_watermark

    result = step_watermark.run(_Ctx(tmp_path))
    assert result["watermarked_detected"] and not result["unwatermarked_flagged"]
    assert result["certificate_verified"] and result["tamper_detected"]
    assert result["c2pa"].startswith("verified with the c2pa library: AI-generated=True")
    assert (tmp_path / "watermark-certificate.json").exists()
    assert not (probity_home / "keys").exists() or not any((probity_home / "keys").iterdir())
    assert step_watermark.ORDER == 10
