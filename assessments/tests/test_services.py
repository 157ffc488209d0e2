from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assessments.models import Answer, AssessmentAttempt
from assessments.selectors import attempt_review
from assessments.services import attempt_start, attempt_submit, questions_for_learner
from assessments.tests.factories import (
    AssessmentFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
)
from catalog.models import Course
from catalog.tests.factories import CourseFactory
from insights.models import PendingJob
from skillstudio.jobs import LEARNER_FOLLOW_UP

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def quiz():
    assessment = AssessmentFactory(passing_score=50)
    question = QuestionFactory(assessment=assessment, order=1)
    right = ChoiceFactory(question=question, is_correct=True, text="Right")
    wrong = ChoiceFactory(question=question, text="Wrong")
    numeric = NumericQuestionFactory(assessment=assessment, order=2, points=3)
    return assessment, question, right, wrong, numeric


@pytest.mark.django_db
def test_start_returns_the_open_attempt(learner, quiz):
    assessment = quiz[0]

    first = attempt_start(learner=learner, assessment=assessment, now=NOW)
    second = attempt_start(learner=learner, assessment=assessment, now=NOW + timedelta(minutes=1))

    assert first.pk == second.pk
    assert second.started_at == NOW


@pytest.mark.django_db
def test_unpublished_assessment_or_draft_course_cannot_be_started(learner):
    hidden = AssessmentFactory(is_published=False)
    QuestionFactory(assessment=hidden)
    in_draft = AssessmentFactory(course=CourseFactory(status=Course.Status.DRAFT))
    QuestionFactory(assessment=in_draft)

    for assessment in (hidden, in_draft):
        with pytest.raises(ValidationError, match="not open"):
            attempt_start(learner=learner, assessment=assessment, now=NOW)


@pytest.mark.django_db
def test_submit_grades_stores_answers_and_is_not_repeated(learner, quiz):
    assessment, question, right, wrong, numeric = quiz
    attempt = attempt_start(learner=learner, assessment=assessment, now=NOW)

    submitted = attempt_submit(
        attempt=attempt,
        responses={question.pk: {"choices": [wrong.pk]}, numeric.pk: {"value": 3.14}},
        now=NOW + timedelta(minutes=5),
    )
    # A double submit with other answers does not re-grade.
    again = attempt_submit(
        attempt=attempt, responses={question.pk: {"choices": [right.pk]}}, now=NOW
    )

    assert submitted.score == Decimal("75.00")  # 3 of 4 points
    assert submitted.passed is True
    assert again.score == Decimal("75.00")
    assert again.submitted_at == NOW + timedelta(minutes=5)
    assert Answer.objects.filter(attempt=attempt).count() == 2
    # The skill model consumed the attempt: one skill per question here (factory skills).
    assert {(b["questions"], b["correct"]) for b in again.skill_breakdown.values()} == {
        (1, 0),
        (1, 1),
    }
    assert again.skills_processed_at is not None
    review = attempt_review(attempt=again)
    assert [(r.is_correct, r.correct_answer) for r in review] == [
        (False, "Right"),
        (True, "3.14 ± 0.01"),
    ]


@pytest.mark.django_db
def test_malformed_submit_stores_nothing(learner, quiz):
    assessment, question, *_ = quiz
    attempt = attempt_start(learner=learner, assessment=assessment, now=NOW)

    with pytest.raises(ValidationError):
        attempt_submit(attempt=attempt, responses={question.pk: {"choices": "x"}}, now=NOW)

    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert not Answer.objects.exists()
    assert AssessmentAttempt.objects.count() == 1


@pytest.mark.django_db
def test_learner_questions_hide_the_key(quiz):
    assessment, question, _, _, numeric = quiz

    shown = questions_for_learner(assessment=assessment)

    assert [(q.id, [c.text for c in q.choices]) for q in shown] == [
        (question.pk, ["Right", "Wrong"]),
        (numeric.pk, []),
    ]
    assert not any(hasattr(c, "is_correct") for q in shown for c in q.choices)
    assert not hasattr(shown[1], "numeric_answer")


@pytest.mark.django_db
def test_a_graded_attempt_defers_the_learners_follow_up_once(learner, quiz):
    assessment, question, right, *_ = quiz
    attempt = attempt_start(learner=learner, assessment=assessment, now=NOW)
    assert not PendingJob.objects.exists()  # starting changes nothing to study

    for _ in range(2):  # a double submit is not graded (nor followed up) twice
        attempt_submit(attempt=attempt, responses={question.pk: {"choices": [right.pk]}}, now=NOW)

    assert list(PendingJob.objects.values_list("task_name", "kwargs")) == [
        (LEARNER_FOLLOW_UP, {"learner_id": learner.pk})
    ]
