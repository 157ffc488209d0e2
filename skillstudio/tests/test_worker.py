"""Integration tests with real `celery worker` processes, real Redis and PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from insights.models import PendingJob
from skillstudio import jobs
from skillstudio.tests.conftest import wait_for

pytestmark = pytest.mark.worker


def job_status(job: PendingJob) -> str:
    job.refresh_from_db()
    return job.status


def test_deferred_job_is_run_by_a_worker_and_marked_done(workers):
    workers.start()

    jobs.defer("skillstudio.relay_pending_jobs")

    job = PendingJob.objects.get()
    wait_for(lambda: job_status(job) == "done", what="the worker to finish", details=workers.log)
    assert job.finished_at is not None
    assert job.last_error == ""


def test_job_deferred_while_the_broker_is_down_runs_once_it_is_back(workers, capsys):
    workers.broker.stop()

    jobs.defer("skillstudio.relay_pending_jobs")
    job = PendingJob.objects.get()
    assert job_status(job) == "pending"

    workers.broker.start()
    workers.start()
    call_command("relay_jobs")

    assert capsys.readouterr().out.startswith("1 sent, 0 still pending")
    wait_for(lambda: job_status(job) == "done", what="the relayed job", details=workers.log)
