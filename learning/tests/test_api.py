from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Course
from catalog.tests.factories import LessonFactory, ModuleFactory, SkillFactory
from insights.models import PendingJob
from learning.models import Enrollment, LearnerEvent


@pytest.mark.django_db
def test_goal_round_trip(as_user, learner):
    SkillFactory(slug="python")
    SkillFactory(slug="sql")
    api = as_user(learner)

    created = api.post(
        "/api/v1/learning/goals/",
        {"title": "Backend", "target_levels": {"python": 7}, "weekly_hours": 5},
        format="json",
    )
    goal_id = created.json()["id"]
    updated = api.patch(
        f"/api/v1/learning/goals/{goal_id}/",
        {"target_levels": {"sql": 6}, "status": "achieved"},
        format="json",
    )

    assert created.status_code == 201
    assert updated.json()["target_levels"] == {"sql": 6}
    assert updated.json()["status"] == "achieved"
    bad = api.post(
        "/api/v1/learning/goals/",
        {"title": "X", "target_levels": {"cobol": 3}, "weekly_hours": 5},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"target_levels": ["Unknown skill(s): cobol."]}


@pytest.mark.django_db
def test_enroll_progress_and_unenroll(as_user, learner):
    module = ModuleFactory()
    lessons = [LessonFactory(module=module, order=i) for i in (1, 2)]
    api = as_user(learner)

    enrolled = api.post(
        "/api/v1/learning/enrollments/", {"course": module.course_id}, format="json"
    ).json()
    api.post(f"/api/v1/learning/lessons/{lessons[0].pk}/complete")
    position = api.post(
        f"/api/v1/learning/lessons/{lessons[1].pk}/position",
        {"position_seconds": 90, "seconds_spent": 45},
        format="json",
    ).json()

    assert (
        api.get(f"/api/v1/learning/enrollments/{enrolled['id']}/").json()["progress_percent"]
        == "50.00"
    )
    assert (position["status"], position["time_spent_seconds"]) == ("in_progress", 45)
    # The enrollment and the completion each queued the learner's follow-up
    # (recommendations, struggle check) in the outbox; the position update did not.
    assert (
        list(PendingJob.objects.order_by("pk").values_list("task_name", "kwargs"))
        == [("insights.refresh_recommendations", {"learner_id": learner.pk})] * 2
    )
    assert api.delete(f"/api/v1/learning/enrollments/{enrolled['id']}/").status_code == 204
    assert Enrollment.objects.get(pk=enrolled["id"]).status == Enrollment.Status.DROPPED


@pytest.mark.django_db
def test_draft_course_cannot_be_joined_or_studied(as_user, learner):
    lesson = LessonFactory(module__course__status=Course.Status.DRAFT)
    api = as_user(learner)

    enroll = api.post(
        "/api/v1/learning/enrollments/", {"course": lesson.module.course_id}, format="json"
    )

    assert enroll.status_code == 400
    assert api.post(f"/api/v1/learning/lessons/{lesson.pk}/start").status_code == 404


def _event(**overrides) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "video_play",
        "occurred_at": timezone.now().isoformat(),
        "data": {"position": 3},
    } | overrides


@pytest.mark.django_db
def test_event_batch_mixes_valid_duplicate_and_invalid(as_user, learner):
    api = as_user(learner)
    first = _event()
    api.post("/api/v1/learning/events", {"events": [first]}, format="json")
    future = (timezone.now() + timedelta(hours=1)).isoformat()

    response = api.post(
        "/api/v1/learning/events",
        {"events": [_event(), first, _event(type="dance"), _event(occurred_at=future), _event()]},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (5, 2, 1)
    assert [(e["index"], e["reason"].split()[0]) for e in body["errors"]] == [
        (2, "Unknown"),
        (3, "occurred_at"),
    ]
    assert LearnerEvent.objects.filter(learner=learner).count() == 3


@pytest.mark.django_db
def test_event_batch_over_500_or_malformed_stores_nothing(as_user, learner):
    api = as_user(learner)

    too_many = api.post(
        "/api/v1/learning/events", {"events": [_event() for _ in range(501)]}, format="json"
    )
    not_json = api.post("/api/v1/learning/events", "{not json", content_type="application/json")
    not_a_list = api.post("/api/v1/learning/events", {"events": {"a": 1}}, format="json")
    bare_list = api.post(
        "/api/v1/learning/events", json.dumps([_event()]), content_type="application/json"
    )

    assert [r.status_code for r in (too_many, not_json, not_a_list, bare_list)] == [400] * 4
    assert "no more than 500" in too_many.json()["error"]["fields"]["events"][0]
    assert not_json.json()["error"]["code"] == "parse_error"
    assert not LearnerEvent.objects.exists()


@pytest.mark.django_db
def test_events_of_one_learner_are_not_duplicates_of_anothers(as_user, learner, other_learner):
    event = _event()
    as_user(other_learner).post("/api/v1/learning/events", {"events": [event]}, format="json")

    body = (
        as_user(learner)
        .post(
            "/api/v1/learning/events",
            {"events": [event | {"occurred_at": timezone.now().isoformat()}]},
            format="json",
        )
        .json()
    )

    assert (body["stored"], body["duplicates"]) == (1, 0)
