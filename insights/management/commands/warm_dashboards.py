"""Warm learner dashboards by hand: the twin of the ``insights.warm_dashboards`` beat task."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from insights.dashboard import (
    ACTIVE_DAYS,
    CACHE_TTL,
    WARM_CHUNK,
    WarmReport,
    recently_active_learner_ids,
    warm_active_dashboards,
    warm_dashboards,
)


class Command(BaseCommand):
    help = (
        "Compute and cache, in this process, the dashboards of recently active learners (as "
        "the beat task's run does on the workers), of --learner ones, or of --all active "
        f"accounts. Entries live {CACHE_TTL} s."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--learner", type=int, action="append", dest="learners", metavar="ID",
            help="Only this learner (repeatable).",
        )  # fmt: skip
        parser.add_argument(
            "--all", action="store_true", help="Every active account, recently active or not."
        )
        parser.add_argument(
            "--days", type=int, default=ACTIVE_DAYS, help="'Recently active' window in days."
        )
        parser.add_argument("--chunk-size", type=int, default=WARM_CHUNK)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the learners, compute nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["learners"] and options["all"]:
            raise CommandError("Use --learner or --all, not both.")
        now = timezone.now()
        if options["learners"]:
            ids: Iterable[int] = self._checked(options["learners"])
            what = f"{len(options['learners'])} chosen learner(s)"
        elif options["all"]:
            ids = User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
            what = "every active account"
        else:
            ids = recently_active_learner_ids(now=now, days=options["days"])
            what = f"learners active in the last {options['days']} days"
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {sum(1 for _ in ids)} {what} would be warmed.")
            return
        self.stdout.write(f"Warming the dashboards of {what} (now = {now.isoformat()})")
        started = time.perf_counter()

        def progress(report: WarmReport) -> None:
            rate = report.learners / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(
                f"  {report.learners} learners, {report.stored} stored ({rate:.0f}/s)"
            )

        if options["learners"] or options["all"]:
            report = warm_dashboards(
                learner_ids=ids, now=now, chunk_size=options["chunk_size"], on_chunk=progress
            )
        else:
            # In this process, holding the beat's lock: never overlaps a fan-out run.
            report = warm_active_dashboards(
                now=now, days=options["days"], chunk_size=options["chunk_size"], on_chunk=progress
            )
        if report.stopped and not report.learners:
            raise CommandError(f"Nothing warmed: {report.stopped}.")
        self.stdout.write(
            f"{report.learners} learners, {report.stored} dashboards stored, "
            f"{len(report.failed)} failed in {time.perf_counter() - started:.1f} s."
        )
        if report.failed:
            self.stderr.write(f"Failed learners: {', '.join(map(str, report.failed))}")
        if report.stopped:
            raise CommandError(f"Stopped: {report.stopped}.")

    def _checked(self, learner_ids: list[int]) -> list[int]:
        known = set(User.objects.filter(pk__in=learner_ids).values_list("pk", flat=True))
        missing = sorted(set(learner_ids) - known)
        if missing:
            raise CommandError(f"No such learner: {', '.join(map(str, missing))}.")
        return sorted(set(learner_ids))
