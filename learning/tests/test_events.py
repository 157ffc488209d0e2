from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from catalog.tests.factories import LessonFactory
from learning.events import ingest_events
from learning.models import LearnerEvent

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def event(**overrides) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "heartbeat",
        "occurred_at": "2026-11-24T11:59:00Z",
        "data": {},
    } | overrides


@pytest.mark.django_db
def test_valid_duplicate_and_invalid_events_are_counted_apart(learner):
    lesson = LessonFactory()
    seen_before = event()
    ingest_events(learner=learner, events=[seen_before], now=NOW)
    repeated = event()

    result = ingest_events(
        learner=learner,
        events=[
            event(type="video_play", lesson_id=lesson.pk, data={"position": 12}),  # 0 stored
            seen_before,  # 1 duplicate of an earlier batch
            repeated,  # 2 stored
            repeated,  # 3 duplicate inside the batch
            event(type="teleport"),  # 4
            event(event_id="not-a-uuid"),  # 5
            event(occurred_at=(NOW + timedelta(minutes=6)).isoformat()),  # 6 future
            event(occurred_at=(NOW + timedelta(minutes=4)).isoformat()),  # 7 within skew
            event(data={"blob": "x" * 5000}),  # 8 too big
            event(lesson_id=10**9),  # 9 unknown lesson
            "not an object",  # 10
            event(occurred_at="2026-11-24T11:00:00"),  # 11 naive
        ],
        now=NOW,
    )

    assert (result.stored, result.duplicates) == (3, 2)
    assert [e["index"] for e in result.errors] == [4, 5, 6, 8, 9, 10, 11]
    reasons = {e["index"]: e["reason"] for e in result.errors}
    assert "Unknown event type 'teleport'" in reasons[4]
    assert "future" in reasons[6]
    assert "4096 bytes" in reasons[8]
    assert "does not exist" in reasons[9]
    assert "time zone" in reasons[11]
    assert LearnerEvent.objects.filter(learner=learner).count() == 4
    stored = LearnerEvent.objects.get(learner=learner, event_type="video_play")
    assert (stored.lesson_id, stored.data, stored.received_at) == (lesson.pk, {"position": 12}, NOW)


@pytest.mark.django_db
def test_batch_over_limit_or_not_a_list_stores_nothing(learner):
    with pytest.raises(ValidationError, match="At most 500"):
        ingest_events(learner=learner, events=[event() for _ in range(501)], now=NOW)
    with pytest.raises(ValidationError, match="JSON list"):
        ingest_events(learner=learner, events={"event_id": "x"}, now=NOW)

    assert not LearnerEvent.objects.exists()


@pytest.mark.django_db
def test_500_events_are_accepted(learner):
    result = ingest_events(learner=learner, events=[event() for _ in range(500)], now=NOW)

    assert result.stored == 500
    assert LearnerEvent.objects.filter(learner=learner).count() == 500


@pytest.mark.django_db
def test_a_batch_is_one_insert_without_a_transaction_of_its_own_unless_xapi_needs_one(
    learner, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insights.models import PendingJob
    from learning.xapi import SEND_TASK

    settings.XAPI_LRS_ENDPOINT = ""
    with CaptureQueriesContext(connection) as plain:
        assert ingest_events(learner=learner, events=[event(), event()], now=NOW).stored == 2
    # The duplicate check and the insert; no savepoint (here) or BEGIN/COMMIT (in a request).
    assert len(plain) == 2
    assert not [q for q in plain if "SAVEPOINT" in q["sql"]]

    # With an LRS the xAPI job's outbox row commits with the events: one transaction.
    settings.XAPI_LRS_ENDPOINT = "http://lrs.example/xapi"
    with CaptureQueriesContext(connection) as sent:
        assert ingest_events(learner=learner, events=[event(type="video_play")], now=NOW).stored
    assert [q["sql"] for q in sent if "SAVEPOINT" in q["sql"]]
    assert PendingJob.objects.filter(task_name=SEND_TASK).count() == 1
    assert LearnerEvent.objects.filter(learner=learner).count() == 3
