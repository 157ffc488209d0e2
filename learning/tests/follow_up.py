"""Run the outbox's deferred jobs in the test process, as a worker would.

Tests run inside a transaction that never commits, so on-commit sends never fire; this
runs each pending job's task through Celery's ``apply`` (the real task, the real
JobTask bookkeeping) with the job's own id.
"""

from __future__ import annotations

from insights.models import PendingJob
from skillstudio.celery import app as celery_app
from skillstudio.jobs import registered_task_names


def run_deferred_jobs() -> list[tuple[str, dict]]:
    """Run every pending job once, oldest first; returns (task name, kwargs) of each."""
    registered_task_names()  # imports the task modules
    ran = []
    for job in PendingJob.objects.filter(status=PendingJob.Status.PENDING).order_by("pk"):
        celery_app.tasks[job.task_name].apply(kwargs=job.kwargs, task_id=str(job.task_id))
        ran.append((job.task_name, job.kwargs))
    return ran
