"""`manage.py score_dropout_risk`: the nightly dropout scoring, run by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights.ml.dropout import score_active_enrollments


class Command(BaseCommand):
    help = "Score every active enrollment with the active dropout model; support high risks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Score without writing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        summary = score_active_enrollments(now=timezone.now(), dry_run=dry_run)
        if summary.model_version is None:
            raise CommandError("No active dropout model: run `manage.py train_models` first.")
        self.stdout.write(
            f"{'Would score' if dry_run else 'Scored'} {summary.scored} active enrollments "
            f"with dropout v{summary.model_version}: {summary.high} high risk, "
            f"{summary.support_recommendations} new support recommendations."
        )
