"""``python -m probity`` runs the CLI."""

from probity.cli import run

run()
