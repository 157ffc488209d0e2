"""`manage.py assign_segments`: the nightly segment refresh, run by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insights.ml.segments import assign_active_learners


class Command(BaseCommand):
    help = (
        "Store the current segment of every learner with an active enrollment on their "
        "profile (used by the insights messages and the instructors' admin)."
    )

    def handle(self, *args, **options) -> None:
        run = assign_active_learners(now=timezone.now())
        if run.model_version is None:
            raise CommandError(
                "No active segments model: run `manage.py train_models --name segments` first."
            )
        self.stdout.write(
            f"Stored segments v{run.model_version} for {run.learners} learners "
            "with an active enrollment."
        )
