"""Replay learners' submitted attempts through the active skill model."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import LearnerProfile, User
from insights import skills


class Command(BaseCommand):
    help = (
        "Rebuild skill states, levels and attempt breakdowns by replaying submitted attempts "
        "(after a new skill model version, or to repair). One learner or all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learner", type=int, help="Only this learner (user id).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Replay and report level changes, then roll back.",
        )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        dry_run = options["dry_run"]
        learners = User.objects.filter(assessment_attempts__submitted_at__isnull=False)
        if options["learner"] is not None:
            if not User.objects.filter(pk=options["learner"]).exists():
                raise CommandError(f"No user with id {options['learner']}.")
            learners = learners.filter(pk=options["learner"])
        learner_ids = list(learners.distinct().order_by("pk").values_list("pk", flat=True))
        total = len(learner_ids)
        failed: list[int] = []
        for position, learner_id in enumerate(learner_ids, start=1):
            # One learner's bad data must not stop the others: report it and go on.
            try:
                replayed, changes = self._recompute(learner_id, now=now, dry_run=dry_run)
            except Exception as exc:
                failed.append(learner_id)
                self.stderr.write(f"[{position}/{total}] learner {learner_id}: failed: {exc!r}")
                continue
            self.stdout.write(
                f"[{position}/{total}] learner {learner_id}: {replayed} attempts replayed; "
                f"{changes or 'no level changes'}"
            )
        verb = "would be recomputed (dry run, nothing saved)" if dry_run else "recomputed"
        self.stdout.write(f"{total - len(failed)} of {total} learners {verb}.")
        if failed:
            raise CommandError(f"{len(failed)} learners failed: {', '.join(map(str, failed))}.")

    def _recompute(self, learner_id: int, *, now: datetime, dry_run: bool) -> tuple[int, str]:
        with transaction.atomic():
            learner = User.objects.get(pk=learner_id)
            before = self._levels(learner_id)
            replayed = skills.recompute_learner_skills(learner=learner, now=now)
            after = self._levels(learner_id)
            if dry_run:
                transaction.set_rollback(True)
        changed = sorted(set(before) | set(after))
        changes = ", ".join(
            f"{slug} {before.get(slug, '-')}→{after.get(slug, '-')}"
            for slug in changed
            if before.get(slug) != after.get(slug)
        )
        return replayed, changes

    def _levels(self, learner_id: int) -> dict[str, int]:
        profile = LearnerProfile.objects.filter(user_id=learner_id).first()
        return dict(profile.skill_levels) if profile else {}
