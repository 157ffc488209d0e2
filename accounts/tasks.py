"""Accounts tasks: data exports and due erasures (accounts.privacy). Thin wrappers."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from accounts import privacy
from skillstudio.jobs import JobTask

logger = logging.getLogger(__name__)


def _moment(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now()


@shared_task(base=JobTask, name=privacy.BUILD_EXPORT_TASK)
def build_data_export(export_id: int, now: str | None = None) -> str | None:
    """Build one learner's export ZIP; a re-delivery finds it built and does nothing."""
    export = privacy.data_export_build(export_id=export_id, now=_moment(now))
    return export.status if export is not None else None


@shared_task(base=JobTask, name="accounts.process_due_erasures")
def process_due_erasures(now: str | None = None) -> dict[str, int]:
    """Nightly: erase accounts past their grace period; delete expired exports."""
    moment = _moment(now)
    erased = privacy.erasures_process_due(now=moment)
    purged = privacy.data_exports_purge(now=moment)
    logger.info("Erased %d account(s), purged %d expired export(s)", len(erased), purged)
    return {"erased": len(erased), "exports_purged": purged}
