"""Honest progress: a lesson completed well under its estimated time is "skimmed"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.analytics import performance_summary
from learning.models import LessonProgress
from learning.services import lesson_complete, lesson_start, lesson_study_time
from learning.tests.factories import LearnerEventFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def lesson():
    course = CourseFactory(title="Python Basics")
    return LessonFactory(module=ModuleFactory(course=course), title="Loops", estimated_minutes=20)


def test_completing_seconds_after_starting_is_recorded_as_skimmed(learner, lesson):
    lesson_start(learner=learner, lesson=lesson, now=NOW)

    progress = lesson_complete(learner=learner, lesson=lesson, now=NOW + timedelta(seconds=11))

    assert progress.status == LessonProgress.Status.COMPLETED
    assert progress.skimmed is True


def test_completing_after_most_of_the_estimated_time_is_a_full_study(learner, lesson):
    lesson_start(learner=learner, lesson=lesson, now=NOW)

    progress = lesson_complete(learner=learner, lesson=lesson, now=NOW + timedelta(minutes=6))

    assert progress.skimmed is False


def test_first_event_counts_as_opening_the_lesson(learner, lesson):
    LearnerEventFactory(learner=learner, lesson=lesson, occurred_at=NOW - timedelta(minutes=15))

    study = lesson_study_time(learner=learner, lesson=lesson, now=NOW)

    assert study.seconds == 15 * 60
    assert study.skimmed is False


def test_skimmed_counts_half_in_the_completion_rate(learner, lesson):
    other = LessonFactory(module=lesson.module, estimated_minutes=20)
    for item, minutes in ((lesson, 0), (other, 10)):
        lesson_start(learner=learner, lesson=item, now=NOW - timedelta(hours=1))
        lesson_complete(
            learner=learner,
            lesson=item,
            now=NOW - timedelta(hours=1) + timedelta(minutes=minutes, seconds=5),
        )

    summary = performance_summary(learner=learner, now=NOW)

    assert summary.lessons_completed == 2
    assert summary.completion_rate == 0.75  # one full study + half of the skimmed one


def test_web_asks_for_confirmation_before_recording_a_skim(client, learner, lesson):
    client.force_login(learner)
    url = reverse("learning:lesson_complete", args=[lesson.pk])

    asked = client.post(url)

    assert asked.status_code == 200
    assert "Done with “Loops” already?" in asked.content.decode()
    assert "about 20 minutes" in asked.content.decode()
    assert not LessonProgress.objects.filter(learner=learner, status="completed").exists()

    confirmed = client.post(url, {"confirm_skim": "1"})

    assert confirmed.status_code == 302
    progress = LessonProgress.objects.get(learner=learner, lesson=lesson)
    assert progress.status == LessonProgress.Status.COMPLETED and progress.skimmed


def test_api_reports_a_skimmed_completion(as_user, learner, lesson, other_learner, api):
    url = f"/api/v1/learning/lessons/{lesson.pk}/complete"

    assert api.post(url).status_code == 401
    response = as_user(learner).post(url)

    assert response.status_code == 200
    assert response.json()["skimmed"] is True
