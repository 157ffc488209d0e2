"""`manage.py seed_demo`: the demo world, and scale data on request."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from catalog.demo_seed import seed_demo, seed_scale
from insights.sim.cohort import COHORT_SIZE, seed_cohort
from skillstudio.data_versions import catalog_changed
from skillstudio.devstack import DEMO_ACCOUNTS

DEMO_LEARNER_EMAIL = next(email for role, email, _ in DEMO_ACCOUNTS if role == "learner")


def non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


class Command(BaseCommand):
    help = (
        "Load the demo world (skills, courses, quizzes, demo accounts, a learner with "
        "history). Idempotent. With --learners/--courses/--events/--answers, also top "
        "scale data up to those numbers using bulk inserts and COPY."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--learners", type=non_negative, default=0, help="scale learners")
        parser.add_argument("--courses", type=non_negative, default=0, help="scale courses")
        parser.add_argument(
            "--events", type=non_negative, default=0, help="events for the new scale learners"
        )
        parser.add_argument(
            "--answers", type=non_negative, default=0, help="quiz answers for new scale learners"
        )
        parser.add_argument(
            "--cohort",
            type=non_negative,
            default=COHORT_SIZE,
            help=f"simulated demo cohort learners ({COHORT_SIZE}; 0 for none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale = {k: options[k] for k in ("learners", "courses", "events", "answers")}
        # Checked before anything is written: a bad option costs nothing.
        if (scale["events"] or scale["answers"]) and not scale["learners"]:
            raise CommandError("--events and --answers are generated for --learners: set it too.")
        now = timezone.now()
        started = time.monotonic()
        summary = seed_demo(now=now)
        # The seed writes catalogue rows directly, not through catalog.services.
        catalog_changed()
        self.stdout.write(f"Demo world: {summary.text()}.")
        cohort = seed_cohort(
            now=now,
            size=options["cohort"],
            demo_learner=User.objects.filter(email=DEMO_LEARNER_EMAIL).first(),
            log=self.stdout.write,
        )
        self.stdout.write(f"Demo cohort: {cohort.text()}.")
        if any(scale.values()):
            try:
                result = seed_scale(now=now, log=self.stdout.write, **scale)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            # A re-seeded database may reuse learner ids that dashboards were cached for.
            catalog_changed()
            self.stdout.write(f"Scale data: {result.text()}.")
        self.stdout.write(f"Finished in {time.monotonic() - started:.1f} s. Demo accounts:")
        for role, email, password in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<10} {email:<28} password: {password}")
