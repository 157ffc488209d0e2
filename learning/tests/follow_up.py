"""Run the outbox's deferred jobs in the test process, as a worker would.

Most tests run inside a transaction that never commits, so on-commit sends never fire;
live-server tests commit and send to a broker no worker reads. This runs each job not
yet done through Celery's ``apply`` (the real task, the real JobTask bookkeeping) with
the job's own id.
"""

from __future__ import annotations

from insights.models import PendingJob
from skillstudio.celery import app as celery_app
from skillstudio.jobs import registered_task_names


def run_deferred_jobs() -> list[tuple[str, dict]]:
    """Run every job not yet done once, oldest first; returns (task name, kwargs) of each."""
    registered_task_names()  # imports the task modules
    ran = []
    for job in PendingJob.objects.filter(
        status__in=[PendingJob.Status.PENDING, PendingJob.Status.SENT]
    ).order_by("pk"):
        celery_app.tasks[job.task_name].apply(kwargs=job.kwargs, task_id=str(job.task_id))
        ran.append((job.task_name, job.kwargs))
    return ran
