"""Learning tasks: event partition maintenance (learning.partitions)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from learning import partitions, xapi
from skillstudio.jobs import TRANSIENT_ERRORS, JobTask

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


@shared_task(
    base=JobTask,
    name="learning.send_xapi_statements",
    autoretry_for=(*TRANSIENT_ERRORS, xapi.LrsUnavailable),
)
def send_xapi_statements(
    now: str | None = None, window_minutes: int = 20, learner_id: int | None = None
) -> dict[str, int]:
    """Every 10 minutes: the statements of the last ``window_minutes`` to the LRS, in batches.

    The window overlaps the previous run so nothing falls between two runs; statement ids
    make the overlap (and any retry after a 503 or a killed worker) a no-op at the LRS.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    report = xapi.lrs_send(
        xapi.statements(
            since=moment - timedelta(minutes=window_minutes), until=moment, learner_id=learner_id
        )
    )
    logger.info("xAPI: %d statement(s) in %d batch(es)", report.sent, report.batches)
    return {"sent": report.sent, "batches": report.batches}
