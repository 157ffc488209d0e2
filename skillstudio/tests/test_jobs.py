"""The outbox (skillstudio.jobs) against a real Redis, in process; workers are in test_worker.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, transaction

from accounts.models import User
from insights.models import PendingJob
from learning.tasks import maintain_event_partitions
from skillstudio import jobs
from skillstudio.celery import app as celery_app

RELAY = "skillstudio.relay_pending_jobs"
PARTITIONS = "learning.maintain_event_partitions"


@pytest.mark.django_db
def test_defer_sends_the_job_after_commit(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        jobs.defer(PARTITIONS, months_ahead=2)
        # Nothing reaches the broker while the caller's transaction is open.
        assert broker.queued() == []

    job = PendingJob.objects.get()
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 1, "")
    assert broker.queued() == [
        {"id": str(job.task_id), "task": PARTITIONS, "kwargs": {"months_ahead": 2}}
    ]


@pytest.mark.django_db
def test_a_send_after_commit_costs_one_query_and_a_job_is_sent_once(
    broker, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        jobs.defer(PARTITIONS, months_ahead=2)
    [send] = callbacks

    # One statement claims the job and marks it sent; the row is not read again.
    with django_assert_num_queries(1):
        send()
    job = PendingJob.objects.get()
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 1, "")
    assert job.sent_at is not None
    # Taken already: neither this nor a second call sends it again.
    assert jobs.send_job(job_id=job.pk) is False
    assert [m["id"] for m in broker.queued()] == [str(job.task_id)]


@pytest.mark.django_db
def test_a_refused_send_puts_the_job_back_for_the_relay(broker):
    job = PendingJob.objects.create(task_name=PARTITIONS, kwargs={"months_ahead": 1})
    broker.stop()
    assert jobs.send_job(job_id=job.pk) is False
    job.refresh_from_db()
    assert (job.status, job.sent_at, job.send_attempts) == ("pending", None, 1)
    assert "OperationalError" in job.last_error
    broker.start()
    # Without the row in hand it is read once; sent now.
    assert jobs.send_job(job_id=job.pk) is True
    job.refresh_from_db()
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 2, "")
    assert [m["id"] for m in broker.queued()] == [str(job.task_id)]


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
    assert broker.queued() == []


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
    assert [m["id"] for m in broker.queued()] == [str(job.task_id)]
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
    assert [m["id"] for m in broker.queued()] == [str(lost.task_id)]
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
    assert broker.queued() == []
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


@pytest.mark.django_db
def test_relay_jobs_command_exits_non_zero_while_the_broker_is_down(broker, capsys):
    job = PendingJob.objects.create(task_name=RELAY)
    broker.stop()

    with pytest.raises(CommandError, match="1 job\\(s\\) could not be sent: OperationalError"):
        call_command("relay_jobs")

    broker.start()
    call_command("relay_jobs")

    assert "1 sent, 0 still pending" in capsys.readouterr().out
    assert [m["id"] for m in broker.queued()] == [str(job.task_id)]


@pytest.mark.django_db
def test_relay_jobs_retry_failed_sends_failed_jobs_again(broker, capsys):
    failed = PendingJob.objects.create(
        task_name=RELAY, status="failed", send_attempts=jobs.MAX_SENDS, last_error="Boom"
    )

    call_command("relay_jobs", "--retry-failed", "--dry-run")
    assert "Dry run: 1 failed job(s) to re-queue." in capsys.readouterr().out
    assert broker.queued() == []

    call_command("relay_jobs", "--retry-failed")

    out = capsys.readouterr().out
    assert "1 failed job(s) re-queued." in out
    assert "1 sent" in out
    failed.refresh_from_db()
    assert (failed.status, failed.send_attempts, failed.last_error) == ("sent", 1, "")
    assert [m["id"] for m in broker.queued()] == [str(failed.task_id)]


def test_only_the_fan_out_chunks_wait_in_the_bulk_queue():
    names = {name for name in jobs.registered_task_names() if not name.startswith("celery.")}

    queues = {name: celery_app.amqp.router.route({}, name)["queue"].name for name in names}

    assert {name for name, queue in queues.items() if queue == "bulk"} == {
        "insights.adjust_learner_chunk",
        "insights.warm_dashboard_chunk",
    }
    # The learner follow-ups and every other job stay in the default queue.
    assert {queue for name, queue in queues.items() if "chunk" not in name} == {"celery"}


def test_every_project_task_acks_late_and_retries_transient_errors():
    names = {name for name in jobs.registered_task_names() if not name.startswith("celery.")}

    assert names == {
        "accounts.build_data_export",
        "accounts.process_due_erasures",
        "catalog.index_course",
        "catalog.index_lesson",
        "catalog.study_tip",
        "insights.adjust_learner_chunk",
        "insights.adjust_learning_paths_weekly",
        "insights.email_instructor_message",
        "insights.refit_skill_model",
        "insights.refresh_item_analysis",
        "insights.refresh_recommendations",
        "insights.score_dropout_risk",
        "insights.train_predictive_models",
        "insights.warm_dashboard_chunk",
        "insights.warm_dashboards",
        "learning.maintain_event_partitions",
        "learning.send_xapi_statements",
        "lti.send_score",
        "skillstudio.relay_pending_jobs",
    }
    for name in names:
        task = celery_app.tasks[name]
        assert isinstance(task, jobs.JobTask), name
        assert (task.acks_late, task.reject_on_worker_lost, task.retry_backoff) == (True, True, 2)
        assert OperationalError in task.autoretry_for


@pytest.mark.django_db
def test_for_each_learner_rolls_back_a_failing_learner_and_carries_on(learner, other_learner):
    def rename_then_fail_for_alice(learner_id: int) -> str:
        User.objects.filter(pk=learner_id).update(full_name="Renamed")
        if learner_id == learner.pk:
            raise ValueError("bad data")
        if learner_id == -1:
            raise OperationalError("connection lost")
        return "ok"

    seen = []
    report = jobs.for_each_learner(
        [learner.pk, -1, other_learner.pk],
        rename_then_fail_for_alice,
        on_result=lambda i, result, error: seen.append((i, result, type(error).__name__)),
    )

    assert report.succeeded == [other_learner.pk]
    assert report.failed == {learner.pk: "ValueError: bad data"}
    assert report.transient == [-1]
    assert seen == [
        (learner.pk, None, "ValueError"),
        (-1, None, "OperationalError"),
        (other_learner.pk, "ok", "NoneType"),
    ]
    # Alice's half-done work was rolled back; Bob's stands.
    assert User.objects.get(pk=learner.pk).full_name == "Alice Learner"
    assert User.objects.get(pk=other_learner.pk).full_name == "Renamed"


@pytest.mark.django_db
def test_relay_resends_at_once_what_a_redis_restart_lost(broker):
    sent_before = datetime.now(UTC) - timedelta(seconds=30)
    lost = PendingJob.objects.create(
        task_name=RELAY, status="sent", sent_at=sent_before, send_attempts=1
    )
    broker.stop()
    broker.start()  # no persistence: the queued message is gone
    after_restart = PendingJob.objects.create(
        task_name=RELAY, status="sent", sent_at=datetime.now(UTC), send_attempts=1
    )

    report = jobs.relay_pending_jobs(now=datetime.now(UTC))

    assert report.sent == 1
    assert [m["id"] for m in broker.queued()] == [str(lost.task_id)]
    lost.refresh_from_db()
    after_restart.refresh_from_db()
    assert (lost.status, lost.send_attempts) == ("sent", 2)
    assert after_restart.send_attempts == 1
    # Re-sent once: the next run leaves it to the worker.
    assert jobs.relay_pending_jobs(now=datetime.now(UTC)).sent == 0


def _connections_received(server) -> int:
    return server.client().info("stats")["total_connections_received"]


@pytest.mark.django_db
def test_sends_after_commit_reuse_one_pooled_broker_connection(
    broker, django_capture_on_commit_callbacks
):
    for months in (1, 2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            jobs.defer(PARTITIONS, months_ahead=months)
        if months == 1:
            # The first send opened the pool's connection; count from here.
            before = _connections_received(broker)

    # The second send connected nowhere (the count's own client is the one new connection).
    assert _connections_received(broker) == before + 1
    assert sorted(m["kwargs"]["months_ahead"] for m in broker.queued()) == [1, 2]
    assert set(PendingJob.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_pooled_connection_gone_stale_by_a_broker_restart_still_sends_at_once(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        jobs.defer(PARTITIONS, months_ahead=1)
    broker.stop()
    broker.start()  # the pooled connection's socket is dead now

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        jobs.defer(PARTITIONS, months_ahead=2)

    job = PendingJob.objects.get(kwargs={"months_ahead": 2})
    assert (job.status, job.send_attempts, job.last_error) == ("sent", 1, "")
    assert [m["id"] for m in broker.queued()] == [str(job.task_id)]
