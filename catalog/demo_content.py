"""The demo world's teaching content, read from the data files under `catalog/demo/`.

`catalog/demo/world.yaml` lists the skills, the courses in creation order and the
diagnostic; each course is `catalog/demo/courses/<slug>/course.yaml` (modules, lessons,
prerequisites, quiz) with one Markdown file per lesson body beside it,
`<lesson key>.md`. `load()` checks everything `seed_demo` relies on and raises
`DemoContentError` naming the file and the field when something is malformed.

The demo learner's story (goal, enrollments, attempts) stays below as Python: it
is the seeder's script, indexing into the quizzes' question positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assessments.models import Question
from catalog.models import Difficulty, Lesson

DEMO_DIR = Path(__file__).resolve().parent / "demo"


# The fields each kind of mapping may have (anything else is reported as a typo).
WORLD_KEYS = ("skills", "courses", "diagnostic", "question_bank")
COURSE_KEYS = (
    "title", "description", "difficulty", "estimated_hours", "skills", "prerequisites",
    "modules", "quiz",
)  # fmt: skip
LESSON_KEYS = (
    "key", "title", "content_type", "minutes", "difficulty", "skills", "prerequisites",
    "video_url",
)  # fmt: skip
ASSESSMENT_KEYS = ("title", "description", "passing_score", "adaptive", "questions")
QUESTION_KEYS = (
    "kind", "prompt", "skill", "difficulty", "points", "choices", "answer", "tolerance",
    "accepted", "explanation",
)  # fmt: skip


class DemoContentError(ValueError):
    """A demo data file is missing or malformed; the message names the file and field."""


@dataclass(frozen=True)
class SkillSpec:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class LessonSpec:
    key: str  # names the body file and lets other lessons require this one
    title: str
    content_type: str
    minutes: int
    skills: list[str]
    prerequisites: list[str]  # lesson keys
    video_url: str
    difficulty: str
    body: str


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    lessons: list[LessonSpec]


@dataclass(frozen=True)
class QuestionSpec:
    kind: str
    prompt: str
    skill: str
    difficulty: str
    points: int
    explanation: str
    choices: list[tuple[str, bool]]
    answer: Decimal | None
    tolerance: Decimal
    accepted: list[str]


@dataclass(frozen=True)
class AssessmentSpec:
    title: str
    description: str
    passing_score: int
    questions: list[QuestionSpec]
    # Asked question by question from the bank (Assessment.is_adaptive).
    adaptive: bool = False


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    description: str
    difficulty: str
    estimated_hours: int
    skills: list[str]
    prerequisites: list[str]  # course slugs
    modules: list[ModuleSpec]
    quiz: AssessmentSpec


@dataclass(frozen=True)
class DemoContent:
    skills: list[SkillSpec]
    courses: list[CourseSpec]
    diagnostic: AssessmentSpec
    # Practice questions across every skill and difficulty: with the diagnostic's and the
    # course quizzes' questions, the bank adaptive attempts draw from (insights.diagnostic).
    question_bank: AssessmentSpec | None = None


class _Fields:
    """Typed access to one mapping of a data file; errors name the file and the field path."""

    def __init__(self, data: object, *, file: Path, where: str, keys: tuple[str, ...]) -> None:
        self.file, self.where = file, where
        if not isinstance(data, dict):
            raise self.error(f"expected a mapping, got {type(data).__name__}")
        # A misspelt optional field would otherwise be ignored without a word.
        for key in data:
            if key not in keys:
                raise self.error(f"unknown field (expected one of {', '.join(keys)})", str(key))
        self.data: dict[str, Any] = data

    def error(self, message: str, name: str | None = None) -> DemoContentError:
        field = f"{self.where}.{name}" if name else self.where
        return DemoContentError(f"{self.file}: {field}: {message}")

    def get(self, name: str, kind: type, default: Any = ...) -> Any:
        if name not in self.data:
            if default is ...:
                raise self.error("is required", name)
            return default
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(f"expected {kind.__name__}, got {value!r}", name)
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self.get(name, str, ... if default is None else default)
        if default is None and not value.strip():
            raise self.error("must not be empty", name)
        return value

    def strings(self, name: str) -> list[str]:
        values = self.get(name, list, [])
        if not all(isinstance(v, str) for v in values):
            raise self.error(f"expected a list of strings, got {values!r}", name)
        return values

    def choice(self, name: str, allowed: list[str], default: str | None = None) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise self.error(f"{value!r} is not one of {', '.join(allowed)}", name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        if name not in self.data:
            return None
        try:
            return Decimal(str(self.data[name]))
        except InvalidOperation:
            raise self.error(f"{self.data[name]!r} is not a number", name) from None

    def items(self, name: str, keys: tuple[str, ...]) -> list[_Fields]:
        values = self.get(name, list)
        where = f"{self.where}.{name}"
        return [
            _Fields(v, file=self.file, where=f"{where}[{i}]", keys=keys)
            for i, v in enumerate(values)
        ]

    def part(self, name: str, keys: tuple[str, ...]) -> _Fields:
        where = f"{self.where}.{name}"
        return _Fields(self.get(name, dict), file=self.file, where=where, keys=keys)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoContentError(f"{path}: file is missing") from None
    except yaml.YAMLError as error:
        raise DemoContentError(f"{path}: {error}") from None


def _question(q: _Fields) -> QuestionSpec:
    kind = q.choice("kind", Question.Kind.values)
    choices: list[tuple[str, bool]] = []
    if kind == Question.Kind.TRUE_FALSE:
        # The statement's truth: the two choices follow from it.
        true = q.get("answer", bool)
        choices = [("True", true), ("False", not true)]
    elif kind in Question.CHOICE_KINDS:
        listed = q.items("choices", ("text", "correct"))
        choices = [(c.text("text"), c.get("correct", bool, False)) for c in listed]
        if not any(correct for _, correct in choices):
            raise q.error("no choice is marked correct: true", "choices")
    answer = q.decimal("answer") if kind == Question.Kind.NUMERIC else None
    if kind == Question.Kind.NUMERIC and answer is None:
        raise q.error("is required for a numeric question", "answer")
    accepted = q.strings("accepted")
    if kind == Question.Kind.SHORT_TEXT and not accepted:
        raise q.error("is required for a short_text question", "accepted")
    return QuestionSpec(
        kind=kind,
        prompt=q.text("prompt"),
        skill=q.text("skill"),
        difficulty=q.choice("difficulty", Difficulty.values, Difficulty.BEGINNER),
        points=q.get("points", int, 1),
        explanation=q.text("explanation"),
        choices=choices,
        answer=answer,
        tolerance=q.decimal("tolerance") or Decimal("0"),
        accepted=accepted,
    )


def _assessment(a: _Fields) -> AssessmentSpec:
    return AssessmentSpec(
        title=a.text("title"),
        description=a.text("description", ""),
        passing_score=a.get("passing_score", int),
        adaptive=a.get("adaptive", bool, False),
        questions=[_question(q) for q in a.items("questions", QUESTION_KEYS)],
    )


def _course(directory: Path, slug: str) -> CourseSpec:
    folder = directory / "courses" / slug
    path = folder / "course.yaml"
    c = _Fields(_read_yaml(path), file=path, where="course", keys=COURSE_KEYS)
    difficulty = c.choice("difficulty", Difficulty.values)
    modules = []
    for m in c.items("modules", ("title", "lessons")):
        lessons = []
        for ls in m.items("lessons", LESSON_KEYS):
            key = ls.text("key")
            body_path = folder / f"{key}.md"
            if not body_path.is_file():
                raise ls.error(f"the body file {body_path.name} is missing", "key")
            lessons.append(
                LessonSpec(
                    key=key,
                    title=ls.text("title"),
                    content_type=ls.choice("content_type", Lesson.ContentType.values),
                    minutes=ls.get("minutes", int),
                    skills=ls.strings("skills"),
                    prerequisites=ls.strings("prerequisites"),
                    video_url=ls.text("video_url", ""),
                    difficulty=ls.choice("difficulty", Difficulty.values, difficulty),
                    body=body_path.read_text(encoding="utf-8"),
                )
            )
        modules.append(ModuleSpec(title=m.text("title"), lessons=lessons))
    return CourseSpec(
        slug=slug,
        title=c.text("title"),
        description=c.text("description"),
        difficulty=difficulty,
        estimated_hours=c.get("estimated_hours", int),
        skills=c.strings("skills"),
        prerequisites=c.strings("prerequisites"),
        modules=modules,
        quiz=_assessment(c.part("quiz", ASSESSMENT_KEYS)),
    )


def _check_references(content: DemoContent, directory: Path) -> None:
    """Every skill, course and lesson named anywhere exists; errors name file, field and name."""
    skills = {s.slug for s in content.skills}
    courses = {c.slug for c in content.courses}
    lessons = {ls.key for c in content.courses for m in c.modules for ls in m.lessons}
    # (file, field, the name used there, the names it may use)
    named: list[tuple[str, str, str, set[str]]] = []
    for c in content.courses:
        file = f"courses/{c.slug}/course.yaml"
        named += [(file, "course.skills", s, skills) for s in c.skills]
        named += [(file, "course.prerequisites", p, courses) for p in c.prerequisites]
        for ls in (ls for m in c.modules for ls in m.lessons):
            named += [(file, f"lesson {ls.key}: skills", s, skills) for s in ls.skills]
            named += [
                (file, f"lesson {ls.key}: prerequisites", p, lessons) for p in ls.prerequisites
            ]
        named += [(file, "course.quiz: skill", q.skill, skills) for q in c.quiz.questions]
    named += [
        ("world.yaml", "world.diagnostic: skill", q.skill, skills)
        for q in content.diagnostic.questions
    ]
    named += [
        ("world.yaml", "world.question_bank: skill", q.skill, skills)
        for q in (content.question_bank.questions if content.question_bank else [])
    ]
    for file, field, name, known in named:
        if name not in known:
            raise DemoContentError(f"{directory / file}: {field}: unknown name {name!r}")


@cache
def load(directory: Path = DEMO_DIR) -> DemoContent:
    """Read and check the demo content (once per process and directory)."""
    path = directory / "world.yaml"
    world = _Fields(_read_yaml(path), file=path, where="world", keys=WORLD_KEYS)
    content = DemoContent(
        skills=[
            SkillSpec(slug=s.text("slug"), name=s.text("name"), description=s.text("description"))
            for s in world.items("skills", ("slug", "name", "description"))
        ],
        courses=[_course(directory, slug) for slug in world.strings("courses")],
        diagnostic=_assessment(world.part("diagnostic", ASSESSMENT_KEYS)),
        question_bank=_assessment(world.part("question_bank", ASSESSMENT_KEYS))
        if "question_bank" in world.data
        else None,
    )
    _check_references(content, directory)
    return content


# The demo learner's story: finished Python Fundamentals, halfway through the
# Flask course, shaky on SQL and async. Indexes are question positions (0-based)
# answered correctly in each attempt; every other question is answered wrongly.
DEMO_GOAL = {
    "title": "Become a Python backend developer",
    "weekly_hours": 6,
    "deadline_days": 120,
    "targets": {"python": 8, "flask": 7, "rest_api": 7, "postgresql": 6, "docker": 5},
}
DEMO_ENROLLMENTS = {
    "python-fundamentals": {"completed_lessons": 4, "days_ago": 40},
    "python-backend-flask": {"completed_lessons": 2, "started_lessons": 1, "days_ago": 18},
    "sql-and-postgresql": {"completed_lessons": 1, "days_ago": 10},
}
DEMO_ATTEMPTS = [
    {"assessment": "SkillStudio diagnostic", "days_ago": 42, "correct": [0, 1, 2, 3, 6, 7, 9]},
    {"assessment": "Python Fundamentals quiz", "days_ago": 30, "correct": [0, 2, 3, 4]},
    {"assessment": "SQL and PostgreSQL quiz", "days_ago": 8, "correct": [0]},
    {"assessment": "Flask and REST quiz", "days_ago": 3, "correct": [0, 2, 4]},
]
