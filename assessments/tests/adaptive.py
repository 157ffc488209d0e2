"""Shared set-up for the adaptive attempt tests: a bank of six questions per skill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assessments.models import Assessment, AssessmentAttempt, Choice, Question
from assessments.services import attempt_answer
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.models import Difficulty
from catalog.tests.factories import SkillFactory

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LEVELS = (Difficulty.BEGINNER, Difficulty.INTERMEDIATE, Difficulty.ADVANCED)


def make_bank(slugs: tuple[str, ...] = ("python", "sql")) -> dict:
    """Skills with six questions each (two per difficulty) in one published quiz."""
    quiz = AssessmentFactory(title="Bank quiz", passing_score=50)
    skills = {}
    order = 0
    for slug in slugs:
        skill = SkillFactory(slug=slug, name=slug.upper() if slug == "sql" else slug.title())
        skills[slug] = skill
        for level in LEVELS:
            for copy in (1, 2):
                order += 1
                question = QuestionFactory(
                    assessment=quiz,
                    skill=skill,
                    order=order,
                    difficulty=level,
                    prompt=f"{skill.name} {level} question {copy}?",
                )
                ChoiceFactory(question=question, text="Right", is_correct=True, order=1)
                ChoiceFactory(question=question, text="Wrong", order=2)
    diagnostic = AssessmentFactory(
        title="Adaptive diagnostic",
        kind=Assessment.Kind.DIAGNOSTIC,
        is_adaptive=True,
        passing_score=0,
    )
    # The diagnostic's own question is part of the bank too.
    own = QuestionFactory(
        assessment=diagnostic, skill=skills[slugs[0]], order=1, difficulty=Difficulty.INTERMEDIATE
    )
    ChoiceFactory(question=own, text="Right", is_correct=True, order=1)
    ChoiceFactory(question=own, text="Wrong", order=2)
    return {"quiz": quiz, "diagnostic": diagnostic, "skills": skills}


def choice_for(question_id: int, right: bool) -> int:
    return Choice.objects.get(question_id=question_id, is_correct=right).pk


def response_for(question: Question, right: bool) -> dict:
    """A right or wrong response to any kind of question."""
    if question.kind == Question.Kind.NUMERIC:
        value = question.numeric_answer if right else question.numeric_answer + 1000
        return {"value": str(value)}
    if question.kind == Question.Kind.SHORT_TEXT:
        return {"text": question.accepted_answers[0] if right else "no idea"}
    choices = Choice.objects.filter(question=question, is_correct=right).order_by("pk")
    if right and question.kind == Question.Kind.MULTIPLE_CHOICE:
        return {"choices": [c.pk for c in choices]}
    return {"choices": [choices[0].pk]}


def answer(
    attempt: AssessmentAttempt, right: bool | None, step: int, *, start: datetime = NOW
) -> AssessmentAttempt:
    """Answer the current question right, wrong or "I don't know" (None), ``step`` minutes
    after ``start``."""
    question_id = attempt.current_question_id
    question = Question.objects.get(pk=question_id)
    response = None if right is None else response_for(question, right)
    return attempt_answer(
        attempt=attempt,
        question_id=question_id,
        response=response,
        now=start + timedelta(minutes=step),
    )


def run_to_end(attempt: AssessmentAttempt, right_for, *, start: datetime = NOW) -> list[Question]:
    """Answer until the attempt ends, a minute apart from ``start``; ``right_for(question)``
    decides each answer."""
    asked: list[Question] = []
    step = 0
    while not attempt.is_submitted:
        step += 1
        assert step <= 50, "the attempt never ended"
        question = Question.objects.select_related("skill").get(pk=attempt.current_question_id)
        asked.append(question)
        attempt = answer(attempt, right_for(question), step, start=start)
    return asked
