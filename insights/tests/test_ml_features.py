from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory
from catalog.models import CourseRun
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.ml.features import features_as_of
from learning.models import Enrollment, LessonProgress
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
    # 75 points of grade weight due before T; the third quiz (25) was not handed in.
    assert v["weight_missed"] == 25
    assert v["weight_submitted_share"] == pytest.approx(50 / 75)
    assert v["score_percentile"] == 0.5  # alone in the course: the middle of a cohort of one
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
    # assessments, lesson counts, submissions, events, lesson progress, score percentiles
    with django_assert_max_num_queries(6):
        assert len(features_as_of(pairs=few)) == 1
    with django_assert_max_num_queries(6):
        result = features_as_of(pairs=many)
    assert len(result) == 21
    # A learner with no history: everything due is missed, inactive since enrolling.
    assert result[-1].values["missed"] == 3
    assert result[-1].values["days_since_activity"] == pytest.approx(9.0)
    # Ahead of the 20 newcomers (weighted 0, tied among themselves) in a cohort of 21,
    # half for the tie with itself.
    assert result[0].values["score_percentile"] == pytest.approx(20.5 / 21)
    assert result[-1].values["score_percentile"] == pytest.approx(10 / 21)


@pytest.fixture
def cohort(learner):
    """A course run that started 30 days before T; grades due at T-20 (40 %), T-5 (60 %)
    and T+5 (100 %). As of T: the learner 32 points, Pia 80, Sam and Uma 0; Rex left
    before T (not in the cohort), Val enrolls after T (not yet in it)."""
    course = CourseFactory()
    run = CourseRun.objects.create(course=course, code="R1", starts_on=(T - 30 * DAY).date())
    a1, a2, a3 = (
        AssessmentFactory(course=course, course_run=run, due_at=T + d * DAY, weight=Decimal(w))
        for d, w in ((-20, "40"), (-5, "60"), (5, "100"))
    )

    def member(user, **kwargs):
        return EnrollmentFactory(
            learner=user, course=course, course_run=run, enrolled_at=T - 40 * DAY, **kwargs
        )

    def submit(user, quiz, at, score):
        AssessmentAttemptFactory(
            learner=user, assessment=quiz, started_at=at, submitted_at=at, score=Decimal(score)
        )

    me = member(learner)
    pia, sam, uma, rex, val = (LearnerFactory() for _ in range(5))
    # Pia withdraws ten days after T: at T she is still in the cohort.
    member(pia, status=Enrollment.Status.DROPPED, unregistered_at=T + 10 * DAY)
    member(sam)
    member(uma)
    member(rex, status=Enrollment.Status.DROPPED, unregistered_at=T - 3 * DAY)
    submit(learner, a1, T - 21 * DAY, "80")  # 40 * 0.8 = 32
    submit(pia, a1, T - 21 * DAY, "50")
    submit(pia, a2, T - 6 * DAY, "100")  # 20 + 60 = 80
    submit(sam, a3, T - DAY, "100")  # early, but due after T: no weight due yet
    submit(rex, a1, T - 21 * DAY, "100")
    return {"enrollment": me, "run": run, "quizzes": (a1, a2, a3), "peers": (pia, sam, uma, val)}


@pytest.mark.django_db
def test_score_percentile_ranks_within_the_run_as_it_stood_at_the_cutoff(cohort):
    v = _values(cohort["enrollment"])
    # Ahead of Sam and Uma, behind Pia, half for the tie with itself: (2 + 0.5) / 4.
    assert v["score_percentile"] == pytest.approx(0.625)


@pytest.mark.django_db
def test_later_rows_of_other_learners_do_not_move_the_percentile(cohort, learner):
    enrollment = cohort["enrollment"]
    a1, a2, _a3 = cohort["quizzes"]
    _pia, sam, uma, val = cohort["peers"]
    before = _values(enrollment)

    for user, quiz, score in ((sam, a1, "100"), (uma, a2, "100"), (learner, a2, "100")):
        at = T + DAY
        AssessmentAttemptFactory(
            learner=user, assessment=quiz, started_at=at, submitted_at=at, score=Decimal(score)
        )
    EnrollmentFactory(
        learner=val, course=enrollment.course, course_run=cohort["run"], enrolled_at=T + DAY
    )
    AssessmentAttemptFactory(
        learner=val, assessment=a1, started_at=T + DAY, submitted_at=T + DAY, score=Decimal("99")
    )
    # Sam withdraws after T: at T he was still there.
    Enrollment.objects.filter(learner=sam).update(
        status=Enrollment.Status.DROPPED, unregistered_at=T + 2 * DAY
    )

    assert _values(enrollment) == before
