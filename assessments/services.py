"""Assessment writes: starting and submitting attempts, graded on the server."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from assessments.grading import grade_responses, score_percent
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from assessments.rules import (
    answer_key_problems,
    assessment_publish_problems,
    attempt_start_allowed,
    choice_problems,
)
from assessments.selectors import assessment_is_open, questions_with_key
from skillstudio.data_versions import learners_changed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnerChoice:
    id: int
    text: str


@dataclass(frozen=True)
class LearnerQuestion:
    """A question as a learner sees it before submitting: no key, no explanation."""

    id: int
    order: int
    kind: str
    prompt: str
    points: int
    skill: str
    skill_name: str
    choices: list[LearnerChoice]


def questions_for_learner(*, assessment: Assessment) -> list[LearnerQuestion]:
    """The questions to show while taking an assessment; never exposes is_correct or answers."""
    return [
        LearnerQuestion(
            id=question.pk,
            order=question.order,
            kind=question.kind,
            prompt=question.prompt,
            points=question.points,
            skill=question.skill.slug,
            skill_name=question.skill.name,
            choices=[LearnerChoice(id=c.pk, text=c.text) for c in question.choices.all()]
            if question.has_choices
            else [],
        )
        for question in questions_with_key(assessment=assessment)
    ]


def attempt_start(*, learner, assessment: Assessment, now: datetime) -> AssessmentAttempt:
    """Start an attempt, or return the learner's open one (one open attempt at a time)."""
    if not assessment_is_open(assessment):
        raise ValidationError({"assessment": "This assessment is not open to learners."})
    if not Question.objects.filter(assessment=assessment).exists():
        raise ValidationError({"assessment": "This assessment has no questions yet."})
    if reason := attempt_start_allowed(learner=learner, assessment=assessment, now=now):
        raise ValidationError({"assessment": reason})
    # get_or_create retries the read when a concurrent start wins the partial
    # unique constraint, so a double click yields one attempt.
    attempt, created = AssessmentAttempt.objects.get_or_create(
        learner=learner,
        assessment=assessment,
        submitted_at=None,
        defaults={"started_at": now},
    )
    if created:
        learners_changed([learner.pk])
    return attempt


def _process_skills(*, attempt: AssessmentAttempt, now: datetime) -> None:
    """Feed the attempt to the skill model, without risking the stored answers.

    The answers are committed before this runs; the skill model is idempotent
    per attempt (skills_processed_at), so an attempt it could not process is
    picked up again by `recompute_skills`.
    """
    # Imported here: insights.skills builds on the assessment models (no import cycle).
    from insights.skills import process_attempt

    try:
        with transaction.atomic():
            process_attempt(attempt=attempt, now=now)
    except Exception:
        logger.exception("Skill model failed on attempt %s; answers are kept", attempt.pk)
    attempt.refresh_from_db()


def attempt_submit(
    *, attempt: AssessmentAttempt, responses: dict[int, dict], now: datetime
) -> AssessmentAttempt:
    """Grade and store the answers; a second submit returns the first result unchanged.

    ``responses`` maps question ids to responses (shapes in assessments.grading).
    Questions left out score zero. Raises ValidationError for unknown question
    ids or malformed responses, with nothing stored.
    """
    with transaction.atomic():
        # The row lock serialises concurrent submits: the second one sees
        # submitted_at set and returns without grading again.
        attempt = AssessmentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.is_submitted:
            return attempt
        assessment = attempt.assessment
        graded = grade_responses(
            questions=questions_with_key(assessment=assessment), responses=responses
        )
        submitted_at = max(now, attempt.started_at)
        Answer.objects.bulk_create(
            Answer(
                attempt=attempt,
                question=g.question,
                response=g.response,
                is_correct=g.is_correct,
                points_awarded=g.points_awarded,
                seconds_spent=g.seconds_spent,
                answered_at=submitted_at,
            )
            for g in graded
        )
        attempt.score = score_percent(graded)
        attempt.passed = attempt.score >= assessment.passing_score
        attempt.submitted_at = submitted_at
        attempt.save(update_fields=["score", "passed", "submitted_at", "updated_at"])
        learners_changed([attempt.learner_id])
    _process_skills(attempt=attempt, now=now)
    return attempt


QUESTION_FIELDS = {
    "kind",
    "prompt",
    "skill",
    "difficulty",
    "points",
    "order",
    "explanation",
    "numeric_answer",
    "numeric_tolerance",
    "accepted_answers",
}


def _check_answer_key(*, kind: str, choices: list[dict], question: Question) -> None:
    """The key must make the question gradable (rules shared with the admin)."""
    problems = choice_problems(
        kind=kind, correct_flags=[bool(choice.get("is_correct")) for choice in choices]
    )
    errors: dict[str, list[str]] = {"choices": problems} if problems else {}
    for name, problem in answer_key_problems(
        kind=kind,
        numeric_answer=question.numeric_answer,
        accepted_answers=question.accepted_answers,
    ).items():
        errors[name] = [problem]
    if errors:
        raise ValidationError(errors)


def assessment_check_publishable(*, assessment: Assessment) -> None:
    """Raise ValidationError when learners could not take ``assessment`` as it stands."""
    problems = assessment_publish_problems(assessment=assessment)
    if problems:
        raise ValidationError({"is_published": problems})


def _question_save(*, question: Question, choices: list[dict] | None) -> Question:
    taken = Question.objects.filter(assessment=question.assessment, order=question.order)
    if question.pk:
        taken = taken.exclude(pk=question.pk)
    if taken.exists():
        raise ValidationError({"order": f"Question order {question.order} is already used."})
    current = (
        [{"text": c.text, "is_correct": c.is_correct} for c in question.choices.all()]
        if question.pk and choices is None
        else choices or []
    )
    _check_answer_key(kind=question.kind, choices=current, question=question)
    with transaction.atomic():
        question.save()
        if choices is not None:
            # Choices are replaced as a whole. Stored answers keep their response;
            # an open attempt still holding old choice ids gets a clear 400 on submit.
            question.choices.all().delete()
            Choice.objects.bulk_create(
                Choice(
                    question=question,
                    text=choice["text"],
                    is_correct=bool(choice.get("is_correct")),
                    order=index,
                )
                for index, choice in enumerate(choices, start=1)
            )
    return question


def question_create(
    *, assessment: Assessment, choices: list[dict] | None = None, **fields
) -> Question:
    """Add a question with its answer key (choices as [{"text", "is_correct"}])."""
    unknown = sorted(set(fields) - QUESTION_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown question field(s): {', '.join(unknown)}.")
    if "order" not in fields:
        last = assessment.questions.order_by("-order").values_list("order", flat=True).first()
        fields["order"] = (last or 0) + 1
    return _question_save(question=Question(assessment=assessment, **fields), choices=choices)


def question_update(*, question: Question, choices: list[dict] | None = None, **fields) -> Question:
    """Change a question; ``choices`` (when given) replace the existing ones."""
    unknown = sorted(set(fields) - QUESTION_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown question field(s): {', '.join(unknown)}.")
    for name, value in fields.items():
        setattr(question, name, value)
    return _question_save(question=question, choices=choices)
