"""Learning tasks: event partition maintenance (learning.partitions), xAPI delivery."""

from __future__ import annotations

import logging

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
    name=xapi.SEND_TASK,
    autoretry_for=(*TRANSIENT_ERRORS, xapi.LrsUnavailable),
    # 2, 4, 8 … seconds, at most 10 minutes apart (under the broker's visibility timeout):
    # about 45 minutes of retries, then the job is failed in the outbox and
    # `manage.py relay_jobs --retry-failed` sends it again; its records are still there.
    retry_backoff_max=600,
    max_retries=12,
)
def send_xapi_statements(
    learner_id: int,
    event_ids: list[str] | None = None,
    occurred_from: str | None = None,
    occurred_to: str | None = None,
    attempt_ids: list[int] | None = None,
    progress_ids: list[int] | None = None,
    recommendation_ids: list[int] | None = None,
) -> dict[str, int]:
    """One write's statements (``xapi.xapi_queue``) to the LRS, in batches.

    Built from the records when the job runs; a retry after a 503 or a killed worker sends
    the same statement ids again, which the LRS stores once.
    """
    report = xapi.lrs_send(
        xapi.record_statements(
            learner_id=learner_id,
            event_ids=event_ids or (),
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            attempt_ids=attempt_ids or (),
            progress_ids=progress_ids or (),
            recommendation_ids=recommendation_ids or (),
        )
    )
    logger.info("xAPI: %d statement(s) in %d batch(es)", report.sent, report.batches)
    return {"sent": report.sent, "batches": report.batches}
