"""xAPI statements (learning.xapi) and their delivery to a test LRS (a local HTTP server)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import privacy
from assessments.models import AssessmentAttempt
from assessments.services import attempt_submit
from insights.models import PendingJob
from insights.recommendations import recommendation_act
from learning import xapi
from learning.events import ingest_events
from learning.models import LearnerEvent, LessonProgress
from learning.services import lesson_complete
from learning.tasks import send_xapi_statements
from skillstudio.jobs import requeue_failed_jobs
from skillstudio.testing import build_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class FakeLrs:
    """A learning record store we do not own: stores statements by id, can fail on demand."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.stored: dict[str, dict] = {}
        self.fail_next: list[int] = []
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                lrs.posts.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                if lrs.fail_next:
                    self.send_response(lrs.fail_next.pop(0))
                    self.end_headers()
                    return
                for statement in body:
                    lrs.stored.setdefault(statement["id"], statement)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps([s["id"] for s in body]).encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xapi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs(settings) -> Iterator[FakeLrs]:
    server = FakeLrs()
    settings.XAPI_LRS_ENDPOINT = server.url
    settings.XAPI_LRS_USERNAME = "skillstudio"
    settings.XAPI_LRS_PASSWORD = "s3cret"
    settings.XAPI_LRS_TIMEOUT = 5
    yield server
    server.close()


@pytest.fixture
def records(learner, instructor):
    """Alice: five mapped events, one heartbeat, a submitted attempt, a completed lesson."""
    w = build_world(learner=learner, instructor=instructor)
    kinds = [
        LearnerEvent.Type.LESSON_VIEWED,
        LearnerEvent.Type.LESSON_COMPLETED,
        LearnerEvent.Type.VIDEO_PLAY,
        LearnerEvent.Type.QUIZ_STARTED,
        LearnerEvent.Type.RECOMMENDATION_ACCEPTED,
        LearnerEvent.Type.HEARTBEAT,
    ]
    LearnerEvent.objects.bulk_create(
        LearnerEvent(
            event_id=uuid.uuid4(),
            learner=learner,
            occurred_at=NOW - timedelta(minutes=10 - i),
            received_at=NOW - timedelta(minutes=10 - i),
            event_type=kind,
            course_id=w.course.pk,
            lesson_id=w.lesson.pk,
            assessment_id=w.assessment.pk if kind == "quiz_started" else None,
            data={"recommendation_id": w.recommendation.pk},
        )
        for i, kind in enumerate(kinds)
    )
    AssessmentAttempt.objects.filter(pk=w.attempt.pk).update(
        started_at=NOW - timedelta(minutes=5),
        submitted_at=NOW - timedelta(minutes=4),
        score=Decimal("80.00"),
        passed=True,
    )
    LessonProgress.objects.filter(pk=w.progress.pk).update(
        status=LessonProgress.Status.COMPLETED, completed_at=NOW - timedelta(minutes=3)
    )
    return w


@pytest.mark.django_db
def test_every_record_maps_to_a_valid_statement(records, learner):
    statements = list(xapi.statements(since=NOW - timedelta(hours=1), until=NOW))
    assert len(statements) == 7  # 5 events (the heartbeat is left out), attempt, completion
    assert all(xapi.validate(s) == [] for s in statements)
    verbs = [s["verb"]["id"] for s in statements]
    assert verbs == [
        "http://id.tincanapi.com/verb/viewed",
        "http://adlnet.gov/expapi/verbs/completed",
        "https://w3id.org/xapi/video/verbs/played",
        "http://adlnet.gov/expapi/verbs/attempted",
        "http://activitystrea.ms/schema/1.0/accept",
        "http://adlnet.gov/expapi/verbs/evaluated",
        "http://adlnet.gov/expapi/verbs/completed",
    ]
    attempt = statements[5]
    assert attempt["result"] == {
        "completion": True,
        "score": {"scaled": 0.8, "raw": 80.0, "min": 0, "max": 100},
        "success": True,
    }
    assert attempt["object"]["id"].endswith(f"/assessment/{records.assessment.pk}")
    parent = attempt["context"]["contextActivities"]["parent"][0]
    assert parent["id"].endswith(f"/course/{records.course.pk}")
    # Pseudonymous actor, stable ids: the same records give the same statements.
    assert json.dumps(statements).count("alice") == 0
    assert {s["actor"]["account"]["name"] for s in statements} == {
        xapi.actor(learner.pk)["account"]["name"]
    }
    again = list(xapi.statements(since=NOW - timedelta(hours=1), until=NOW))
    assert [s["id"] for s in again] == [s["id"] for s in statements]


def test_validation_names_what_is_wrong():
    assert set(
        xapi.validate({"id": "x", "verb": {"id": "viewed"}, "object": {}, "version": "2.0"})
    ) == {
        "id is not a UUID",
        "actor needs an account with homePage and name",
        "verb needs an IRI id and a display map",
        "object must be an Activity with an IRI id",
        "timestamp is not ISO 8601",
        "version must be 1.0.3",
    }


def queued() -> list[PendingJob]:
    return list(PendingJob.objects.filter(task_name=xapi.SEND_TASK).order_by("pk"))


def run_queued() -> list:
    """What a worker does with each queued xAPI job (its outbox row is marked as it ends)."""
    return [
        send_xapi_statements.apply(kwargs=job.kwargs, task_id=str(job.task_id))
        for job in PendingJob.objects.filter(
            task_name=xapi.SEND_TASK, status=PendingJob.Status.PENDING
        ).order_by("pk")
    ]


def batch(w, *kinds: str) -> list[dict]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "type": kind,
            "occurred_at": (NOW - timedelta(minutes=len(kinds) - i)).isoformat(),
            "lesson_id": w.lesson.pk,
            "course_id": w.course.pk,
            "data": {},
        }
        for i, kind in enumerate(kinds)
    ]


@pytest.fixture
def writes(learner, instructor, lrs):
    """Alice's writes through the services: an events batch, an accepted recommendation
    (of the lesson: accepted before it is completed, which retires the lesson's cards), a
    completed lesson and a submitted quiz; each queues one xAPI job."""
    w = build_world(learner=learner, instructor=instructor)
    stored = ingest_events(
        learner=learner,
        events=batch(w, "lesson_viewed", "video_play", "heartbeat", "video_pause"),
        now=NOW,
    )
    assert stored.stored == 4
    recommendation_act(recommendation=w.recommendation, action="accepted", now=NOW)
    lesson_complete(learner=learner, lesson=w.lesson, now=NOW)
    AssessmentAttempt.objects.filter(pk=w.attempt.pk).update(started_at=NOW - timedelta(minutes=5))
    w.attempt.refresh_from_db()
    right = w.question.choices.get(is_correct=True)
    attempt_submit(attempt=w.attempt, responses={w.question.pk: {"choices": [right.pk]}}, now=NOW)
    return w


@pytest.mark.django_db
def test_each_learner_write_queues_one_job_with_the_record_keys(writes, learner):
    jobs = queued()
    assert [sorted(job.kwargs) for job in jobs] == [
        ["event_ids", "learner_id", "occurred_from", "occurred_to"],
        ["learner_id", "recommendation_ids"],
        ["learner_id", "progress_ids"],
        ["attempt_ids", "learner_id"],
    ]
    assert {job.kwargs["learner_id"] for job in jobs} == {learner.pk}
    assert len(jobs[0].kwargs["event_ids"]) == 3  # the heartbeat is not an xAPI record
    assert jobs[3].kwargs["attempt_ids"] == [writes.attempt.pk]
    # Repeating a write that changes nothing queues nothing more.
    lesson_complete(learner=learner, lesson=writes.lesson, now=NOW)
    recommendation_act(recommendation=writes.recommendation, action="accepted", now=NOW)
    assert len(queued()) == 4


@pytest.mark.django_db
def test_nothing_is_queued_without_an_lrs(learner, instructor, settings):
    settings.XAPI_LRS_ENDPOINT = ""
    w = build_world(learner=learner, instructor=instructor)
    ingest_events(learner=learner, events=batch(w, "lesson_viewed"), now=NOW)
    lesson_complete(learner=learner, lesson=w.lesson, now=NOW)
    assert queued() == []


@pytest.mark.django_db
def test_queued_statements_reach_the_lrs_in_batches_with_credentials(writes, lrs, settings):
    settings.XAPI_BATCH_SIZE = 2
    results = run_queued()
    assert [r.result for r in results] == [
        {"sent": 3, "batches": 2},
        {"sent": 1, "batches": 1},
        {"sent": 1, "batches": 1},
        {"sent": 1, "batches": 1},
    ]
    assert [len(p["body"]) for p in lrs.posts] == [2, 1, 1, 1, 1]
    first = lrs.posts[0]
    assert first["path"] == "/xapi/statements"
    assert first["headers"]["x-experience-api-version"] == "1.0.3"
    assert (
        first["headers"]["authorization"]
        == "Basic " + base64.b64encode(b"skillstudio:s3cret").decode()
    )
    assert all(xapi.validate(s) == [] for s in lrs.stored.values())
    verbs = sorted(s["verb"]["display"]["en-US"] for s in lrs.stored.values())
    assert verbs == ["accepted", "completed", "evaluated", "paused", "played", "viewed"]
    assert {job.status for job in queued()} == {PendingJob.Status.DONE}
    # The statements equal what export_xapi writes for the same records.
    exported = {s["id"] for s in xapi.statements(learner_id=writes.attempt.learner_id)}
    assert set(lrs.stored) <= exported


@pytest.mark.django_db
def test_a_503_is_retried_with_backoff_and_nothing_is_stored_twice(writes, lrs, settings):
    settings.XAPI_BATCH_SIZE = 2
    lrs.fail_next = [503, 503]
    (events_job, *_) = run_queued()
    assert events_job.successful() and events_job.result == {"sent": 3, "batches": 2}
    assert [len(p["body"]) for p in lrs.posts[:4]] == [2, 2, 2, 1]  # refused twice, then sent
    assert len(lrs.stored) == 6
    task = send_xapi_statements
    assert xapi.LrsUnavailable in task.autoretry_for
    assert (task.retry_backoff, task.retry_backoff_max, task.max_retries) == (2, 600, 12)


@pytest.mark.django_db
def test_a_job_rerun_after_a_lost_ack_duplicates_nothing(writes, lrs):
    run_queued()
    stored = dict(lrs.stored)
    posts = len(lrs.posts)
    # The worker died after the LRS took the statements but before the job was marked done:
    # the broker redelivers it and the relay finds it unfinished.
    PendingJob.objects.filter(task_name=xapi.SEND_TASK).update(status=PendingJob.Status.SENT)
    for job in queued():
        send_xapi_statements.apply(kwargs=job.kwargs, task_id=str(job.task_id))
    assert len(lrs.posts) == posts * 2  # sent again…
    assert lrs.stored == stored  # …under the same ids: nothing new at the LRS
    # A job already marked done is not even sent again.
    for job in queued():
        send_xapi_statements.apply(kwargs=job.kwargs, task_id=str(job.task_id))
    assert len(lrs.posts) == posts * 2


@pytest.mark.django_db
def test_an_lrs_down_for_long_leaves_the_job_in_the_outbox_until_it_is_back(writes, lrs, settings):
    up = lrs.url
    settings.XAPI_LRS_ENDPOINT = "http://127.0.0.1:9/xapi"  # nothing listens there
    results = run_queued()
    assert all(r.failed() for r in results)
    assert all(isinstance(r.result, xapi.LrsUnavailable) for r in results)
    jobs = queued()
    assert {job.status for job in jobs} == {PendingJob.Status.FAILED}
    assert "LrsUnavailable" in jobs[0].last_error
    settings.XAPI_LRS_ENDPOINT = up
    assert requeue_failed_jobs() == 4
    assert all(r.successful() for r in run_queued())
    assert len(lrs.stored) == 6


@pytest.mark.django_db
def test_a_learner_write_never_waits_for_a_dead_lrs(learner, instructor, settings):
    # An LRS that accepts connections and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    settings.XAPI_LRS_ENDPOINT = f"http://127.0.0.1:{silent.getsockname()[1]}/xapi"
    settings.XAPI_LRS_TIMEOUT = 30
    try:
        w = build_world(learner=learner, instructor=instructor)
        started = time.monotonic()
        result = ingest_events(learner=learner, events=batch(w, "lesson_viewed"), now=NOW)
        lesson_complete(learner=learner, lesson=w.lesson, now=NOW)
        assert time.monotonic() - started < 5
    finally:
        silent.close()
    assert result.stored == 1
    assert [job.status for job in queued()] == [PendingJob.Status.PENDING] * 2


@pytest.mark.django_db
def test_erasure_removes_the_learners_queued_statements(writes, learner, other_learner, lrs):
    w = writes
    ingest_events(learner=other_learner, events=batch(w, "lesson_viewed"), now=NOW)
    alices = [job.kwargs for job in queued() if job.kwargs["learner_id"] == learner.pk]
    assert len(alices) == 4
    privacy.user_erase(user=learner, now=NOW)
    assert [job.kwargs["learner_id"] for job in queued()] == [other_learner.pk]
    # A job already handed to the broker before the erasure finds nothing left to send:
    # events and recommendations are gone, attempts and progress are the placeholder's.
    for kwargs in alices:
        assert send_xapi_statements.apply(kwargs=kwargs).result == {"sent": 0, "batches": 0}
    run_queued()
    assert len(lrs.stored) == 1
    assert list(xapi.statements(learner_id=learner.pk)) == []


@pytest.mark.django_db
def test_export_xapi_writes_json_lines(records, learner, other_learner):
    out, err = StringIO(), StringIO()
    call_command(
        "export_xapi",
        "--since",
        (NOW - timedelta(hours=1)).isoformat(),
        "--learner",
        str(learner.pk),
        stdout=out,
        stderr=err,
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 7 and all(xapi.validate(s) == [] for s in lines)
    assert "7 statement(s)" in err.getvalue()
    out = StringIO()
    call_command("export_xapi", "--learner", str(other_learner.pk), stdout=out, stderr=err)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("export_xapi", "--since", "yesterday")
    with pytest.raises(CommandError, match="time zone"):
        call_command("export_xapi", "--since", "2026-11-01")


@pytest.mark.django_db
def test_an_ingestion_batch_costs_one_outbox_row_and_one_query(learner, instructor, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = build_world(learner=learner, instructor=instructor)
    settings.XAPI_LRS_ENDPOINT = ""
    with CaptureQueriesContext(connection) as without_lrs:
        ingest_events(learner=learner, events=batch(w, *["video_play"] * 500), now=NOW)
    settings.XAPI_LRS_ENDPOINT = "http://lrs.example/xapi"
    with CaptureQueriesContext(connection) as with_lrs:
        ingest_events(learner=learner, events=batch(w, *["video_play"] * 500), now=NOW)
    # One query (the outbox row) and the transaction it commits in with the events (here a
    # savepoint and its release; BEGIN and COMMIT in a request): without an LRS the insert
    # runs alone, with no transaction of its own.
    assert len(with_lrs) == len(without_lrs) + 3
    assert not [q for q in without_lrs if "SAVEPOINT" in q["sql"]]
    (job,) = queued()
    assert len(job.kwargs["event_ids"]) == 500
