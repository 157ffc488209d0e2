"""Assessment writes: authoring (assessments, questions and their answer keys) and taking
them (attempts, graded on the server).

Authoring follows catalog.services: ``<entity>_<action>(*, ..., now)`` validates, writes in
one transaction and moves the catalogue data version on; the admin and the API only
translate. The gradability rules themselves live in assessments.rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from assessments.grading import grade_responses, score_percent
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from assessments.rules import (
    answer_key_problems,
    assessment_publish_problems,
    attempt_start_allowed,
    choice_problems,
    lesson_course_problem,
)
from assessments.selectors import assessment_is_open, questions_with_key
from skillstudio.data_versions import catalog_changed, learners_changed
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer

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

    Runs in a savepoint after the answers are stored, so a failing skill model rolls
    back only its own writes; the skill model is idempotent per attempt
    (skills_processed_at), so an attempt it could not process is picked up again by
    `recompute_skills`.
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
    ids or malformed responses, with nothing stored. A newly graded attempt defers the
    learner's follow-up (struggle check, fresh recommendations) in the same transaction,
    committed after the skill model has seen the answers, so the follow-up reads the new
    levels. A diagnostic is what makes a new learner's recommendations worth computing.
    """
    with transaction.atomic():
        attempt, graded = _grade(attempt=attempt, responses=responses, now=now)
        if graded:
            _process_skills(attempt=attempt, now=now)
            defer(LEARNER_FOLLOW_UP, learner_id=attempt.learner_id)
    return attempt


def _grade(
    *, attempt: AssessmentAttempt, responses: dict[int, dict], now: datetime
) -> tuple[AssessmentAttempt, bool]:
    """Store the graded answers (in the caller's transaction); False if already submitted."""
    # The row lock serialises concurrent submits: the second one sees
    # submitted_at set and returns without grading again.
    attempt = AssessmentAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.is_submitted:
        return attempt, False
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
    return attempt, True


# ---------------------------------------------------------------- assessments

ASSESSMENT_FIELDS = frozenset(
    {
        "title",
        "kind",
        "description",
        "course",
        "lesson",
        "passing_score",
        "time_limit_minutes",
        "due_at",
        "weight",
    }
)


def _set_fields(instance: Any, *, allowed: frozenset[str], fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        # A caller's mistake, not user input: doors pass known fields only.
        raise TypeError(f"Unknown {type(instance).__name__} field(s): {', '.join(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)


def _assessment_save(assessment: Assessment) -> Assessment:
    problem = lesson_course_problem(course=assessment.course, lesson=assessment.lesson)
    if problem:
        raise ValidationError({"lesson": [problem]})
    assessment.save()
    catalog_changed()
    return assessment


@transaction.atomic
def assessment_create(
    *, owner: Any, now: datetime, is_published: bool = False, **fields: Any
) -> Assessment:
    """A new assessment owned by ``owner``; ``is_published`` publishes it at once
    (``assessment_publish``: refused while learners could not be graded on it)."""
    assessment = Assessment(owner=owner, is_published=False)
    _set_fields(assessment, allowed=ASSESSMENT_FIELDS, fields=fields)
    _assessment_save(assessment)
    if is_published:
        assessment_publish(assessment=assessment, now=now)
    return assessment


@transaction.atomic
def assessment_update(
    *,
    assessment: Assessment,
    now: datetime,
    owner: Any = None,
    is_published: bool | None = None,
    **fields: Any,
) -> Assessment:
    """Change an assessment; ``is_published`` True / False publishes / unpublishes it."""
    _set_fields(assessment, allowed=ASSESSMENT_FIELDS, fields=fields)
    if owner is not None:
        assessment.owner = owner
    _assessment_save(assessment)
    if is_published is True:
        assessment_publish(assessment=assessment, now=now)
    elif is_published is False:
        assessment_unpublish(assessment=assessment, now=now)
    return assessment


def assessment_check_publishable(*, assessment: Assessment) -> None:
    """Raise ValidationError when learners could not take ``assessment`` as it stands."""
    problems = assessment_publish_problems(assessment=assessment)
    if problems:
        raise ValidationError({"is_published": problems})


@transaction.atomic
def assessment_publish(*, assessment: Assessment, now: datetime) -> bool:
    """Open ``assessment`` to learners; False if it already was.

    Raises ValidationError({"is_published": [...]}) naming every question learners could
    not be graded on (checked against the stored questions, under a row lock).
    """
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.is_published:
        assessment.is_published = True
        return False
    assessment_check_publishable(assessment=locked)
    Assessment.objects.filter(pk=locked.pk).update(is_published=True, updated_at=now)
    assessment.is_published = True
    catalog_changed()
    return True


@transaction.atomic
def assessment_unpublish(*, assessment: Assessment, now: datetime) -> bool:
    """Hide ``assessment`` from learners again; False if it was not published."""
    changed = Assessment.objects.filter(pk=assessment.pk, is_published=True).update(
        is_published=False, updated_at=now
    )
    assessment.is_published = False
    if changed:
        catalog_changed()
    return bool(changed)


def assessments_publish(
    *, assessments: QuerySet[Assessment], now: datetime
) -> tuple[int, dict[Assessment, list[str]]]:
    """Publish every ready draft among ``assessments``.

    Returns how many were published and, per refused assessment, why (the problems of
    ``assessment_publish``); the ready ones are published even when others are refused.
    """
    published, refused = 0, {}
    for assessment in assessments.filter(is_published=False).order_by("title", "pk"):
        try:
            with transaction.atomic():
                published += assessment_publish(assessment=assessment, now=now)
        except ValidationError as error:
            refused[assessment] = error.message_dict.get("is_published", error.messages)
    return published, refused


def assessments_unpublish(*, assessments: QuerySet[Assessment], now: datetime) -> int:
    """Unpublish the published ones among ``assessments``; returns how many changed."""
    with transaction.atomic():
        changed = assessments.filter(is_published=True).update(is_published=False, updated_at=now)
        if changed:
            catalog_changed()
    return changed


def assessment_delete_blocker(*, assessment: Assessment) -> str | None:
    """Why ``assessment`` cannot be deleted (learner attempts on it), or None."""
    attempts = assessment.attempts.count()
    if not attempts:
        return None
    return (
        f"“{assessment.title}”: {attempts} learner attempt(s); unpublish it instead of deleting it."
    )


@transaction.atomic
def assessment_delete(*, assessment: Assessment, now: datetime) -> None:
    blocker = assessment_delete_blocker(assessment=assessment)
    if blocker:
        raise ValidationError(blocker, code="protected")
    assessment.delete()
    catalog_changed()


# ---------------------------------------------------------------- questions

QUESTION_FIELDS = frozenset(
    {
        "kind",
        "prompt",
        "skill",
        "difficulty",
        "points",
        "partial_credit",
        "order",
        "explanation",
        "numeric_answer",
        "numeric_tolerance",
        "accepted_answers",
    }
)


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


def _choice_rows(choices: list[dict]) -> list[tuple[str, bool]]:
    return [(choice["text"], bool(choice.get("is_correct"))) for choice in choices]


def _question_save(
    *, question: Question, choices: list[dict] | None, require_answer_key: bool
) -> Question:
    taken = Question.objects.filter(assessment=question.assessment, order=question.order)
    if question.pk:
        taken = taken.exclude(pk=question.pk)
    if taken.exists():
        raise ValidationError({"order": [f"Question order {question.order} is already used."]})
    stored = (
        [{"text": c.text, "is_correct": c.is_correct} for c in question.choices.order_by("order")]
        if question.pk
        else []
    )
    if require_answer_key:
        _check_answer_key(
            kind=question.kind, choices=stored if choices is None else choices, question=question
        )
    question.save()
    if choices is not None and _choice_rows(choices) != _choice_rows(stored):
        # Choices are replaced as a whole, and only when they changed: stored answers
        # keep their response; an open attempt still holding old choice ids gets a
        # clear 400 on submit.
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
    catalog_changed()
    return question


@transaction.atomic
def question_create(
    *,
    assessment: Assessment,
    now: datetime,
    choices: list[dict] | None = None,
    require_answer_key: bool = True,
    **fields: Any,
) -> Question:
    """Add a question with its answer key (choices as [{"text", "is_correct"}]).

    ``require_answer_key=False`` lets an author save a question before its key (the
    admin's question rows inside an assessment); publishing the assessment still
    refuses questions learners could not be graded on.
    """
    unknown = sorted(set(fields) - QUESTION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown Question field(s): {', '.join(unknown)}")
    if fields.get("order") is None:
        last = assessment.questions.order_by("-order").values_list("order", flat=True).first()
        fields["order"] = (last or 0) + 1
    return _question_save(
        question=Question(assessment=assessment, **fields),
        choices=choices,
        require_answer_key=require_answer_key,
    )


@transaction.atomic
def question_update(
    *,
    question: Question,
    now: datetime,
    choices: list[dict] | None = None,
    require_answer_key: bool = True,
    **fields: Any,
) -> Question:
    """Change a question; ``choices`` (when given) replace the existing ones."""
    _set_fields(question, allowed=QUESTION_FIELDS, fields=fields)
    return _question_save(question=question, choices=choices, require_answer_key=require_answer_key)


def question_delete_blocker(*, question: Question) -> str | None:
    """Why ``question`` cannot be deleted (learner answers to it), or None."""
    answers = question.answers.count()
    if not answers:
        return None
    return (
        f"Question {question.order} of “{question.assessment.title}”: {answers} learner "
        "answer(s); edit it instead of deleting it."
    )


@transaction.atomic
def question_delete(*, question: Question, now: datetime) -> None:
    blocker = question_delete_blocker(question=question)
    if blocker:
        raise ValidationError(blocker, code="protected")
    question.delete()
    catalog_changed()
