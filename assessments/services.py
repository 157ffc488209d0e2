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
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from assessments.grading import grade_responses, score_percent
from assessments.importers import FORMATS, parse
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from assessments.rules import (
    answer_key_problems,
    assessment_publish_problems,
    attempt_start_allowed,
    choice_problems,
    lesson_course_problem,
    runs_adaptively,
)
from assessments.selectors import assessment_is_open, questions_with_key
from catalog.models import Course, Skill
from learning import xapi
from lti.grades import lti_score_queue
from skillstudio.data_versions import QUIZ, catalog_changed, learners_changed
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
    return [learner_question(question) for question in questions_with_key(assessment=assessment)]


def learner_question(question: Question) -> LearnerQuestion:
    """One question without its key (choices prefetched or loaded here)."""
    return LearnerQuestion(
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


@dataclass(frozen=True)
class AdaptiveState:
    """An adaptive attempt as its learner sees it: progress per skill and the question asked."""

    progress: Any  # insights.diagnostic.AdaptiveProgress
    question: LearnerQuestion | None


def attempt_adaptive_state(*, attempt: AssessmentAttempt) -> AdaptiveState | None:
    """None for an attempt answered all at once."""
    if not attempt.is_adaptive:
        return None
    from insights.diagnostic import adaptive_progress

    return AdaptiveState(
        progress=adaptive_progress(attempt=attempt),
        question=current_question_for_learner(attempt=attempt),
    )


def current_question_for_learner(*, attempt: AssessmentAttempt) -> LearnerQuestion | None:
    """The question an open adaptive attempt is asking, without its key."""
    if attempt.is_submitted or attempt.current_question_id is None:
        return None
    question = (
        Question.objects.filter(pk=attempt.current_question_id)
        .select_related("skill")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("order", "id")))
        .first()
    )
    return None if question is None else learner_question(question)


def attempt_start(*, learner, assessment: Assessment, now: datetime) -> AssessmentAttempt:
    """Start an attempt, or return the learner's open one (one open attempt at a time).

    On an adaptive assessment (``rules.runs_adaptively``) the attempt asks question by
    question: see ``attempt_answer``.
    """
    if not assessment_is_open(assessment):
        raise ValidationError({"assessment": "This assessment is not open to learners."})
    adaptive = runs_adaptively(assessment)
    if not adaptive and not Question.objects.filter(assessment=assessment).exists():
        raise ValidationError({"assessment": "This assessment has no questions yet."})
    if reason := attempt_start_allowed(learner=learner, assessment=assessment, now=now):
        raise ValidationError({"assessment": reason})
    if adaptive:
        return _adaptive_start(learner=learner, assessment=assessment, now=now)
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


# ---------------------------------------------------------------- adaptive attempts


def _adaptive_start(*, learner, assessment: Assessment, now: datetime) -> AssessmentAttempt:
    # Imported here: insights builds on the assessment models (no import cycle).
    from insights.diagnostic import adaptive_progress, adaptive_skill_ids, question_bank

    with transaction.atomic():
        open_attempt = AssessmentAttempt.objects.filter(
            learner=learner, assessment=assessment, submitted_at=None
        ).first()
        if open_attempt is not None:
            return open_attempt
        skill_ids = adaptive_skill_ids(assessment=assessment, learner_id=learner.pk, now=now)
        bank = question_bank(skill_ids=skill_ids, learner_id=learner.pk)
        # A skill without a single question cannot be measured: left out from the start.
        skill_ids = [skill_id for skill_id in skill_ids if bank[skill_id]]
        if not skill_ids:
            raise ValidationError(
                {"assessment": "There are no questions on these skills yet: nothing to measure."}
            )
        attempt, created = AssessmentAttempt.objects.get_or_create(
            learner=learner,
            assessment=assessment,
            submitted_at=None,
            defaults={"started_at": now, "adaptive_skills": skill_ids},
        )
        if created:
            progress = adaptive_progress(attempt=attempt)
            attempt.current_question_id = progress.next_item.question_id
            attempt.save(update_fields=["current_question", "updated_at"])
            learners_changed([learner.pk])
    return attempt


def _generated_assessment(
    *, external_id: str, kind: str, title: str, description: str, **fields: Any
) -> Assessment:
    """The platform's own skill check / course challenge row, created on first use."""
    assessment, created = Assessment.objects.get_or_create(
        external_id=external_id,
        defaults={
            "kind": kind,
            "title": title,
            "description": description,
            "is_published": True,
            "is_adaptive": True,
            "passing_score": 0,
            "owner": None,
            **fields,
        },
    )
    if created:
        catalog_changed()
    return assessment


def skill_check_start(*, learner, skill: Skill, now: datetime) -> AssessmentAttempt:
    """Start (or resume) a short adaptive check of one skill; any time, as often as wished."""
    assessment = _generated_assessment(
        external_id=f"skill-check:{skill.slug}",
        kind=Assessment.Kind.SKILL_CHECK,
        title=f"Skill check: {skill.name}",
        description=(
            f"A few questions on {skill.name}, chosen one by one for your level, until your "
            "level is certain enough."
        ),
        skill=skill,
    )
    return attempt_start(learner=learner, assessment=assessment, now=now)


def course_challenge_start(*, learner, course: Course, now: datetime) -> AssessmentAttempt:
    """Start (or resume) the challenge that lets a learner test out of ``course``.

    It measures the skills the course teaches that the learner has not shown yet
    (``insights.diagnostic.adaptive_skill_ids``); it is passed when every skill of the
    course ends proficient or mastered (``insights.mastery``), and the course then counts as
    demonstrated (``assessments.selectors.courses_demonstrated``).
    """
    if not course.is_published:
        raise ValidationError({"course": "This course is not open to learners."})
    if not course.skills.exists():
        raise ValidationError({"course": "This course names no skills to test you on."})
    assessment = _generated_assessment(
        external_id=f"course-challenge:{course.pk}",
        kind=Assessment.Kind.COURSE_CHALLENGE,
        title=f"Course challenge: {course.title}",
        description=(
            f"Test out of {course.title}: show you are proficient in every skill it teaches."
        ),
        course=course,
    )
    return attempt_start(learner=learner, assessment=assessment, now=now)


def attempt_answer(
    *, attempt: AssessmentAttempt, question_id: int, response: dict | None, now: datetime
) -> AssessmentAttempt:
    """Answer the question an adaptive attempt is asking; ask the next one or finish.

    ``response`` is grading's shape for the question ({"choices": [...]}, {"value": ...}
    or {"text": ...}); an empty one (or None) is "I don't know": stored as left blank,
    no evidence for the skill model, but it counts towards the skill's maximum.
    Answers reach the skill model when the attempt ends (one ``process_attempt``, as for
    any attempt); the selection in between uses its preview (``insights.diagnostic``).
    Raises ValidationError when the attempt is not adaptive or already finished, or
    ``question_id`` is not the question being asked (a stale page or a replay).
    """
    # Imported here: insights builds on the assessment models (no import cycle).
    from insights.diagnostic import adaptive_progress

    with transaction.atomic():
        locked = (
            AssessmentAttempt.objects.select_for_update(of=("self",))
            .select_related("assessment")
            .get(pk=attempt.pk)
        )
        if not locked.is_adaptive:
            raise ValidationError(
                {"attempt": "This attempt is answered all at once: submit its answers."}
            )
        if locked.is_submitted:
            raise ValidationError({"attempt": "This attempt is finished."}, code="finished")
        if locked.current_question_id != question_id:
            raise ValidationError(
                {
                    "question": f"Question {question_id} is not the one being asked "
                    f"(answer question {locked.current_question_id})."
                },
                code="stale",
            )
        question = (
            Question.objects.filter(pk=question_id)
            .select_related("skill")
            .prefetch_related("choices")
            .get()
        )
        (graded,) = grade_responses(
            questions=[question], responses={question_id: response} if response else {}
        )
        Answer.objects.create(
            attempt=locked,
            question=question,
            response=graded.response,
            is_correct=graded.is_correct,
            points_awarded=graded.points_awarded,
            seconds_spent=graded.seconds_spent,
            answered_at=max(now, locked.started_at),
        )
        progress = adaptive_progress(attempt=locked)
        if progress.next_item is not None:
            locked.current_question_id = progress.next_item.question_id
            locked.save(update_fields=["current_question", "updated_at"])
            learners_changed([locked.learner_id])
        else:
            _adaptive_finish(attempt=locked, now=now)
    attempt.refresh_from_db()
    return attempt


def _adaptive_finish(*, attempt: AssessmentAttempt, now: datetime) -> None:
    """Score the finished adaptive attempt, feed it to the skill model, record a challenge."""
    answers = list(attempt.answers.select_related("question"))
    total = sum(answer.question.points for answer in answers)
    awarded = sum((answer.points_awarded for answer in answers), Decimal(0))
    attempt.score = (awarded * 100 / total).quantize(Decimal("0.01")) if total else Decimal(0)
    attempt.passed = attempt.score >= attempt.assessment.passing_score
    attempt.submitted_at = max(now, attempt.started_at)
    attempt.current_question = None
    attempt.save(
        update_fields=["score", "passed", "submitted_at", "current_question", "updated_at"]
    )
    learners_changed([attempt.learner_id])
    _process_skills(attempt=attempt, now=now)
    if attempt.assessment.kind == Assessment.Kind.COURSE_CHALLENGE:
        attempt.passed = _course_skills_proficient(
            learner_id=attempt.learner_id, course_id=attempt.assessment.course_id, now=now
        )
        attempt.save(update_fields=["passed", "updated_at"])
    # The learner goes from the result to the dashboard: its cards must already follow the
    # states this attempt settled (a skill check is taken to clear a "Review" card or reach
    # a goal's target), not wait for the worker. So the recommendations are refreshed here,
    # in the attempt's transaction (one call per attempt, a fixed number of queries, the
    # struggle check included); the deferred follow-up still runs for the dashboard warm-up
    # and the study tip, and its own refresh then changes nothing.
    from insights.recommendations import recommendations_refresh

    recommendations_refresh(learner_ids=[attempt.learner_id], now=now)
    defer(LEARNER_FOLLOW_UP, learner_id=attempt.learner_id)
    xapi.xapi_queue(learner_id=attempt.learner_id, attempt_ids=[attempt.pk])
    lti_score_queue(attempt=attempt)


def _course_skills_proficient(*, learner_id: int, course_id: int, now: datetime) -> bool:
    """Every skill the course teaches is proficient or mastered for the learner right now."""
    from insights.diagnostic import skills_shown

    skill_ids = set(
        Course.skills.through.objects.filter(course_id=course_id).values_list("skill_id", flat=True)
    )
    shown = skills_shown(learner_id=learner_id, skill_ids=list(skill_ids), now=now)
    return bool(skill_ids) and shown == skill_ids


def _process_skills(*, attempt: AssessmentAttempt, now: datetime) -> None:
    """Feed the attempt to the skill model, without risking the stored answers, then
    re-plan the learner's paths on the new evidence.

    Runs in a savepoint after the answers are stored, so a failing skill model rolls
    back only its own writes; the skill model is idempotent per attempt
    (skills_processed_at), so an attempt it could not process is picked up again by
    `recompute_skills`.
    """
    # Imported here: insights builds on the assessment models (no import cycle).
    from insights.services import learning_paths_replan
    from insights.skills import process_attempt

    try:
        with transaction.atomic():
            process_attempt(attempt=attempt, now=now)
    except Exception:
        logger.exception("Skill model failed on attempt %s; answers are kept", attempt.pk)
    attempt.refresh_from_db()
    if attempt.skills_processed_at is not None:
        learning_paths_replan(learner_id=attempt.learner_id, now=now)


def attempt_submit(
    *,
    attempt: AssessmentAttempt,
    responses: dict[int, dict],
    now: datetime,
    allow_unanswered: bool = True,
) -> AssessmentAttempt:
    """Grade and store the answers; a second submit returns the first result unchanged.

    ``responses`` maps question ids to responses (shapes in assessments.grading).
    Questions left out score zero. Raises ValidationError for unknown question
    ids or malformed responses, with nothing stored; with ``allow_unanswered=False``
    also when a question is left blank (code "unanswered", saying how many): the page
    asks "submit anyway?", the API answers 400 unless ``allow_unanswered`` is sent.
    An adaptive attempt is answered question by question (``attempt_answer``).
    A newly graded attempt defers the learner's follow-up (struggle check, fresh
    recommendations) in the same transaction, committed after the skill model has seen
    the answers, so the follow-up reads the new levels. A diagnostic is what makes a
    new learner's recommendations worth computing.
    """
    if attempt.is_adaptive:
        raise ValidationError(
            {"attempt": "This attempt asks one question at a time: answer the current question."}
        )
    with transaction.atomic():
        attempt, graded = _grade(
            attempt=attempt, responses=responses, now=now, allow_unanswered=allow_unanswered
        )
        if graded:
            _process_skills(attempt=attempt, now=now)
            defer(LEARNER_FOLLOW_UP, learner_id=attempt.learner_id)
            xapi.xapi_queue(learner_id=attempt.learner_id, attempt_ids=[attempt.pk])
            lti_score_queue(attempt=attempt)
    return attempt


def unanswered_message(orders: list[int], total: int) -> str:
    listed = ", ".join(str(order) for order in orders)
    count = len(orders)
    return (
        f"{count} of {total} question{'s' if total != 1 else ''} unanswered "
        f"(question{'s' if count != 1 else ''} {listed}): they score zero and are no "
        "evidence of your skills."
    )


def _grade(
    *,
    attempt: AssessmentAttempt,
    responses: dict[int, dict],
    now: datetime,
    allow_unanswered: bool = True,
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
    if not allow_unanswered:
        # Imported here: insights builds on the assessment models (no import cycle).
        from insights.skills import response_is_answer

        blank = [g.question.order for g in graded if not response_is_answer(g.response)]
        if blank:
            raise ValidationError(
                {"unanswered": unanswered_message(blank, len(graded))}, code="unanswered"
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
    learners_changed([attempt.learner_id], kinds=[QUIZ])
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
        # Review and retake rules, and adaptive running: the admin form and the API
        # serializer expose them, so the service must take them (else dropped or a 500).
        "max_attempts",
        "min_minutes_between_attempts",
        "show_answers",
        "is_adaptive",
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
    elif question.kind == Question.Kind.NUMERIC and question.numeric_answer is None:
        # A draft may lack its key, but the table cannot hold a numeric question without
        # its number: say so instead of failing on the constraint.
        raise ValidationError(
            answer_key_problems(kind=question.kind, numeric_answer=None, accepted_answers=None)
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


# ---------------------------------------------------------------- question import


@dataclass(frozen=True)
class QuestionImport:
    """What ``questions_import`` stored (or, on a dry run, would store)."""

    count: int
    kinds: dict[str, int]
    dry_run: bool


class _DryRun(Exception):
    """Rolls a dry run's writes back once every question has passed the services."""


def _category_slug(category: str) -> str:
    # "$CATEGORY: $course$/top/git-basics": the last segment may name a skill.
    return category.rstrip("/").rsplit("/", 1)[-1].strip().lower()


def questions_import(
    *,
    assessment: Assessment,
    text: str,
    fmt: str,
    now: datetime,
    default_skill: Any = None,
    dry_run: bool = False,
) -> QuestionImport:
    """Add the questions of a GIFT or Aiken text to ``assessment``, after its last one.

    All or nothing: every problem is collected, each as "Line n: …" (the parser's and the
    answer-key rules of ``question_create``), and raised as one ValidationError with
    nothing stored. A dry run checks everything the same way and stores nothing.
    """
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
    result = parse(text, fmt)
    problems = [str(problem) for problem in result.problems]
    slugs = {_category_slug(parsed.category) for parsed in result.questions}
    found = {skill.slug: skill for skill in Skill.objects.filter(slug__in=slugs - {""})}
    skills = [
        found.get(_category_slug(parsed.category)) or default_skill for parsed in result.questions
    ]
    for parsed, skill in zip(result.questions, skills, strict=True):
        if skill is None:
            problems.append(
                f"Line {parsed.line}: no skill for this question: choose a default skill "
                "or name an existing skill slug in $CATEGORY."
            )
    if problems:
        raise ValidationError(problems)
    kinds: dict[str, int] = {}
    try:
        with transaction.atomic():
            for parsed, skill in zip(result.questions, skills, strict=True):
                try:
                    with transaction.atomic():
                        question_create(
                            assessment=assessment,
                            now=now,
                            choices=parsed.choices,
                            skill=skill,
                            **parsed.fields(),
                        )
                except ValidationError as error:
                    problems.extend(f"Line {parsed.line}: {message}" for message in error.messages)
                kinds[parsed.kind] = kinds.get(parsed.kind, 0) + 1
            if problems:
                raise ValidationError(problems)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return QuestionImport(count=len(result.questions), kinds=kinds, dry_run=dry_run)
