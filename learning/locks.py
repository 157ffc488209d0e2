"""The one lock rule (SPEC R-LOCK): what keeps a lesson or a course closed, what opens it.

A prerequisite (a course or a lesson) is satisfied by completing it *or* by demonstrated
mastery of what it teaches: every skill it teaches is proficient or mastered
(``insights.mastery.CONFIRMING``), a lesson met that way needing the lessons it builds on
met too; a course also when each of its lessons is met either way. A lesson without
skills of its own is judged by its course's skills. A prerequisite that teaches no skill
can only be completed. Content a learner cannot open never blocks: a draft course as a
prerequisite, and a prerequisite lesson whose course is a draft (it is a 404 to the
learner, so no reason may send them there; the path planner leaves drafts out too).

Shown mastery unlocks as completion does: the state the evidence reached counts, so a
skill that later fades for want of practice (``insights.mastery.mastery_state``) locks
nothing again; it asks for a review, and a path's advice to skip its lessons lapses
(``lesson_skippable``). Only new answers that pull it below proficient take it back.

A lesson is locked while its course has an unmet course prerequisite or the lesson has an
unmet lesson prerequisite (in its own course or another one), unless the learner already
started it: an opened lesson never locks again. Every door uses this module:
the course outline and the lesson page (``learning.selectors.course_outline``), the
learning services (enrolment, starting and completing a lesson), the API, the
recommendations and related lessons. Each blocker says why and how to unlock it: take the
prerequisite, or show the skills with a skill check or the course's challenge.

Everything is read in a fixed number of queries per level of the prerequisite chain
(``lock_graph``) plus one for the learners (``lock_facts_for``); the checks themselves
are plain Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.urls import reverse

from assessments.models import Assessment
from catalog.models import Course, Lesson, Skill
from insights.mastery import CONFIRMING, LABELS, answers_text, evidence_state, mastery_state
from learning.models import Enrollment, LessonProgress
from skillstudio.data_versions import catalog_version
from skillstudio.memo import CatalogMemo, keyed_read


@dataclass(frozen=True)
class SkillShown:
    """A skill's named state for one learner, with the evidence behind it."""

    name: str
    state: str  # what the evidence reached: the lock rule reads this
    current: str  # the same after fading for want of practice: advice reads this
    answers: int

    @property
    def confirmed(self) -> bool:
        return self.state in CONFIRMING

    @property
    def evidence(self) -> str:
        """E.g. "Python proficient on 6 answers"."""
        return f"{self.name} {LABELS[self.state]} on {answers_text(self.answers)}"


@dataclass
class LockFacts:
    """What one learner has done and shown, as the lock rule reads it."""

    completed_lessons: set[int] = field(default_factory=set)
    # Started or completed: once opened, a lesson stays open (new answers that pull a skill
    # back below proficient do not lock a lesson halfway through).
    opened_lessons: set[int] = field(default_factory=set)
    completed_courses: set[int] = field(default_factory=set)
    # Courses whose challenge the learner passed (``assessments.selectors.courses_demonstrated``).
    challenged_courses: set[int] = field(default_factory=set)
    skills: dict[int, SkillShown] = field(default_factory=dict)  # by skill id, assessed only

    def confirmed(self, skill_id: int) -> bool:
        shown = self.skills.get(skill_id)
        return shown is not None and shown.confirmed

    def confirmed_today(self, skill_id: int) -> bool:
        shown = self.skills.get(skill_id)
        return shown is not None and shown.current in CONFIRMING


class EnrollmentRow(NamedTuple):
    """One enrollment as the dashboard's readers need it (``enrollments_by_learner``)."""

    course_id: int
    status: str
    progress_percent: Decimal
    course_published: bool


# The lock rule's facts of several learners in one round trip: lessons opened or completed,
# courses completed, and assessed skills with their evidence, as rows of one UNION ALL
# (the kind in the first column; the columns a kind does not use are NULL). With
# ``enrollments``, the courses arm reads every enrollment (``EnrollmentRow``'s columns,
# and when and in which order the learner enrolled) instead of the completed ones.
_LESSONS_ARM = """
    SELECT 'lesson' AS kind, learner_id, lesson_id AS id, status,
           NULL::text AS name, NULL::double precision AS mastery, NULL::bigint AS answers,
           NULL::bigint AS distinct_questions, NULL::bigint AS correct,
           NULL::timestamptz AS practiced, NULL::numeric AS percent,
           NULL::boolean AS published, NULL::bigint AS enrollment_id
      FROM learning_lessonprogress
     WHERE learner_id = ANY(%(ids)s) AND status = ANY(%(opened)s)
"""
_COMPLETED_COURSES_ARM = """
    SELECT 'course', learner_id, course_id, status, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL
      FROM learning_enrollment
     WHERE learner_id = ANY(%(ids)s) AND status = %(course_completed)s
"""
_ENROLLMENTS_ARM = """
    SELECT 'enrollment', enrollment.learner_id, enrollment.course_id, enrollment.status, NULL,
           NULL, NULL, NULL, NULL, enrollment.enrolled_at, enrollment.progress_percent,
           course.status = %(published)s, enrollment.id
      FROM learning_enrollment AS enrollment
      JOIN catalog_course AS course ON course.id = enrollment.course_id
     WHERE enrollment.learner_id = ANY(%(ids)s)
"""
_SKILLS_ARM = """
    SELECT 'skill', state.learner_id, state.skill_id, NULL, skill.name, state.mastery,
           state.evidence_count, state.distinct_questions, state.correct_count,
           state.last_practiced_at, NULL, NULL, NULL
      FROM insights_learnerskillstate AS state
      JOIN catalog_skill AS skill ON skill.id = state.skill_id
     WHERE state.learner_id = ANY(%(ids)s) AND state.evidence_count > 0
"""
_CHALLENGES_ARM = """
    SELECT 'challenge', attempt.learner_id, assessment.course_id, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM assessments_assessmentattempt AS attempt
      JOIN assessments_assessment AS assessment ON assessment.id = attempt.assessment_id
     WHERE attempt.learner_id = ANY(%(ids)s) AND assessment.kind = %(challenge)s
       AND attempt.passed AND attempt.submitted_at IS NOT NULL
       AND assessment.course_id IS NOT NULL
"""


def _facts_rows(ids: list[int], *, enrollments: bool) -> list[tuple]:
    courses = _ENROLLMENTS_ARM if enrollments else _COMPLETED_COURSES_ARM
    params = {
        "ids": ids,
        "opened": [LessonProgress.Status.IN_PROGRESS, LessonProgress.Status.COMPLETED],
        "course_completed": Enrollment.Status.COMPLETED,
        "published": Course.Status.PUBLISHED,
        "challenge": Assessment.Kind.COURSE_CHALLENGE,
    }
    arms = [_LESSONS_ARM, courses, _SKILLS_ARM, _CHALLENGES_ARM]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(arms), params)
        return cursor.fetchall()


def lock_facts_for(*, learner_ids: Iterable[int], now: datetime) -> dict[int, LockFacts]:
    """Completed lessons and courses and skill states per learner: one query."""
    ids = list(learner_ids)
    if not ids:
        return {}
    return _facts_from(_facts_rows(ids, enrollments=False), ids, now)[0]


def lock_facts_and_enrollments_for(
    *, learner_ids: Iterable[int], now: datetime
) -> tuple[dict[int, LockFacts], dict[int, list[EnrollmentRow]]]:
    """``lock_facts_for`` and ``learning.selectors.enrollments_by_learner`` (every
    enrollment, dropped ones too, in the order the learner enrolled) in one query: the
    dashboard after a lesson action needs both."""
    ids = list(learner_ids)
    if not ids:
        return {}, {}
    return _facts_from(_facts_rows(ids, enrollments=True), ids, now)


def _facts_from(
    rows: list[tuple], ids: list[int], now: datetime
) -> tuple[dict[int, LockFacts], dict[int, list[EnrollmentRow]]]:
    facts = {learner_id: LockFacts() for learner_id in ids}
    enrolled: dict[int, list[tuple]] = {learner_id: [] for learner_id in ids}
    for row in rows:
        kind, learner_id, pk, status, name, mastery, answers, distinct, correct, practiced = row[
            :10
        ]
        own = facts[learner_id]
        if kind == "lesson":
            own.opened_lessons.add(pk)
            if status == LessonProgress.Status.COMPLETED:
                own.completed_lessons.add(pk)
        elif kind in ("course", "enrollment"):
            if status == Enrollment.Status.COMPLETED:
                own.completed_courses.add(pk)
            if kind == "enrollment":
                percent, published, enrollment_id = row[10:]
                enrolled[learner_id].append(
                    ((practiced, enrollment_id), EnrollmentRow(pk, status, percent, published))
                )
        elif kind == "challenge":
            own.challenged_courses.add(pk)
        else:
            evidence = {
                "mastery": mastery,
                "distinct_questions": distinct,
                "answers": answers,
                "correct_answers": correct,
            }
            own.skills[pk] = SkillShown(
                name=name,
                state=evidence_state(**evidence),
                current=mastery_state(**evidence, last_practiced_at=practiced, now=now),
                answers=answers,
            )
    enrollments = {
        learner_id: [enrollment for _, enrollment in sorted(own, key=lambda pair: pair[0])]
        for learner_id, own in enrolled.items()
    }
    return facts, enrollments


def lock_facts(*, learner, now: datetime) -> LockFacts:
    """``lock_facts_for`` one learner; anonymous visitors have done nothing."""
    if learner is None or not learner.is_authenticated:
        return LockFacts()
    return lock_facts_for(learner_ids=[learner.pk], now=now)[learner.pk]


@dataclass
class CourseNode:
    id: int
    title: str
    slug: str
    published: bool
    skill_ids: list[int] = field(default_factory=list)
    prerequisites: list[int] = field(default_factory=list)
    lessons: list[int] = field(default_factory=list)  # in course order


@dataclass
class LessonNode:
    id: int
    title: str
    course_id: int
    module_order: int
    order: int
    estimated_minutes: int
    skill_ids: list[int] = field(default_factory=list)
    prerequisites: list[int] = field(default_factory=list)


@dataclass
class LockGraph:
    """Courses and lessons with their prerequisites and skills, closed under prerequisites."""

    courses: dict[int, CourseNode] = field(default_factory=dict)
    lessons: dict[int, LessonNode] = field(default_factory=dict)
    skill_names: dict[int, str] = field(default_factory=dict)
    skill_slugs: dict[int, str] = field(default_factory=dict)


def _course_rows(ids: set[int]) -> dict[int, tuple[tuple, list[tuple]]]:
    """Per course of ``ids``: its row (id, title, slug, published, skill ids, prerequisite
    course ids) and its lessons' rows (id, title, course id, module order, order, minutes,
    skill ids, prerequisite lesson ids, the courses those live in), in two queries."""
    found: dict[int, tuple[tuple, list[tuple]]] = {}
    for row in (
        Course.objects.filter(pk__in=ids)
        .annotate(
            skill_ids=ArrayAgg("skills__id", distinct=True),
            prerequisite_ids=ArrayAgg("prerequisites__id", distinct=True),
        )
        .values("id", "title", "slug", "status", "skill_ids", "prerequisite_ids")
    ):
        course = (
            row["id"],
            row["title"],
            row["slug"],
            row["status"] == Course.Status.PUBLISHED,
            tuple(s for s in row["skill_ids"] or [] if s is not None),
            tuple(c for c in row["prerequisite_ids"] or [] if c is not None),
        )
        found[row["id"]] = (course, [])
    for row in (
        Lesson.objects.filter(module__course_id__in=ids)
        .order_by("module__order", "order", "id")
        .annotate(
            skill_ids=ArrayAgg("skills__id", distinct=True),
            prerequisite_ids=ArrayAgg("prerequisites__id", distinct=True),
            prerequisite_courses=ArrayAgg("prerequisites__module__course_id", distinct=True),
        )
        .values(
            "id",
            "title",
            "module__course_id",
            "module__order",
            "order",
            "estimated_minutes",
            "skill_ids",
            "prerequisite_ids",
            "prerequisite_courses",
        )
    ):
        found[row["module__course_id"]][1].append(
            (
                row["id"],
                row["title"],
                row["module__course_id"],
                row["module__order"],
                row["order"],
                row["estimated_minutes"],
                tuple(s for s in row["skill_ids"] or [] if s is not None),
                tuple(p for p in row["prerequisite_ids"] or [] if p is not None),
                tuple(c for c in row["prerequisite_courses"] or [] if c is not None),
            )
        )
    return found


def _skill_names(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Per skill id: its name and slug."""
    return {
        pk: (name, slug)
        for pk, name, slug in Skill.objects.filter(pk__in=ids).values_list("pk", "name", "slug")
    }


def lock_graph(
    *,
    course_ids: Iterable[int],
    transitive: bool = True,
    rows: Callable[[set[int]], dict[int, tuple[tuple, list[tuple]]]] = _course_rows,
    names: Callable[[set[int]], dict[int, tuple[str, str]]] = _skill_names,
) -> LockGraph:
    """These courses with every lesson, and the courses they build on (through course or
    lesson prerequisites): two queries per level of the prerequisite chain, and one for
    the skill names (``rows`` and ``names`` read them; ``LockGraphs`` memoises them).

    ``transitive=False`` stops after the direct prerequisites: enough to tell whether a
    lesson of these courses is locked and why (the outline, the services); the
    recommendations follow chains further to find what unlocks a target.
    """
    graph = LockGraph()
    frontier = set(course_ids)
    depth = 0
    while frontier and (transitive or depth < 2):
        depth += 1
        lessons: list[tuple] = []
        for course_id, (course, own) in rows(frontier).items():
            graph.courses[course_id] = CourseNode(*course[:4], list(course[4]), list(course[5]))
            lessons.extend(own)
        elsewhere: set[int] = set()
        # Every lesson of the level in (module order, order, id), as one query reads them.
        for row in sorted(lessons, key=lambda row: (row[3], row[4], row[0])):
            node = LessonNode(*row[:6], list(row[6]), list(row[7]))
            graph.lessons[node.id] = node
            graph.courses[node.course_id].lessons.append(node.id)
            elsewhere |= set(row[8])
        elsewhere |= {r for c in graph.courses.values() for r in c.prerequisites}
        frontier = elsewhere - set(graph.courses)
    _tidy(graph, names)
    return graph


# The catalogue rows behind lock graphs, memoised per process for readers that know the
# catalogue's data version (skillstudio.data_versions; the dashboard): a course's rows
# depend on the catalogue only, so the version and the course id name them exactly
# (skillstudio.memo). Shared through Redis: a dashboard's first read of a learner in a
# worker took its courses' rows from PostgreSQL (two queries, 2.4 ms CPU for four courses
# at 10x data) where another worker had read them already.
_MEMO = CatalogMemo(size=20_000, ttl=600.0, shared="lock-rows")


class LockGraphs:
    """``lock_graph`` whose catalogue rows (courses, lessons, skill names) are memoised in
    this process, and shared with the others through Redis, for one catalogue version;
    with no version (the caller could not read it, or is inside a transaction) every call
    reads."""

    def __init__(self, catalog_version: str | None) -> None:
        self.catalog_version = catalog_version

    def __call__(self, *, course_ids: Iterable[int], transitive: bool = True) -> LockGraph:
        if self.catalog_version is None:
            return lock_graph(course_ids=course_ids, transitive=transitive)
        return lock_graph(
            course_ids=course_ids,
            transitive=transitive,
            rows=lambda ids: self._memoised("course", ids, _course_rows),
            names=lambda ids: self._memoised("skill", ids, _skill_names),
        )

    @classmethod
    def current(cls) -> LockGraphs:
        """Memoised for the catalogue's current version (``skillstudio.data_versions``), for
        a caller outside a transaction; inside one (its own catalogue edits may not have
        moved the version on yet) or with Redis unreachable, every call reads."""
        if transaction.get_connection().in_atomic_block:
            return cls(None)
        return cls(catalog_version())

    def _memoised(self, kind: str, ids: set[int], read: Callable[[set[int]], dict]) -> dict:
        found = _MEMO.get_many(self.catalog_version, ((kind, pk) for pk in ids), keyed_read(read))
        return {pk: row for (_, pk), row in found.items()}


def _tidy(graph: LockGraph, names: Callable[[set[int]], dict[int, tuple[str, str]]]) -> None:
    """Skill names and slugs (one query); skills by name, prerequisites in a stable reading order.

    Prerequisites outside the loaded graph (beyond a non-transitive load) are dropped.
    """
    skill_ids = {s for c in graph.courses.values() for s in c.skill_ids}
    skill_ids |= {s for lesson in graph.lessons.values() for s in lesson.skill_ids}
    if skill_ids:
        for pk, (name, slug) in names(skill_ids).items():
            graph.skill_names[pk] = name
            graph.skill_slugs[pk] = slug

    def by_name(ids: list[int]) -> list[int]:
        return sorted(ids, key=lambda s: (graph.skill_names.get(s, ""), s))

    for course in graph.courses.values():
        course.skill_ids = by_name(course.skill_ids)
        course.prerequisites = sorted(
            (c for c in course.prerequisites if c in graph.courses),
            key=lambda c: (graph.courses[c].title, c),
        )
    for lesson in graph.lessons.values():
        lesson.skill_ids = by_name(lesson.skill_ids)
        lesson.prerequisites = sorted(
            (p for p in lesson.prerequisites if p in graph.lessons),
            key=lambda p: (graph.lessons[p].module_order, graph.lessons[p].order, p),
        )


@dataclass(frozen=True)
class Blocker:
    """One unmet prerequisite of a lesson or course, with the way to unlock it."""

    kind: str  # "course" | "lesson"
    id: int
    title: str
    course_id: int
    course_title: str
    course_slug: str
    missing_skills: tuple[str, ...]  # names of the skills it teaches not yet proficient
    missing_skill_slugs: tuple[str, ...] = ()  # the same skills, for their skill checks

    @property
    def url(self) -> str:
        if self.kind == "lesson":
            return reverse("learning:lesson", kwargs={"lesson_id": self.id})
        return self.course_url

    def get_absolute_url(self) -> str:
        return self.url

    @property
    def course_url(self) -> str:
        return reverse("catalog:course_detail", kwargs={"slug": self.course_slug})

    @property
    def skill_checks(self) -> tuple[tuple[str, str], ...]:
        """(slug, name) of each missing skill: the skill checks that can clear it."""
        return tuple(zip(self.missing_skill_slugs, self.missing_skills, strict=True))

    @property
    def unlock(self) -> str:
        """How to get past it, as the second half of ``reason`` ("it" is the prerequisite)."""
        if not self.missing_skills:
            return "complete it first"
        skills = ", ".join(self.missing_skills)
        check = "its course challenge" if self.kind == "course" else "a skill check"
        return f"complete it first, or show you are proficient in {skills} with {check}"

    @property
    def reason(self) -> str:
        """One sentence naming the prerequisite once, e.g. "Builds on the course “Python
        Fundamentals”: complete it first, or show you are proficient in Python with its
        course challenge."."""
        if self.kind == "course":
            return f"Builds on the course “{self.title}”: {self.unlock}."
        return f"Builds on the lesson “{self.title}” in {self.course_title}: {self.unlock}."


def _skills_of(graph: LockGraph, *, lesson: LessonNode | None, course: CourseNode) -> list[int]:
    if lesson is not None and lesson.skill_ids:
        return lesson.skill_ids
    return course.skill_ids


def _shown(skill_ids: list[int], facts: LockFacts) -> bool:
    return bool(skill_ids) and all(facts.confirmed(s) for s in skill_ids)


def course_satisfied(course_id: int, graph: LockGraph, facts: LockFacts) -> bool:
    """A prerequisite course is met: completed, shown mastery of its skills, every lesson
    met one way or the other (completed or its skills shown: what a path that skips shown
    lessons leaves), or a draft."""
    course = graph.courses[course_id]
    return (
        not course.published
        or course_id in facts.completed_courses
        or _shown(course.skill_ids, facts)
        or (
            bool(course.lessons)
            and all(lesson_satisfied(lesson, graph, facts) for lesson in course.lessons)
        )
    )


def course_tested_out(course_id: int, graph: LockGraph, facts: LockFacts) -> bool:
    """The learner passed the course's challenge and its skills are still shown: the course
    counts as done (what its page says), so no next lesson is offered in it."""
    return course_id in facts.challenged_courses and _shown(
        graph.courses[course_id].skill_ids, facts
    )


def lesson_shown(lesson_id: int, graph: LockGraph, facts: LockFacts) -> bool:
    """Every skill the lesson teaches is proficient or mastered (its own evidence only)."""
    lesson = graph.lessons[lesson_id]
    return _shown(_skills_of(graph, lesson=lesson, course=graph.courses[lesson.course_id]), facts)


def lesson_skippable(lesson_id: int, graph: LockGraph, facts: LockFacts) -> bool:
    """Shown, and still so today: advice to skip the lesson lapses once a skill fades (a
    state still confirming after fading was confirming before it)."""
    lesson = graph.lessons[lesson_id]
    skill_ids = _skills_of(graph, lesson=lesson, course=graph.courses[lesson.course_id])
    return bool(skill_ids) and not _not_shown_today(skill_ids, facts)


def lesson_skills_not_shown_today(lesson_id: int, graph: LockGraph, facts: LockFacts) -> list[str]:
    """The names of the lesson's skills not proficient or mastered today: why advice to
    skip it lapsed (``lesson_skippable``)."""
    lesson = graph.lessons[lesson_id]
    skill_ids = _skills_of(graph, lesson=lesson, course=graph.courses[lesson.course_id])
    return [graph.skill_names.get(s, "") for s in _not_shown_today(skill_ids, facts)]


def _not_shown_today(skill_ids: list[int], facts: LockFacts) -> list[int]:
    return [s for s in skill_ids if not facts.confirmed_today(s)]


def lesson_satisfied(
    lesson_id: int, graph: LockGraph, facts: LockFacts, _seen: frozenset[int] = frozenset()
) -> bool:
    """A prerequisite lesson is met: completed, or shown mastery of what it teaches with
    what it builds on met too. Shown REST does not stand in for the Flask lessons a REST
    lesson of a Flask course builds on: a later lesson needs those as well. Prerequisites
    outside the loaded graph count as met (``lock_graph(transitive=False)``), and so does a
    lesson of a draft course, as the draft course itself does (``course_satisfied``)."""
    if lesson_id in facts.completed_lessons:
        return True
    if not graph.courses[graph.lessons[lesson_id].course_id].published:
        return True
    if not lesson_shown(lesson_id, graph, facts):
        return False
    lesson = graph.lessons[lesson_id]
    seen = _seen | {lesson_id}
    return all(
        lesson_satisfied(required, graph, facts, seen)
        for required in lesson.prerequisites
        if required not in seen
    )


def _blocker(graph: LockGraph, facts: LockFacts, *, course_id: int, lesson_id: int | None):
    course = graph.courses[course_id]
    lesson = graph.lessons[lesson_id] if lesson_id is not None else None
    missing = [s for s in _skills_of(graph, lesson=lesson, course=course) if not facts.confirmed(s)]
    return Blocker(
        kind="lesson" if lesson else "course",
        id=lesson.id if lesson else course.id,
        title=lesson.title if lesson else course.title,
        course_id=course.id,
        course_title=course.title,
        course_slug=course.slug,
        missing_skills=tuple(graph.skill_names[s] for s in missing),
        missing_skill_slugs=tuple(graph.skill_slugs[s] for s in missing),
    )


def course_blockers(course_id: int, graph: LockGraph, facts: LockFacts) -> list[Blocker]:
    """The course's unmet prerequisite courses (its lessons stay locked while any is left)."""
    return [
        _blocker(graph, facts, course_id=required, lesson_id=None)
        for required in graph.courses[course_id].prerequisites
        if not course_satisfied(required, graph, facts)
    ]


def lesson_blockers(lesson_id: int, graph: LockGraph, facts: LockFacts) -> list[Blocker]:
    """Everything that keeps the lesson locked: its course's unmet prerequisite courses,
    then its own unmet prerequisite lessons. Empty when the lesson is open."""
    if lesson_id in facts.opened_lessons:
        return []
    lesson = graph.lessons[lesson_id]
    blockers = course_blockers(lesson.course_id, graph, facts)
    for required in lesson.prerequisites:
        if not lesson_satisfied(required, graph, facts):
            blockers.append(
                _blocker(
                    graph, facts, course_id=graph.lessons[required].course_id, lesson_id=required
                )
            )
    return blockers


def first_step(lesson_id: int, graph: LockGraph, facts: LockFacts) -> tuple[int, Blocker | None]:
    """The lesson to study so that ``lesson_id`` opens, and the blocker it works on.

    ``(lesson_id, None)`` when the lesson is open; otherwise the first open lesson found
    by following blockers depth first (a blocking course leads to its first lesson not
    completed). Falls back to ``(lesson_id, first blocker)`` if nothing along the way is
    open (a blocker only a check can clear, such as a course without lessons).
    """
    blockers = lesson_blockers(lesson_id, graph, facts)
    if not blockers:
        return lesson_id, None
    seen = {lesson_id}
    stack: list[tuple[int, Blocker]] = []
    for blocker in reversed(blockers):
        for candidate in reversed(_entry_lessons(blocker, graph, facts)):
            stack.append((candidate, blocker))
    while stack:
        candidate, blocker = stack.pop()
        if candidate in seen:
            continue
        seen.add(candidate)
        deeper = lesson_blockers(candidate, graph, facts)
        if not deeper:
            return candidate, blocker
        for inner in reversed(deeper):
            for entry in reversed(_entry_lessons(inner, graph, facts)):
                stack.append((entry, blocker))
    return lesson_id, blockers[0]


def _entry_lessons(blocker: Blocker, graph: LockGraph, facts: LockFacts) -> list[int]:
    if blocker.kind == "lesson":
        return [blocker.id]
    return [
        lesson_id
        for lesson_id in graph.courses[blocker.id].lessons
        if lesson_id not in facts.completed_lessons
    ][:1]


def lesson_open(lesson_id: int, graph: LockGraph, facts: LockFacts) -> bool:
    return not lesson_blockers(lesson_id, graph, facts)


def open_lesson_ids(lesson_ids: Iterable[int], *, learner_id: int, now: datetime) -> set[int]:
    """Which of these lessons the learner can open now (for callers holding only ids)."""
    ids = set(lesson_ids)
    if not ids:
        return set()
    courses = set(Lesson.objects.filter(pk__in=ids).values_list("module__course_id", flat=True))
    graph = lock_graph(course_ids=courses, transitive=False)
    facts = lock_facts_for(learner_ids=[learner_id], now=now)[learner_id]
    return {lesson_id for lesson_id in ids if lesson_open(lesson_id, graph, facts)}


def skill_evidence(skill_ids: Iterable[int], facts: LockFacts) -> list[str]:
    """E.g. ["Python proficient on 6 answers"] for the skills the learner has shown."""
    return [facts.skills[s].evidence for s in skill_ids if s in facts.skills]
