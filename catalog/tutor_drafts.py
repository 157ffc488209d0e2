"""Draft practice questions for a lesson, written by the tutor's provider (issue 17, item 5).

For instructors, from the admin. The provider gets the lesson's title, its text
(the Markdown as written, cut at ``MAX_LESSON_CHARS``) and the slugs of its
skills; nothing about any learner. It must reply with one JSON object:

    {"questions": [
        {"prompt": "…",
         "kind": "single_choice" | "multiple_choice" | "true_false",
         "choices": [{"text": "…", "is_correct": true}, …],   # 2 to 6; true_false: 2
         "explanation": "…",                                  # optional
         "difficulty": "beginner" | "intermediate" | "advanced",  # optional
         "skill": "<one of the lesson's skill slugs>"}        # optional
    ]}

Anything else (not JSON, unknown keys, wrong types, an answer key learners
could not be graded on) is refused with a message and nothing is saved. A
valid reply becomes one UNPUBLISHED quiz attached to the lesson, written
through the assessments services; learners never see it until an instructor
reviews and publishes it in the admin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from assessments.models import Assessment, Question
from assessments.services import assessment_create, question_create
from catalog.llm import ProviderError, chat_complete
from catalog.models import Difficulty, Lesson, Skill

DRAFT_QUESTIONS = 5
MAX_QUESTIONS = 10
MAX_LESSON_CHARS = 8000
DRAFT_KINDS = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE, Question.Kind.TRUE_FALSE)
QUESTION_KEYS = {"prompt", "kind", "choices", "explanation", "difficulty", "skill"}
DRAFT_INSTRUCTION = (
    "You write practice questions for an online course lesson. Use only the lesson text "
    "you are given. Reply with one JSON object and nothing else, of the form "
    '{"questions": [{"prompt": str, "kind": "single_choice"|"multiple_choice"|"true_false", '
    '"choices": [{"text": str, "is_correct": bool}], "explanation": str, '
    '"difficulty": "beginner"|"intermediate"|"advanced", "skill": str}]}. '
    "single_choice and true_false have exactly one correct choice; true_false has the two "
    'choices "True" and "False"; multiple_choice has at least one correct choice; 2 to 6 '
    "choices per question; skill is one of the given skill slugs."
)


@dataclass(frozen=True)
class DraftQuestion:
    prompt: str
    kind: str
    choices: list[dict]
    explanation: str
    difficulty: str
    skill: Skill


def draft_prompt(*, lesson: Lesson, skills: list[Skill], count: int) -> str:
    """The user message sent to the provider: the lesson's own text and its skills."""
    text = lesson.body[:MAX_LESSON_CHARS]
    return (
        f"Write {count} practice questions.\n"
        f"Skill slugs: {', '.join(skill.slug for skill in skills)}\n"
        f"Lesson title: {lesson.title}\n"
        f"Lesson text:\n{text}"
    )


def _text(value: Any, *, where: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(f"{where} must be a non-empty text.")
    if len(value) > limit:
        raise ValidationError(f"{where} is longer than {limit} characters.")
    return value.strip()


def _question(item: Any, *, where: str, skills: dict[str, Skill], lesson: Lesson) -> DraftQuestion:
    if not isinstance(item, dict):
        raise ValidationError(f"{where} is not an object.")
    unknown = sorted(set(item) - QUESTION_KEYS)
    if unknown:
        raise ValidationError(f"{where} has unknown keys: {', '.join(unknown)}.")
    kind = item.get("kind")
    if kind not in DRAFT_KINDS:
        raise ValidationError(f"{where}: kind must be one of {', '.join(DRAFT_KINDS)}.")
    choices = item.get("choices")
    if not isinstance(choices, list) or not 2 <= len(choices) <= 6:
        raise ValidationError(f"{where}: choices must be a list of 2 to 6 items.")
    rows = []
    for number, choice in enumerate(choices, start=1):
        if not isinstance(choice, dict) or set(choice) != {"text", "is_correct"}:
            raise ValidationError(f"{where}, choice {number}: needs exactly text and is_correct.")
        if not isinstance(choice["is_correct"], bool):
            raise ValidationError(f"{where}, choice {number}: is_correct must be true or false.")
        text = _text(choice["text"], where=f"{where}, choice {number}", limit=500)
        rows.append({"text": text, "is_correct": choice["is_correct"]})
    difficulty = item.get("difficulty", lesson.difficulty)
    if difficulty not in Difficulty.values:
        raise ValidationError(f"{where}: difficulty must be one of {', '.join(Difficulty.values)}.")
    slug = item.get("skill")
    if slug is not None and slug not in skills:
        raise ValidationError(f"{where}: skill must be one of the lesson's: {', '.join(skills)}.")
    return DraftQuestion(
        prompt=_text(item.get("prompt"), where=f"{where}: prompt", limit=2000),
        kind=kind,
        choices=rows,
        explanation=_text(
            item.get("explanation", ""), where=f"{where}: explanation", limit=2000, required=False
        ),
        difficulty=difficulty,
        skill=skills[slug] if slug else next(iter(skills.values())),
    )


def draft_questions_parse(
    *, reply: str, lesson: Lesson, skills: list[Skill]
) -> list[DraftQuestion]:
    """The provider's reply as validated questions, or ValidationError saying what is wrong."""
    try:
        data = json.loads(reply)
    except ValueError as error:
        raise ValidationError("The provider's reply is not valid JSON.") from error
    if not isinstance(data, dict) or set(data) != {"questions"}:
        raise ValidationError('The provider\'s reply must be an object with only "questions".')
    items = data["questions"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUESTIONS:
        raise ValidationError(f'"questions" must be a list of 1 to {MAX_QUESTIONS} questions.')
    by_slug = {skill.slug: skill for skill in skills}
    return [
        _question(item, where=f"Question {number}", skills=by_slug, lesson=lesson)
        for number, item in enumerate(items, start=1)
    ]


def lesson_questions_draft(
    *, lesson: Lesson, now: datetime, count: int = DRAFT_QUESTIONS
) -> Assessment:
    """An unpublished quiz for ``lesson`` holding the provider's draft questions.

    Raises ValidationError (nothing saved) when the lesson has no skill, the provider
    fails, or its reply does not pass validation. The quiz belongs to the course's owner.
    """
    skills = list(lesson.skills.order_by("name"))
    if not skills:
        raise ValidationError("Give the lesson a skill first: every question measures one.")
    if not lesson.body.strip():
        raise ValidationError("The lesson has no text to write questions from.")
    try:
        reply = chat_complete(
            system=DRAFT_INSTRUCTION,
            user=draft_prompt(lesson=lesson, skills=skills, count=count),
            json_reply=True,
            max_tokens=3000,
        )
    except ProviderError as error:
        raise ValidationError(str(error)) from error
    drafts = draft_questions_parse(reply=reply, lesson=lesson, skills=skills)
    course = lesson.module.course
    with transaction.atomic():
        assessment = assessment_create(
            owner=course.owner,
            now=now,
            title=f"Practice: {lesson.title}"[:190] + " (draft)",
            kind=Assessment.Kind.QUIZ,
            course=course,
            lesson=lesson,
            description="Drafted by the tutor's language model from the lesson text. "
            "Review every question and answer before publishing.",
        )
        for number, draft in enumerate(drafts, start=1):
            try:
                question_create(
                    assessment=assessment,
                    now=now,
                    choices=draft.choices,
                    kind=draft.kind,
                    prompt=draft.prompt,
                    skill=draft.skill,
                    difficulty=draft.difficulty,
                    explanation=draft.explanation,
                    order=number,
                )
            except ValidationError as error:
                raise ValidationError(f"Question {number}: {' '.join(error.messages)}") from error
    return assessment
