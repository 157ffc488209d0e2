"""`manage.py train_models [--name dropout]`: fit models and store them as registry versions."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights.ml.training import TRAINERS, train_model


class Command(BaseCommand):
    help = "Train models from the platform's data and activate the new versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name",
            choices=sorted(TRAINERS),
            action="append",
            help="Model to train (repeatable; default: all).",
        )
        parser.add_argument(
            "--no-activate",
            action="store_true",
            help="Store the new versions without making them active.",
        )

    def handle(self, *args, name: list[str] | None, no_activate: bool, **options) -> None:
        now = timezone.now()
        failures = []
        for model_name in name or sorted(TRAINERS):
            try:
                version = train_model(name=model_name, now=now, activate=not no_activate)
            except ValueError as exc:
                failures.append(model_name)
                self.stderr.write(f"{model_name}: not trained: {exc}")
                continue
            self.stdout.write(
                f"{model_name}: stored v{version.version}"
                f"{' (active)' if version.is_active else ''}, metrics {version.metrics}"
            )
        if failures:
            raise CommandError(f"Could not train: {', '.join(failures)}.")
