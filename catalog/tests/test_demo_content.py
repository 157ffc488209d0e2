"""The demo world's content files: what `seed_demo` builds from them, and the loader's errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assessments.models import Assessment, Question
from catalog.demo_content import DEMO_DIR, DemoContentError, load
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Module, Skill

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
# Taken from the Python literals the data files replaced: the files must build the same rows.
SNAPSHOT = Path(__file__).with_name("demo_snapshot.json")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def demo_snapshot() -> dict:
    """The demo content's rows in creation order, by natural keys (no ids, no dates)."""
    lessons = Lesson.objects.select_related("module__course").order_by("pk")
    questions = Question.objects.select_related("assessment", "skill").order_by("pk")
    return {
        "skills": [[s.slug, s.name, s.description] for s in Skill.objects.order_by("pk")],
        "courses": [
            {
                "slug": c.slug,
                "title": c.title,
                "description": c.description,
                "difficulty": c.difficulty,
                "estimated_hours": str(c.estimated_hours),
                "status": c.status,
                "owner": c.owner.email,
                "skills": sorted(c.skills.values_list("slug", flat=True)),
                "prerequisites": sorted(c.prerequisites.values_list("slug", flat=True)),
            }
            for c in Course.objects.select_related("owner").order_by("pk")
        ],
        "modules": [
            [m.course.slug, m.order, m.title]
            for m in Module.objects.select_related("course").order_by("pk")
        ],
        "lessons": [
            {
                "at": [ls.module.course.slug, ls.module.order, ls.order],
                "title": ls.title,
                "content_type": ls.content_type,
                "video_url": ls.video_url,
                "minutes": ls.estimated_minutes,
                "difficulty": ls.difficulty,
                "body_sha256": _sha(ls.body),
                "skills": sorted(ls.skills.values_list("slug", flat=True)),
                "prerequisites": sorted(ls.prerequisites.values_list("title", flat=True)),
            }
            for ls in lessons
        ],
        "assessments": [
            {
                "title": a.title,
                "kind": a.kind,
                "course": a.course.slug if a.course else None,
                "description": a.description,
                "passing_score": a.passing_score,
                "time_limit_minutes": a.time_limit_minutes,
                "is_published": a.is_published,
                "is_adaptive": a.is_adaptive,
            }
            for a in Assessment.objects.select_related("course").order_by("pk")
        ],
        "questions": [
            {
                "at": [q.assessment.title, q.order],
                "kind": q.kind,
                "prompt": q.prompt,
                "skill": q.skill.slug,
                "difficulty": q.difficulty,
                "points": q.points,
                "explanation": q.explanation,
                "numeric_answer": None if q.numeric_answer is None else str(q.numeric_answer),
                "numeric_tolerance": str(q.numeric_tolerance),
                "accepted_answers": q.accepted_answers,
                "choices": [
                    [c.order, c.text, c.is_correct] for c in q.choices.order_by("order", "pk")
                ],
            }
            for q in questions
        ],
    }


@pytest.mark.django_db
def test_seed_demo_builds_exactly_the_snapshotted_content():
    seed_demo(now=NOW)

    assert demo_snapshot() == json.loads(SNAPSHOT.read_text())


def test_every_demo_skill_has_a_question_bank_across_difficulties():
    """At least six questions per skill, easy, medium and hard ones among them: enough
    for an adaptive diagnostic or skill check to move up and down (insights.diagnostic)."""
    content = load()
    bank: dict[str, list[str]] = {skill.slug: [] for skill in content.skills}
    assessments = [content.diagnostic, content.question_bank] + [c.quiz for c in content.courses]
    for assessment in assessments:
        for question in assessment.questions:
            bank[question.skill].append(question.difficulty)

    assert content.diagnostic.adaptive is True
    for slug, difficulties in bank.items():
        assert len(difficulties) >= 6, slug
        assert set(difficulties) == {"beginner", "intermediate", "advanced"}, slug


def test_every_demo_lesson_teaches_one_skill_and_its_course_teaches_no_other():
    """A lesson lists the skill it teaches; a skill it only uses is a prerequisite. Mixed
    lists would make a path either re-teach a skill the learner showed or skip one they
    have not (insights.paths skips a lesson only when every skill it lists is shown)."""
    for course in load().courses:
        lessons = [lesson for module in course.modules for lesson in module.lessons]
        for lesson in lessons:
            assert len(lesson.skills) == 1, (course.slug, lesson.key, lesson.skills)
        taught = {slug for lesson in lessons for slug in lesson.skills}
        assert sorted(course.skills) == sorted(taught), course.slug


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo files to break."""
    directory = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, directory)
    return directory


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


FUNDAMENTALS = "courses/python-fundamentals/course.yaml"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            FUNDAMENTALS,
            "minutes: 20",
            "minutes: twenty",
            r"course\.yaml: course\.modules\[0\]\.lessons\[0\]\.minutes: "
            r"expected int, got 'twenty'",
        ),
        (
            FUNDAMENTALS,
            "content_type: text",
            "content_type: podcast",
            r"lessons\[0\]\.content_type: 'podcast' is not one of text, video",
        ),
        (
            FUNDAMENTALS,
            "key: py-values",
            "key: py-valuez",
            r"lessons\[0\]\.key: the body file py-valuez\.md is missing",
        ),
        (
            FUNDAMENTALS,
            "skills: [python]",
            "skills: [pyhton]",
            r"course\.yaml: lesson py-values: skills: unknown name 'pyhton'",
        ),
        (
            FUNDAMENTALS,
            "prerequisites: [py-values]",
            "prerequisites: [py-valuez]",
            r"lesson py-control-flow: prerequisites: unknown name 'py-valuez'",
        ),
        (
            FUNDAMENTALS,
            "    - {text: '3', correct: true}",
            "    - {text: '3'}",
            r"course\.quiz\.questions\[0\]\.choices: no choice is marked correct",
        ),
        (
            FUNDAMENTALS,
            "    answer: false",
            "    answer: 'no'",
            r"course\.quiz\.questions\[1\]\.answer: expected bool, got 'no'",
        ),
        (
            FUNDAMENTALS,
            "    video_url: https://videos",
            "    video: https://videos",
            r"course\.modules\[0\]\.lessons\[1\]\.video: unknown field \(expected one of key, ",
        ),
        (
            "world.yaml",
            "  title: SkillStudio diagnostic\n",
            "",
            r"world\.yaml: world\.diagnostic\.title: is required",
        ),
        (
            "world.yaml",
            "- python-fundamentals",
            "- python-fundamentalz",
            r"courses/python-fundamentalz/course\.yaml: file is missing",
        ),
        ("world.yaml", "\nskills:\n", "\nskills: [\n", r"world\.yaml: while parsing"),
    ],
)
def test_malformed_content_is_reported_by_file_and_field(demo_copy, file, old, new, message):
    _edit(demo_copy / file, old, new)

    with pytest.raises(DemoContentError, match=message):
        load(demo_copy)


def test_the_shipped_files_load_and_an_untouched_copy_loads_the_same(demo_copy):
    assert load(demo_copy) == load()
