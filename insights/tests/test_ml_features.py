from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.ml.features import features_as_of
from learning.models import LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    LearnerEventFactory,
    LessonProgressFactory,
)

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def history(learner):
    """A self-paced learner 30 days into a course, with rows before and around T."""
    course = CourseFactory()
    module = ModuleFactory(course=course)
    lessons = [LessonFactory(module=module) for _ in range(3)]
    enrollment = EnrollmentFactory(learner=learner, course=course, enrolled_at=T - 30 * DAY)
    due = [T - 20 * DAY, T - 10 * DAY, T - 5 * DAY, T + 5 * DAY]
    quizzes = [
        AssessmentFactory(course=course, due_at=d, weight=Decimal(w))
        for d, w in zip(due, ("20", "30", "25", "25"), strict=True)
    ]
    submit = [(quizzes[0], T - 21 * DAY, "80"), (quizzes[1], T - 8 * DAY, "50")]  # 2nd is late
    for quiz, at, score in submit:
        AssessmentAttemptFactory(
            learner=learner, assessment=quiz, started_at=at, submitted_at=at, score=Decimal(score)
        )
    for days_ago in (2, 3, 15, 18, 20, 25):  # 2 in the last 14 days, 4 in the 14 before
        LearnerEventFactory(learner=learner, course_id=course.id, occurred_at=T - days_ago * DAY)
    LessonProgressFactory(
        learner=learner,
        lesson=lessons[0],
        status=LessonProgress.Status.COMPLETED,
        started_at=T - 16 * DAY,
        completed_at=T - 15 * DAY,
    )
    in_progress = LessonProgressFactory(learner=learner, lesson=lessons[1], started_at=T - DAY)
    return {
        "enrollment": enrollment,
        "quizzes": quizzes,
        "lessons": lessons,
        "in_progress": in_progress,
    }


def _values(enrollment) -> dict[str, float]:
    (features,) = features_as_of(pairs=[(enrollment, T)])
    return features.values


@pytest.mark.django_db
def test_features_count_only_what_happened_before_the_cutoff(history):
    v = _values(history["enrollment"])
    assert v["assessments_due"] == 3  # the 4th is due after T
    assert v["submitted"] == 2
    assert v["missed"] == 1
    assert v["missed_share"] == pytest.approx(1 / 3)
    assert v["missed_last3"] == 1
    assert v["late"] == 1
    assert v["mean_score"] == 65
    assert v["min_score"] == 50
    assert v["weighted_score"] == pytest.approx(20 * 0.8 + 30 * 0.5)
    assert v["days_since_activity"] == pytest.approx(1.0)  # lesson started a day before T
    assert v["lessons_completed_share"] == pytest.approx(1 / 3)
    assert v["events_recent"] == 2
    assert v["events_change"] == pytest.approx(-0.5)
    assert v["days_since_start"] == pytest.approx(30.0)


@pytest.mark.django_db
def test_rows_dated_at_or_after_the_cutoff_change_nothing(history, learner):
    enrollment, quizzes, lessons = history["enrollment"], history["quizzes"], history["lessons"]
    before = _values(enrollment)

    # The missed quiz handed in just after T, the future quiz early, a retake with 100 %.
    for quiz, at in ((quizzes[2], T + timedelta(hours=1)), (quizzes[3], T + 2 * DAY)):
        AssessmentAttemptFactory(
            learner=learner, assessment=quiz, started_at=at, submitted_at=at, score=Decimal("95")
        )
    AssessmentAttemptFactory(
        learner=learner,
        assessment=quizzes[1],
        started_at=T + DAY,
        submitted_at=T + DAY,
        score=Decimal("100"),
    )
    for at in (T, T + DAY, T + 3 * DAY):
        LearnerEventFactory(learner=learner, course_id=enrollment.course_id, occurred_at=at)
    progress = history["in_progress"]
    progress.status = LessonProgress.Status.COMPLETED
    progress.completed_at = T + DAY
    progress.save()
    LessonProgressFactory(learner=learner, lesson=lessons[2], started_at=T + 2 * DAY)

    assert _values(enrollment) == before


@pytest.mark.django_db
def test_feature_queries_do_not_grow_with_enrollments(django_assert_max_num_queries, history):
    course = history["enrollment"].course
    few = [(history["enrollment"], T)]
    many = few + [(EnrollmentFactory(course=course, enrolled_at=T - 9 * DAY), T) for _ in range(20)]
    # assessments, lesson counts, submissions, events, lesson progress
    with django_assert_max_num_queries(5):
        assert len(features_as_of(pairs=few)) == 1
    with django_assert_max_num_queries(5):
        result = features_as_of(pairs=many)
    assert len(result) == 21
    # A learner with no history: everything due is missed, inactive since enrolling.
    assert result[-1].values["missed"] == 3
    assert result[-1].values["days_since_activity"] == pytest.approx(9.0)
