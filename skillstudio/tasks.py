"""Project-level tasks: the outbox relay (see skillstudio.jobs)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from skillstudio import jobs


@shared_task(base=jobs.JobTask, name="skillstudio.relay_pending_jobs")
def relay_pending_jobs() -> str:
    return str(jobs.relay_pending_jobs(now=timezone.now()))
