from __future__ import annotations

from datetime import timedelta

import pytest

from assessments.models import Assessment
from assessments.tests.factories import AssessmentFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.models import Recommendation
from insights.recommendations import refresh_recommendations
from insights.selectors import struggling_learners
from insights.tests.helpers import NOW, detect_struggle, difficulty_advice, quiz_attempt
from learning.models import LearnerEvent
from learning.tests.factories import (
    EnrollmentFactory,
    LearnerEventFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db


def test_no_signal_no_struggle(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=90)

    result = detect_struggle(learner=learner, now=NOW)
    assert (result.is_struggling, result.reasons, result.signals) == (False, [], [])


@pytest.mark.parametrize(("scores", "flagged"), [((40, 50), True), ((40,), False)])
def test_repeated_failed_attempts(learner, scores, flagged):
    quiz = AssessmentFactory(title="Loops Quiz", passing_score=60)
    for days, score in enumerate(scores, start=1):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=score, assessment=quiz)

    result = detect_struggle(learner=learner, now=NOW)

    assert result.is_struggling is flagged
    if flagged:
        assert result.signals == ["repeated_failures"]
        assert result.reasons == [
            "Failed 'Loops Quiz' 2 times in the last 14 days (best score 50%)"
        ]


@pytest.mark.parametrize(("seconds", "flagged"), [(2400, True), (2399, False)])
def test_time_far_over_the_estimate(learner, seconds, flagged):
    lesson = LessonFactory(title="Decorators", estimated_minutes=20)
    LessonProgressFactory(
        learner=learner,
        lesson=lesson,
        started_at=NOW - timedelta(days=3),
        time_spent_seconds=seconds,
    )
    LearnerEventFactory(learner=learner, lesson=lesson, occurred_at=NOW - timedelta(days=1))

    result = detect_struggle(learner=learner, now=NOW)

    assert result.is_struggling is flagged
    if flagged:
        assert result.signals == ["time_over_estimate"]
        assert result.reasons == ["Spent 40 min on 'Decorators' - 2.0x the estimated 20 min"]


@pytest.mark.parametrize(("pauses", "flagged"), [(4, True), (3, False)])
def test_many_rewinds_and_pauses(learner, pauses, flagged):
    lesson = LessonFactory(title="Closures")
    for i in range(6 + pauses):
        LearnerEventFactory(
            learner=learner,
            lesson=lesson,
            event_type=LearnerEvent.Type.VIDEO_SEEK if i < 6 else LearnerEvent.Type.VIDEO_PAUSE,
            occurred_at=NOW - timedelta(days=2, minutes=i),
        )

    result = detect_struggle(learner=learner, now=NOW)

    assert result.is_struggling is flagged
    if flagged:
        assert result.signals == ["rewinds_pauses"]
        assert result.reasons == [
            "Rewound or paused 'Closures' 10 times in the last 7 days (6 rewinds, 4 pauses)"
        ]


@pytest.mark.parametrize(("last_activity_days", "flagged"), [(None, True), (2, False)])
def test_stalled_progress_after_starting(learner, last_activity_days, flagged):
    lesson = LessonFactory(title="Generators")
    LessonProgressFactory(learner=learner, lesson=lesson, started_at=NOW - timedelta(days=8))
    if last_activity_days:
        LearnerEventFactory(
            learner=learner, lesson=lesson, occurred_at=NOW - timedelta(days=last_activity_days)
        )

    result = detect_struggle(learner=learner, now=NOW)

    assert result.is_struggling is flagged
    if flagged:
        assert result.signals == ["stalled_progress"]
        assert result.reasons == [
            "Started 'Generators' 8 days ago with no activity on it in the last 7 days"
        ]


@pytest.mark.parametrize(
    ("scores", "flagged"),
    [((80, 65, 61), True), ((80, 65, 71), False), ((80, 75, 71), False)],
)
def test_falling_scores(learner, scores, flagged):
    for days, score in zip((3, 2, 1), scores, strict=True):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=score, passed=True)

    result = detect_struggle(learner=learner, now=NOW)

    assert result.is_struggling is flagged
    if flagged:
        assert result.signals == ["falling_scores"]
        assert result.reasons == ["Quiz scores falling: 80% → 65% → 61%"]


def test_lesson_scope_ignores_other_lessons(learner):
    stuck = LessonFactory(title="Generators")
    fine = LessonFactory(title="Lists")
    LessonProgressFactory(learner=learner, lesson=stuck, started_at=NOW - timedelta(days=9))

    assert detect_struggle(learner=learner, now=NOW, lesson=stuck).is_struggling is True
    assert detect_struggle(learner=learner, now=NOW, lesson=fine).is_struggling is False


def test_refresh_stores_struggle_for_the_course_instructor(learner, other_learner):
    course = CourseFactory(title="Python 101")
    stuck = LessonFactory(module=ModuleFactory(course=course, order=1), order=1, title="Generators")
    for person in (learner, other_learner):
        EnrollmentFactory(learner=person, course=course)
    LessonProgressFactory(learner=learner, lesson=stuck, started_at=NOW - timedelta(days=9))

    for person in (learner, other_learner):
        refresh_recommendations(learner=person, now=NOW)

    assert struggling_learners(course=course) == [
        {
            "learner_id": learner.pk,
            "name": "Alice Learner",
            "reasons": [
                "Started 'Generators' 9 days ago with no activity on it in the last 7 days"
            ],
            "checked_at": NOW.isoformat(),
        }
    ]
    assert struggling_learners(course=CourseFactory()) == []
    support = Recommendation.objects.get(learner=learner, kind="support", status="active")
    assert support.reason.startswith("We noticed: Started 'Generators' 9 days ago")


@pytest.mark.parametrize("kind", Assessment.MEASURING_KINDS)
def test_measuring_attempts_are_no_quiz_scores_for_falling_scores_or_failures(learner, kind):
    # Quizzes going well, with a low-scoring measure in between (a diagnostic taken cold,
    # a skill check on a new skill, a course challenge tried early), twice.
    measure = AssessmentFactory(kind=kind, title=f"A {kind}", passing_score=60)
    for days, score in ((6, 85), (4, 88), (2, 90)):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=score, passed=True)
    for days, score in ((5, 30), (1, 20)):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=score, assessment=measure)

    result = detect_struggle(learner=learner, now=NOW)

    # Neither "Quiz scores falling: 88% → 30% → 20%" nor "Failed 'A diagnostic' 2 times".
    assert (result.is_struggling, result.reasons) == (False, [])
    # And the difficulty advice reads the same quiz scores: 87.7% on 3 quizzes.
    advice = difficulty_advice(learner=learner, now=NOW)
    assert (advice.recent_average, advice.change) == (87.7, "increase")


def test_quizzes_still_fall_around_a_good_skill_check(learner):
    check = AssessmentFactory(kind=Assessment.Kind.SKILL_CHECK)
    for days, score in ((4, 80), (3, 65), (1, 61)):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=score, passed=True)
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=95, assessment=check)

    result = detect_struggle(learner=learner, now=NOW)

    assert result.reasons == ["Quiz scores falling: 80% → 65% → 61%"]
