"""Assessment rules shared by every door.

What makes a question gradable (the admin, the API and publishing), and the
review and retake rules of R-REVIEW: how many attempts, how far apart, and
when the correct answers and explanations are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from assessments.models import Assessment, AssessmentAttempt, Question
from catalog.models import Course, Lesson
from insights.diagnostic import STOP_DECLINED, AdaptiveProgress, SkillRun


def choice_problems(*, kind: str, correct_flags: Sequence[bool]) -> list[str]:
    """Problems with the choices of a question of ``kind`` (one flag per choice)."""
    count, correct = len(correct_flags), sum(1 for flag in correct_flags if flag)
    label = Question.Kind(kind).label.lower() if kind in Question.Kind.values else kind
    if kind not in Question.CHOICE_KINDS:
        if count:
            return [f"A {label} question is graded without choices: remove its {count} choice(s)."]
        return []
    if kind == Question.Kind.TRUE_FALSE and count != 2:
        return [f"A true / false question needs exactly two choices (it has {count})."]
    if count < 2:
        return [f"A {label} question needs at least two choices."]
    if kind == Question.Kind.MULTIPLE_CHOICE and correct < 1:
        return ["Mark at least one choice as correct."]
    if kind != Question.Kind.MULTIPLE_CHOICE and correct != 1:
        return [f"A {label} question needs exactly one correct choice (it has {correct})."]
    return []


def answer_key_problems(
    *, kind: str, numeric_answer: Decimal | None, accepted_answers: Any
) -> dict[str, str]:
    """Problems with the answer key of numeric and short-text questions, by field."""
    if kind == Question.Kind.NUMERIC and numeric_answer is None:
        return {"numeric_answer": "A numeric question needs the correct number."}
    if kind == Question.Kind.SHORT_TEXT and not (
        isinstance(accepted_answers, list)
        and accepted_answers
        and all(isinstance(a, str) and a.strip() for a in accepted_answers)
    ):
        return {"accepted_answers": "A short-text question needs at least one accepted answer."}
    return {}


def assessment_publish_problems(*, assessment: Assessment) -> list[str]:
    """Why learners could not take ``assessment`` as it stands (empty when ready)."""
    questions = list(assessment.questions.prefetch_related("choices").order_by("order"))
    problems = []
    for question in questions:
        found = choice_problems(
            kind=question.kind, correct_flags=[c.is_correct for c in question.choices.all()]
        ) + list(
            answer_key_problems(
                kind=question.kind,
                numeric_answer=question.numeric_answer,
                accepted_answers=question.accepted_answers,
            ).values()
        )
        problems.extend(f"Question {question.order}: {problem}" for problem in found)
    if not questions:
        problems.append("It has no questions yet.")
    return problems


def lesson_course_problem(*, course: Course | None, lesson: Lesson | None) -> str | None:
    """An assessment tied to a lesson and a course needs the lesson to be in that course."""
    if course is not None and lesson is not None and lesson.module.course_id != course.pk:
        return f"“{lesson}” is not a lesson of “{course}”."
    return None


ShowAnswers = Assessment.ShowAnswers


# Kinds whose answers are never shown by default: a diagnostic measures, and the
# platform's own checks ask questions of the whole bank.
NEVER_SHOWN_KINDS = (
    Assessment.Kind.DIAGNOSTIC,
    Assessment.Kind.SKILL_CHECK,
    Assessment.Kind.COURSE_CHALLENGE,
)


def runs_adaptively(assessment: Assessment) -> bool:
    """Whether attempts ask question by question (insights.diagnostic) rather than all at once."""
    return assessment.is_adaptive or assessment.kind in (
        Assessment.Kind.SKILL_CHECK,
        Assessment.Kind.COURSE_CHALLENGE,
    )


def show_answers_rule(assessment: Assessment) -> str:
    """The assessment's answer-review rule, with the default for its kind resolved.

    The defaults never leak a retake's answers: a diagnostic measures, so it
    never shows them, nor does an adaptive attempt (its questions come from the
    whole bank, other quizzes' questions included); a quiz or exam shows them
    after the last allowed attempt or once the learner has passed (with unlimited
    attempts, only after a pass).
    """
    if assessment.show_answers:
        return assessment.show_answers
    if assessment.is_adaptive or assessment.kind in NEVER_SHOWN_KINDS:
        return ShowAnswers.NEVER
    return ShowAnswers.AFTER_LAST_ATTEMPT_OR_PASSING


@dataclass(frozen=True)
class AttemptHistory:
    submitted: int
    passed: bool
    last_submitted_at: datetime | None
    has_open: bool


def attempt_history(*, learner, assessment: Assessment) -> AttemptHistory:
    """One query: the learner's submitted count, whether any passed, the last submission."""
    row = AssessmentAttempt.objects.filter(learner=learner, assessment=assessment).aggregate(
        submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
        passed=Count("pk", filter=Q(submitted_at__isnull=False, passed=True)),
        last=Max("submitted_at"),
        open=Count("pk", filter=Q(submitted_at__isnull=True)),
    )
    return AttemptHistory(
        submitted=row["submitted"],
        passed=row["passed"] > 0,
        last_submitted_at=row["last"],
        has_open=row["open"] > 0,
    )


def attempt_start_allowed(*, learner, assessment: Assessment, now: datetime) -> str | None:
    """Why ``learner`` may not start a new attempt now, or None when they may.

    An attempt already open may always be resumed (starting returns it).
    """
    history = attempt_history(learner=learner, assessment=assessment)
    if history.has_open:
        return None
    if assessment.max_attempts is not None and history.submitted >= assessment.max_attempts:
        plural = "s" if assessment.max_attempts != 1 else ""
        kind = assessment.get_kind_display().lower()
        return f"You have used all {assessment.max_attempts} attempt{plural} at this {kind}."
    wait = timedelta(minutes=assessment.min_minutes_between_attempts)
    if wait and history.last_submitted_at is not None:
        next_at = history.last_submitted_at + wait
        if now < next_at:
            minutes = max(1, int((next_at - now).total_seconds() + 59) // 60)
            return (
                f"You can start another attempt in {minutes} minute{'s' if minutes != 1 else ''} "
                f"(at {timezone.localtime(next_at):%H:%M %Z})."
            )
    return None


def answers_visible(*, attempt: AssessmentAttempt) -> bool:
    """Whether the learner may see the correct answers and explanations of ``attempt``."""
    if not attempt.is_submitted:
        return False
    rule = show_answers_rule(attempt.assessment)
    if rule == ShowAnswers.IMMEDIATELY:
        return True
    if rule == ShowAnswers.NEVER:
        return False
    history = attempt_history(learner=attempt.learner_id, assessment=attempt.assessment_id)
    used_up = (
        attempt.assessment.max_attempts is not None
        and history.submitted >= attempt.assessment.max_attempts
    )
    if rule == ShowAnswers.AFTER_LAST_ATTEMPT:
        return used_up
    if rule == ShowAnswers.AFTER_PASSING:
        return history.passed
    return used_up or history.passed


def answers_shown_when(assessment: Assessment) -> str:
    """A sentence for the learner: when the answers will be shown."""
    rule = show_answers_rule(assessment)
    if rule == ShowAnswers.NEVER:
        return "Correct answers are not shown for this assessment."
    if rule == ShowAnswers.AFTER_PASSING or (
        rule == ShowAnswers.AFTER_LAST_ATTEMPT_OR_PASSING and assessment.max_attempts is None
    ):
        return "Correct answers and explanations are shown once you pass."
    if rule == ShowAnswers.AFTER_LAST_ATTEMPT:
        return "Correct answers and explanations are shown after your last allowed attempt."
    return (
        "Correct answers and explanations are shown after your last allowed attempt "
        "or once you pass."
    )


def skill_run_status(run: SkillRun, progress: AdaptiveProgress) -> str:
    """Where one skill of an adaptive attempt stands, as its page and the API word it: its
    stop label, "in progress" or "to come". A skill the learner declined after answering
    some questions says so: "you said you don't know it yet" would deny those answers
    (counted as answered, not right: nothing is marked until the result page)."""
    if not run.stopped:
        current = progress.current_run
        return "in progress" if current and current.skill_id == run.skill_id else "to come"
    if run.stop_reason == STOP_DECLINED and run.answered:
        return f"{run.answered} answered, then you said you don't know the rest"
    return run.stop_label
