"""Create the periodic jobs in django-celery-beat's tables (idempotent).

Operators see and edit them in the admin (Periodic tasks), where the timing is shown in
words computed from the stored schedule (skillstudio.schedules), so descriptions say what
a job does, not when. Re-running keeps their edits; ``--reset`` puts the defaults back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from insights.dashboard import WARM_PERIOD
from skillstudio.schedules import schedule_in_words


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    description: str
    # crontab fields (minute, hour, day_of_week), or None for an interval
    crontab: tuple[str, str, str] | None = None
    every_seconds: int | None = None
    kwargs: dict[str, Any] | None = None


SCHEDULES = (
    Schedule(
        name="Weekly learning path adjustment",
        task="insights.adjust_learning_paths_weekly",
        description="Re-plan every active learner, in chunks.",
        crontab=("0", "3", "1"),
    ),
    Schedule(
        name="Daily event partition maintenance",
        task="learning.maintain_event_partitions",
        description=(
            "Monthly event partitions 3 months ahead. Add "
            '"retention_months" and "drop": true to the kwargs to drop old months.'
        ),
        crontab=("0", "1", "*"),
        kwargs={"months_ahead": 3},
    ),
    Schedule(
        name="Weekly skill model re-fit",
        task="insights.refit_skill_model",
        description="Re-fit the BKT skill model on all answers.",
        crontab=("0", "4", "0"),
    ),
    Schedule(
        name="Nightly account erasures",
        task="accounts.process_due_erasures",
        description=(
            "01:30 UTC: erase the accounts whose grace period is over and delete expired "
            "data exports."
        ),
        crontab=("30", "1", "*"),
    ),
    Schedule(
        name="Nightly dropout risk scoring",
        task="insights.score_dropout_risk",
        description=(
            "Score every active enrollment with the active dropout model and "
            "store each active learner's segment."
        ),
        crontab=("0", "2", "*"),
    ),
    Schedule(
        name="Nightly item analysis",
        task="insights.refresh_item_analysis",
        description="Fit and store the item analysis of every assessment.",
        crontab=("30", "3", "*"),
    ),
    Schedule(
        name="Weekly predictive model training",
        task="insights.train_predictive_models",
        description="Retrain dropout, segments, course and lesson CF models.",
        crontab=("0", "5", "0"),
    ),
    Schedule(
        name="Dashboard warm-up",
        task="insights.warm_dashboards",
        description=(
            "Recently active learners' dashboards computed ahead of their "
            "visits. Entries live twice the period (insights.dashboard.CACHE_TTL)."
        ),
        every_seconds=WARM_PERIOD,
    ),
    Schedule(
        name="Relay pending jobs",
        task="skillstudio.relay_pending_jobs",
        description="Send deferred jobs the broker missed.",
        every_seconds=60,
    ),
)
# Schedules an earlier version created and that are gone: deleted when the command runs.
# (xAPI statements now go through the outbox, one job per learner write.)
RETIRED = ("xAPI statements to the LRS",)


class Command(BaseCommand):
    help = "Create SkillStudio's periodic tasks (django-celery-beat); keeps operators' edits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Restore the default timing and arguments."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for name in RETIRED:
            if PeriodicTask.objects.filter(name=name).delete()[0]:
                self.stdout.write(f"deleted  {name}: retired")
        for schedule in SCHEDULES:
            defaults = {
                "task": schedule.task,
                "description": schedule.description,
                "kwargs": json.dumps(schedule.kwargs or {}),
                **_timing(schedule),
            }
            existing = PeriodicTask.objects.filter(name=schedule.name).first()
            if existing is None:
                task = PeriodicTask.objects.create(name=schedule.name, **defaults)
                self.stdout.write(f"created  {schedule.name}: {schedule_in_words(task)}")
            elif options["reset"]:
                for attr, value in defaults.items():
                    setattr(existing, attr, value)
                existing.enabled = True
                existing.save()
                self.stdout.write(f"reset    {schedule.name}: {schedule_in_words(existing)}")
            else:
                self.stdout.write(f"kept     {schedule.name}: {schedule_in_words(existing)}")


def _timing(schedule: Schedule) -> dict[str, Any]:
    if schedule.crontab is not None:
        minute, hour, day_of_week = schedule.crontab
        fields = {
            "minute": minute,
            "hour": hour,
            "day_of_week": day_of_week,
            "day_of_month": "*",
            "month_of_year": "*",
            "timezone": "UTC",
        }
        # No unique constraint on these tables: reuse any equal row an operator made.
        crontab = CrontabSchedule.objects.filter(**fields).first()
        return {"crontab": crontab or CrontabSchedule.objects.create(**fields), "interval": None}
    fields = {"every": schedule.every_seconds, "period": IntervalSchedule.SECONDS}
    interval = IntervalSchedule.objects.filter(**fields).first()
    return {"interval": interval or IntervalSchedule.objects.create(**fields), "crontab": None}
