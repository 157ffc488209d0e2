"""Dashboard figures carry one definition each, next to the numbers they define."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.analytics import SESSION_GAP, figure_definitions
from learning.events import ingest_events
from learning.services import lesson_complete, lesson_position_update

pytestmark = pytest.mark.django_db


def test_every_summary_figure_has_one_definition_and_the_page_shows_them(client, learner):
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()

    definitions = figure_definitions()
    keys = [figure.key for figure in definitions]
    assert len(keys) == len(set(keys))
    assert {"study_hours", "completion_rate", "pace", "avg_quiz_score"} <= set(keys)
    assert "How are these figures computed?" in html
    for figure in definitions:
        assert f"<dt>{figure.label}</dt>" in html
    # The words come from the constants the computation uses.
    gap = int(SESSION_GAP.total_seconds() // 60)
    assert f"more than {gap} minutes ends a session" in html
    # "Time studied" is the measured time; goal pace speaks of material, not time.
    assert "<dt>Time studied</dt><dd>0 min</dd>" in html
    assert "Study hours" not in html


def test_dashboard_needs_login(client):
    response = client.get(reverse("learning:dashboard"))

    assert response.status_code == 302


def _ten_minutes_on_a_lesson(learner, *, with_events: bool):
    """A lesson studied for ten minutes, ending two minutes ago, then completed: through
    the lesson player's position updates only (the API's PATCH .../position), or with a
    video event each minute."""
    lesson = LessonFactory(module=ModuleFactory(course=CourseFactory()), estimated_minutes=10)
    start = timezone.now() - timedelta(minutes=12)
    if with_events:
        ingest_events(
            learner=learner,
            events=[
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "video_play",
                    "occurred_at": (start + timedelta(minutes=minute)).isoformat(),
                    "lesson_id": lesson.pk,
                    "data": {"position": 60 * minute},
                }
                for minute in range(11)
            ],
            now=start + timedelta(minutes=10),
        )
    else:
        for minute in range(1, 11):
            lesson_position_update(
                learner=learner,
                lesson=lesson,
                position_seconds=60 * minute,
                seconds_spent=60,
                now=start + timedelta(minutes=minute),
            )
    lesson_complete(learner=learner, lesson=lesson, now=start + timedelta(minutes=10))


@pytest.mark.parametrize("with_events", [False, True], ids=["position updates", "events"])
def test_a_lesson_studied_for_ten_minutes_shows_ten_minutes_studied(
    client, learner, other_learner, with_events
):
    """QA walk (issue 13): "Time studied 0 h" after ten minutes on a lesson whose player
    sent positions; and "Completion rate" did not say of what."""
    _ten_minutes_on_a_lesson(learner, with_events=with_events)
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()

    assert "<dt>Time studied</dt><dd>10 min</dd>" in html
    assert "<dt>Started lessons completed</dt><dd>100%</dd>" in html
    assert "Completion rate" not in html
    summary = client.get("/api/v1/ai/dashboard").json()["performance_summary"]
    assert (summary["study_minutes"], summary["study_hours"]) == (10, 0.2)
    # Another learner's figures are their own.
    client.force_login(other_learner)
    assert "<dt>Time studied</dt><dd>0 min</dd>" in (
        client.get(reverse("learning:dashboard")).content.decode()
    )


def test_a_diagnostic_alone_starts_no_study_streak_a_quiz_does(client, learner):
    """QA walk (issue 13): "Streak 1 day" after only the diagnostic. The diagnostic places a
    learner and teaches nothing (STREAK_SKIPS_KIND); answering a quiz is study."""
    from assessments.models import Assessment
    from assessments.tests.factories import AssessmentFactory
    from insights.tests.helpers import quiz_attempt

    now = timezone.now()
    diagnostic = AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC)
    quiz_attempt(learner, at=now - timedelta(minutes=5), score=50, assessment=diagnostic)
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()
    assert "<dt>Study streak</dt><dd>0 days</dd>" in html
    assert client.get("/api/v1/ai/dashboard").json()["performance_summary"]["current_streak"] == 0

    quiz_attempt(learner, at=now - timedelta(minutes=1), score=50)

    html = client.get(reverse("learning:dashboard")).content.decode()
    assert "<dt>Study streak</dt><dd>1 day</dd>" in html
