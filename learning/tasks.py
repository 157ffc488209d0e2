"""Learning tasks: event partition maintenance (learning.partitions)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from learning import partitions
from skillstudio.jobs import JobTask

logger = logging.getLogger(__name__)


@shared_task(base=JobTask, name="learning.maintain_event_partitions")
def maintain_event_partitions(
    months_ahead: int = 3, retention_months: int | None = None, drop: bool = False
) -> dict[str, object]:
    """Daily: partitions ahead of time; retention only when the schedule's kwargs say drop."""
    report = partitions.maintain_partitions(
        now=timezone.now(),
        months_ahead=months_ahead,
        retention_months=retention_months,
        drop=drop,
        progress=logger.info,
    )
    return report.as_dict()
