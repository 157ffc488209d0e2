"""The outbox (skillstudio.jobs) against a real Redis, in process; workers are in test_worker.py."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from insights.models import PendingJob
from learning.tasks import maintain_event_partitions
from skillstudio import jobs

RELAY = "skillstudio.relay_pending_jobs"
PARTITIONS = "learning.maintain_event_partitions"


def queued(server) -> list[dict]:
    """Task messages waiting in the default Celery queue: their id, name and kwargs."""
    messages = []
    for raw in server.client().lrange("celery", 0, -1):
        message = json.loads(raw)
        headers = message["headers"]
        body = json.loads(_decode(message["body"]))
        messages.append({"id": headers["id"], "task": headers["task"], "kwargs": body[1]})
    return messages


def _decode(body: str) -> str:
    return base64.b64decode(body).decode()


@pytest.mark.django_db
def test_defer_sends_the_job_after_commit(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        jobs.defer(PARTITIONS, months_ahead=2)
        # Nothing reaches the broker while the caller's transaction is open.
        assert queued(broker) == []

    job = PendingJob.objects.get()
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 1, "")
    assert queued(broker) == [
        {"id": str(job.task_id), "task": PARTITIONS, "kwargs": {"months_ahead": 2}}
    ]


@pytest.mark.django_db
def test_rolled_back_write_leaves_no_job(broker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.defer(RELAY)
        raise RuntimeError("the caller's write failed")

    assert PendingJob.objects.count() == 0
    assert queued(broker) == []


@pytest.mark.django_db
def test_unknown_task_name_is_refused_before_anything_is_stored():
    with pytest.raises(ValueError, match=r"Unknown task 'insights\.no_such_task'"):
        jobs.defer("insights.no_such_task", learner_id=1)

    assert PendingJob.objects.count() == 0


@pytest.mark.django_db
def test_broker_down_keeps_the_job_pending_until_the_relay_sends_it(
    broker, learner, django_capture_on_commit_callbacks
):
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        learner.full_name = "Alice Renamed"
        learner.save()
        jobs.defer(RELAY)

    learner.refresh_from_db()
    assert learner.full_name == "Alice Renamed"
    job = PendingJob.objects.get()
    assert job.status == "pending"
    assert job.send_attempts == 1
    assert "OperationalError" in job.last_error

    still_down = jobs.relay_pending_jobs(now=datetime.now(UTC))
    assert (still_down.sent, still_down.unsent) == (0, 1)

    broker.start()
    report = jobs.relay_pending_jobs(now=datetime.now(UTC))

    job.refresh_from_db()
    assert (report.sent, report.unsent) == (1, 0)
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 3, "")
    assert [m["id"] for m in queued(broker)] == [str(job.task_id)]
    # Sent jobs are not sent again while a worker may still be on them.
    assert jobs.relay_pending_jobs(now=datetime.now(UTC)).sent == 0


@pytest.mark.django_db
def test_relay_resends_a_job_lost_by_the_broker_and_gives_up_after_max_sends(broker):
    now = datetime(2030, 3, 4, 12, tzinfo=UTC)
    lost_at = now - jobs.resend_after() - timedelta(seconds=1)
    recent = PendingJob.objects.create(task_name=RELAY, status="sent", sent_at=now, send_attempts=1)
    lost = PendingJob.objects.create(
        task_name=RELAY, status="sent", sent_at=lost_at, send_attempts=1
    )
    hopeless = PendingJob.objects.create(
        task_name=RELAY, status="sent", sent_at=lost_at, send_attempts=jobs.MAX_SENDS
    )

    report = jobs.relay_pending_jobs(now=now)

    assert (report.sent, report.given_up) == (1, 1)
    assert [m["id"] for m in queued(broker)] == [str(lost.task_id)]
    lost.refresh_from_db()
    hopeless.refresh_from_db()
    recent.refresh_from_db()
    assert (lost.status, lost.send_attempts, lost.sent_at) == ("sent", 2, now)
    assert hopeless.status == "failed"
    assert "without a worker finishing it" in hopeless.last_error
    assert (recent.status, recent.send_attempts) == ("sent", 1)


@pytest.mark.django_db
def test_relay_dry_run_sends_nothing(broker):
    PendingJob.objects.create(task_name=RELAY)

    report = jobs.relay_pending_jobs(now=datetime.now(UTC), dry_run=True)

    assert report.sent == 1
    assert queued(broker) == []
    assert PendingJob.objects.get().status == "pending"


@pytest.mark.django_db
def test_relay_purges_done_jobs_after_a_week(broker):
    now = datetime(2030, 3, 4, 12, tzinfo=UTC)
    old = PendingJob.objects.create(task_name=RELAY, status="done", finished_at=now - timedelta(8))
    fresh = PendingJob.objects.create(
        task_name=RELAY, status="done", finished_at=now - timedelta(6)
    )
    failed = PendingJob.objects.create(
        task_name=RELAY, status="failed", finished_at=now - timedelta(30)
    )

    report = jobs.relay_pending_jobs(now=now)

    assert report.purged == 1
    assert set(PendingJob.objects.values_list("pk", flat=True)) == {fresh.pk, failed.pk}
    assert not PendingJob.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_job_task_marks_its_row_done_and_skips_a_second_delivery():
    job = PendingJob.objects.create(task_name=PARTITIONS, kwargs={"months_ahead": 0})

    first = maintain_event_partitions.apply(kwargs=job.kwargs, task_id=str(job.task_id))
    job.refresh_from_db()
    finished_at = job.finished_at
    second = maintain_event_partitions.apply(kwargs=job.kwargs, task_id=str(job.task_id))

    assert set(first.result) == {"created", "would_create", "expired", "dropped"}
    # The redelivered message found its job done and did not call the function.
    assert second.result is None
    job.refresh_from_db()
    assert (job.status, job.finished_at) == ("done", finished_at)


@pytest.mark.django_db
def test_job_task_records_a_permanent_failure():
    job = PendingJob.objects.create(task_name=PARTITIONS, kwargs={"months_ahead": 99})

    result = maintain_event_partitions.apply(kwargs=job.kwargs, task_id=str(job.task_id))

    assert result.failed()
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.last_error == "ValueError: months_ahead must be between 0 and 24."
