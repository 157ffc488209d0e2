"""Run (or re-run) the weekly learning path adjustment by hand: the twin of the weekly job."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from insights import weekly
from insights.weekly import WeeklyResult

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_start(text: str) -> datetime:
    """Monday 00:00 UTC of an ISO week written like 2026-W48."""
    match = WEEK.match(text)
    if not match:
        raise CommandError(f"--week must look like 2026-W48, not {text!r}.")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise CommandError(f"--week {text}: {exc}.") from exc
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Adjust learning paths for every active learner (or --learner ones) for this ISO week "
        "or --week. Idempotent per learner and week; one failing learner never stops the rest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--learner", type=int, action="append", dest="learners", metavar="ID",
            help="Only this learner (repeatable).",
        )  # fmt: skip
        parser.add_argument("--week", help="ISO week like 2026-W48; its Monday 00:00 UTC is 'now'.")
        parser.add_argument("--chunk-size", type=int, default=200)
        parser.add_argument(
            "--dry-run", action="store_true", help="Show the decisions, write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = week_start(options["week"]) if options["week"] else timezone.now()
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if options["learners"]:
            chunks = [self._checked(options["learners"])]
        else:
            chunks = weekly.active_learner_ids(now=now, chunk_size=options["chunk_size"])
        verb = "Dry run for" if options["dry_run"] else "Adjusting"
        self.stdout.write(f"{verb} week {weekly.iso_week(now)} (now = {now.isoformat()})")
        totals = {"adjusted": 0, "skipped": 0}
        failed: dict[int, str] = {}

        def report(learner_id: int, result: WeeklyResult | None, error: Exception | None) -> None:
            if error is not None:
                self.stderr.write(f"  learner {learner_id}: FAILED {error}")
                return
            totals["skipped" if result.skipped else "adjusted"] += 1
            if options["verbosity"] >= 2:
                self.stdout.write(f"  learner {learner_id}: {describe(result)}")

        seen = 0
        for number, learner_ids in enumerate(chunks, start=1):
            batch = weekly.adjust_chunk(
                learner_ids=learner_ids, now=now, dry_run=options["dry_run"], on_result=report
            )
            failed |= batch.failed | dict.fromkeys(batch.transient, "transient error")
            seen += len(learner_ids)
            self.stdout.write(f"chunk {number}: {len(learner_ids)} learners ({seen} so far)")
        self.stdout.write(
            f"{seen} learners: {totals['adjusted']} adjusted, "
            f"{totals['skipped']} already adjusted this week, {len(failed)} failed."
        )
        if failed:
            ids = ", ".join(str(i) for i in sorted(failed))
            raise CommandError(f"{len(failed)} learner(s) failed: {ids}. Re-run to retry them.")

    def _checked(self, learner_ids: list[int]) -> list[int]:
        found = set(
            User.objects.filter(pk__in=learner_ids, role=User.Role.LEARNER).values_list(
                "pk", flat=True
            )
        )
        missing = [i for i in learner_ids if i not in found]
        if missing:
            raise CommandError(f"No learner with id {', '.join(map(str, missing))}.")
        return list(dict.fromkeys(learner_ids))


def describe(result: WeeklyResult) -> str:
    if result.skipped:
        return f"already adjusted for {result.iso_week}"
    kinds = ", ".join(a["kind"] for a in result.adjustments) or "no changes"
    if result.dry_run:
        return f"would apply: {kinds}"
    return (
        f"{len(result.snapshot_ids)} new path version(s), "
        f"{result.active_recommendations} active recommendations; {kinds}"
    )
