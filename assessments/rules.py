"""What makes a question gradable: one rule for the admin, the API and publishing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from assessments.models import Assessment, Question
from catalog.models import Course, Lesson


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
        return {
            "accepted_answers": "A short-text question needs a list of accepted answers, "
            'e.g. ["git init"].'
        }
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
