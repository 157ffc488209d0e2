"""xAPI statements (learning.xapi) and their delivery to a test LRS (a local HTTP server)."""

from __future__ import annotations

import base64
import json
import threading
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
from insights.models import PendingJob
from learning import xapi
from learning.models import LearnerEvent, LessonProgress
from learning.tasks import send_xapi_statements
from skillstudio.jobs import defer
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


@pytest.mark.django_db
def test_statements_reach_the_lrs_in_batches_with_credentials(records, lrs, settings):
    settings.XAPI_BATCH_SIZE = 3
    result = send_xapi_statements.apply(kwargs={"now": NOW.isoformat()}).result
    assert result == {"sent": 7, "batches": 3}
    assert [len(p["body"]) for p in lrs.posts] == [3, 3, 1]
    first = lrs.posts[0]
    assert first["path"] == "/xapi/statements"
    assert first["headers"]["x-experience-api-version"] == "1.0.3"
    assert (
        first["headers"]["authorization"]
        == "Basic " + base64.b64encode(b"skillstudio:s3cret").decode()
    )
    assert len(lrs.stored) == 7


@pytest.mark.django_db
def test_a_503_is_retried_and_a_resend_duplicates_nothing(records, lrs, settings):
    settings.XAPI_BATCH_SIZE = 4
    lrs.fail_next = [503]
    result = send_xapi_statements.apply(kwargs={"now": NOW.isoformat()})
    assert result.successful() and result.result == {"sent": 7, "batches": 2}
    assert len(lrs.posts) == 3  # the refused batch, then both batches again
    # A worker killed after sending re-runs the job: same ids, nothing new at the LRS.
    send_xapi_statements.apply(kwargs={"now": NOW.isoformat()})
    assert len(lrs.stored) == 7 and len(lrs.posts) == 5


@pytest.mark.django_db
def test_a_refusing_lrs_is_not_retried(records, lrs):
    lrs.fail_next = [400]
    with pytest.raises(xapi.LrsRejected):
        xapi.lrs_send(xapi.statements(since=NOW - timedelta(hours=1), until=NOW))
    assert len(lrs.posts) == 1


@pytest.mark.django_db
def test_nothing_is_sent_without_an_endpoint(records, settings):
    settings.XAPI_LRS_ENDPOINT = ""
    assert send_xapi_statements.apply(kwargs={"now": NOW.isoformat()}).result == {
        "sent": 0,
        "batches": 0,
    }


@pytest.mark.django_db
def test_erasure_removes_the_learners_queued_statements(records, learner, other_learner):
    defer("learning.send_xapi_statements", learner_id=learner.pk, now=NOW.isoformat())
    defer("learning.send_xapi_statements", learner_id=other_learner.pk, now=NOW.isoformat())
    privacy.user_erase(user=learner, now=NOW)
    remaining = PendingJob.objects.filter(task_name="learning.send_xapi_statements")
    assert [job.kwargs["learner_id"] for job in remaining] == [other_learner.pk]
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
