"""Honest progress: a lesson completed well under its estimated time is "skimmed"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.analytics import performance_summary
from learning.models import Enrollment, LessonProgress
from learning.services import (
    enrollment_drop,
    lesson_complete,
    lesson_start,
    lesson_study_time,
)
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


def test_an_enrolled_learners_completion_reads_its_rows_in_one_statement_and_keeps_the_rules(
    learner, lesson, django_assert_max_num_queries
):
    # Enrolled (then dropped), the lesson opened by an event: the completion reads the
    # enrollment, the progress row (created here) and the first event in one statement,
    # re-activates the dropped enrollment, and judges the skim from that first event.
    lesson_start(learner=learner, lesson=LessonFactory(module=lesson.module), now=NOW)
    enrollment = Enrollment.objects.get(learner=learner)
    enrollment_drop(enrollment=enrollment, now=NOW)
    LearnerEventFactory(learner=learner, lesson=lesson, occurred_at=NOW - timedelta(minutes=15))

    # The lock graph (2: no memo inside a transaction) and facts (1), the test's savepoint
    # (2), the rows (1), the enrollment re-activated, the row saved, cards retired, the
    # counts, the enrollment saved, the outbox row: 12 (17 with the rows read one by one).
    with django_assert_max_num_queries(12):
        progress = lesson_complete(learner=learner, lesson=lesson, now=NOW)

    stored = LessonProgress.objects.get(learner=learner, lesson=lesson)
    assert progress.pk == stored.pk and progress.status == stored.status == "completed"
    assert progress.skimmed is stored.skimmed is False  # opened 15 of its 20 minutes ago
    assert (stored.started_at, stored.completed_at) == (NOW, NOW)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE and enrollment.enrolled_at == NOW
    assert enrollment.progress_percent == 50

    # Its row existing and completed: one row still, nothing changes, no new enrollment.
    again = lesson_complete(learner=learner, lesson=lesson, now=NOW + timedelta(hours=1))
    assert (again.pk, again.completed_at) == (stored.pk, NOW)
    assert LessonProgress.objects.filter(learner=learner, lesson=lesson).count() == 1
    assert Enrollment.objects.filter(learner=learner).count() == 1


def test_a_learner_not_enrolled_is_enrolled_by_a_completion(learner, lesson):
    progress = lesson_complete(learner=learner, lesson=lesson, now=NOW)

    assert progress.status == LessonProgress.Status.COMPLETED and progress.skimmed is True
    enrollment = Enrollment.objects.get(learner=learner)
    assert enrollment.status == Enrollment.Status.COMPLETED and enrollment.progress_percent == 100
