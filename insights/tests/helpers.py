"""Builders shared by the insights tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from assessments.models import Answer, AssessmentAttempt, Question
from assessments.tests.factories import AssessmentFactory
from insights.tests.factories import LearnerSkillStateFactory

# A Wednesday afternoon; every test injects it (or a time derived from it) as "now".
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def quiz_attempt(
    learner,
    *,
    at: datetime,
    skill=None,
    correct: int = 0,
    total: int = 0,
    score: float | None = None,
    assessment=None,
    passed: bool | None = None,
) -> AssessmentAttempt:
    """A submitted attempt with `total` answers on `skill`, the first `correct` right.

    The score defaults to the share of correct answers; questions and answers are bulk
    inserted so tests can build long histories cheaply.
    """
    assessment = assessment or AssessmentFactory()
    if score is None:
        score = 100 * correct / total
    attempt = AssessmentAttempt.objects.create(
        learner=learner,
        assessment=assessment,
        started_at=at - timedelta(minutes=10),
        submitted_at=at,
        score=Decimal(str(round(score, 2))),
        passed=passed if passed is not None else score >= assessment.passing_score,
    )
    if total:
        first = (
            assessment.questions.order_by("-order").values_list("order", flat=True).first()
        ) or 0
        questions = Question.objects.bulk_create(
            Question(
                assessment=assessment, prompt=f"Q{first + i}", skill=skill, order=first + i + 1
            )
            for i in range(total)
        )
        Answer.objects.bulk_create(
            Answer(
                attempt=attempt,
                question=q,
                response={"text": "an answer"},
                is_correct=i < correct,
                answered_at=at,
            )
            for i, q in enumerate(questions)
        )
    return attempt


# One-learner forms of the set-based engine functions, for tests that look at one learner.


def complete(learner, *lessons, at: datetime = NOW - timedelta(days=2), skimmed: bool = False):
    """The learner completed (or, with ``skimmed``, skimmed) each lesson at ``at``."""
    from learning.models import LessonProgress
    from learning.tests.factories import LessonProgressFactory

    for lesson in lessons:
        LessonProgressFactory(
            learner=learner,
            lesson=lesson,
            status=LessonProgress.Status.COMPLETED,
            started_at=at - timedelta(days=1),
            completed_at=at,
            skimmed=skimmed,
        )


def next_lessons(*, learner, now: datetime, limit: int = 3):
    from insights.recommendations import next_lessons_for

    return next_lessons_for(learner_ids=[learner.pk], now=now, limit=limit)[learner.pk]


def revision_lessons(*, learner, now: datetime, limit: int = 5):
    from insights.recommendations import revision_lessons_for

    return revision_lessons_for(learners=[learner], now=now, limit=limit)[learner.pk]


def course_recommendations(*, learner, now: datetime, limit: int = 3):
    from insights.recommendations import course_recommendations_for

    return course_recommendations_for(learner_ids=[learner.pk], now=now, limit=limit)[learner.pk]


def difficulty_advice(*, learner, now: datetime):
    from insights.recommendations import difficulty_advice_for

    return difficulty_advice_for(learners=[learner], now=now)[learner.pk]


def detect_struggle(*, learner, now: datetime, lesson=None):
    from insights.struggle import detect_struggle_for

    return detect_struggle_for(learner_ids=[learner.pk], now=now, lesson=lesson)[learner.pk]


def dashboard_insights(*, learner, now: datetime) -> dict:
    """The AI insights block of the learner's dashboard (what production computes)."""
    from insights.dashboard import learner_dashboard

    return learner_dashboard(learner=learner, now=now)["ai_insights"]


def mastered_then_faded(*, learner, skill, days: int = 65):
    """Level 10, mastered on 6 right answers, then ``days`` without practice (65: two
    review intervals, two states down to familiar)."""
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        level=10,
        mastery=0.95,
        evidence_count=6,
        correct_count=6,
        distinct_questions=6,
        last_practiced_at=timezone.now() - timedelta(days=days),
    )
