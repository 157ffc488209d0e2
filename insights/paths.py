"""Learning paths (R-PATH): from a goal's skill gaps to an ordered, explained list of courses.

Planning is pure (`plan_learning_path`); `generate_learning_path` stores the plan as a new
`LearningPathSnapshot` version and records what changed since the previous one.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import CharField, IntegerField, Max, Q, Value
from django.db.models.expressions import RawSQL

from assessments.models import Answer, Assessment, AssessmentAttempt
from catalog.models import DIFFICULTY_RANK, Course, Lesson
from insights import bkt
from insights.diagnostic import EXPECTED_QUESTIONS_PER_SKILL, MINUTES_PER_QUESTION
from insights.mastery import (
    CONFIRMING,
    REVIEW_INTERVAL_DAYS,
    SkillMastery,
    answers_text,
    target_reached,
)
from insights.models import LearningPathSnapshot
from insights.selectors import SkillLevel, learner_timezone, skill_levels_for
from insights.skills import BLANK_RESPONSE
from learning.models import Enrollment, GoalSkill, LearningGoal, LessonProgress
from skillstudio.data_versions import catalog_memo_version, learners_changed
from skillstudio.memo import CatalogMemo, keyed_read

# A course counts as mastered (and is left out of a path, with the evidence) once the
# learner completed it or every skill it teaches is proficient or mastered
# (insights.mastery.CONFIRMING): a level alone, without the evidence, is not enough.
# learning.locks applies the same rule to prerequisites.
#
# "Test out first": a course the learner may know part of gets its course challenge as a
# first step (Khan Academy's course challenge, offered where it pays). The challenge is
# offered when the minutes it is expected to spare are at least the minutes it takes:
# each lesson the path asks for is spared with the probability the skill model gives that
# the learner knows every skill it teaches (the prior for a skill never assessed), counted
# in the lessons' own minutes, not the course's stated hours (those may include projects
# and practice a challenge does not excuse); the challenge asks about
# EXPECTED_QUESTIONS_PER_SKILL questions on each skill of the course not yet shown
# (insights.diagnostic.adaptive_skill_ids). Offered once: after a finished challenge of
# the course the path plans from what it measured.
#
# Lessons outside the goal: a path plans courses, but asks only for the lessons its goal
# needs. A lesson teaching none of the goal's skills is left out ("optional_lessons"),
# unless another course of the path builds on its course (a course prerequisite is met
# by completing the whole course or showing all it teaches, learning.locks) or a lesson
# the goal needs builds on it, directly or through others. A course none of whose lessons
# is tagged with a goal skill stays whole: its course-level skills are what chose it.


class PathError(Exception):
    """The goal or the catalogue does not allow a path; the message says why."""


@dataclass(frozen=True)
class PathItem:
    id: int
    title: str
    slug: str
    difficulty: str
    skills_covered: list[str]
    estimated_hours: float
    reason: str
    sequence: int
    type: str = "course"
    skill_names: list[str] = field(default_factory=list)
    # Lessons of the course whose skills the learner has shown ({"id", "title", "reason"}):
    # the path does not ask for them (the lock rule opens what depends on them).
    skip_lessons: list[dict] = field(default_factory=list)
    # Lessons the goal does not need ({"id", "title", "skills", "reason"}; "Lessons outside the
    # goal" above): the path leaves them out as well; the learner may still take them.
    optional_lessons: list[dict] = field(default_factory=list)
    # Lessons the goal does not need that the learner already completed: done, not
    # "optional", so not listed above, and not in the hours either (nothing left to do).
    completed_outside: list[int] = field(default_factory=list)
    # {"minutes", "minutes_saved", "reason"} when the path asks for the course challenge
    # first (see "Test out first" above), else None.
    challenge: dict | None = None
    # Else a skill check first for each skill where one pays: {"skill", "name", "minutes",
    # "minutes_saved", "reason"}.
    skill_checks: list[dict] = field(default_factory=list)
    # How estimated_hours follow from the course's stated hours when lessons are left out
    # ("4.3 h of the course's 20 h: ..."); "" when the path asks for the whole course.
    hours_note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PathPlan:
    goal_id: int
    items: list[PathItem]
    metadata: dict = field(default_factory=dict)

    def item_dicts(self) -> list[dict]:
        return [item.as_dict() for item in self.items]


@dataclass(frozen=True)
class PathChanges:
    added: list[int]
    removed: list[int]
    reordered: list[int]
    summary: str

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.reordered)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "removed": self.removed,
            "reordered": self.reordered,
            "text": self.summary,
        }


@dataclass(frozen=True)
class _Lesson:
    id: int
    title: str
    minutes: int
    skills: list[str]  # its own, or its course's when it has none (as learning.locks)
    prerequisites: list[int]  # the lessons it builds on (any course)


@dataclass
class _Catalog:
    courses: dict[int, dict]
    skills: dict[int, list[str]]
    prerequisites: dict[int, list[int]]
    skill_names: dict[str, str] = field(default_factory=dict)
    # Course id -> its lessons in order, for the courses the call's paths plan
    # (``_path_lessons``).
    lessons: dict[int, list[_Lesson]] = field(default_factory=dict)

    def name(self, slug: str) -> str:
        return self.skill_names.get(slug, slug)


def _any_of(ids: set[int]) -> RawSQL:
    """``ids`` as one array parameter for ``__in``: thousands of course ids as an IN list
    cost more to send than the rows they select."""
    return RawSQL("SELECT unnest(%s::bigint[])", [sorted(ids)])


def _courses_teaching(skills: set[str]) -> tuple[set[int], dict[int, list[int]]]:
    """The published courses teaching any of ``skills`` and, transitively, the published
    courses they build on, with the prerequisite edges among them: one query, plus one per
    level of the prerequisite chain. A draft prerequisite cannot be taken; it does not
    block the plan (nor is it followed)."""
    ids = set(
        Course.objects.published().filter(skills__slug__in=skills).values_list("id", flat=True)
    )
    return _courses_teaching_from(ids)


def _courses_teaching_from(ids: set[int]) -> tuple[set[int], dict[int, list[int]]]:
    """``ids`` and the published courses they build on, transitively, with the edges among
    them: one query per level of the prerequisite chain."""
    ids = set(ids)
    prerequisites: dict[int, list[int]] = defaultdict(list)
    frontier = set(ids)
    while frontier:
        found = set()
        for course_id, required_id in (
            Course.prerequisites.through.objects.filter(
                from_course_id__in=_any_of(frontier), to_course__in=Course.objects.published()
            )
            .order_by("to_course_id")
            .values_list("from_course_id", "to_course_id")
        ):
            prerequisites[course_id].append(required_id)
            found.add(required_id)
        frontier = found - ids
        ids |= found
    return ids, prerequisites


def _load_catalog(*, wanted: set[str]) -> _Catalog:
    """The courses a plan for the ``wanted`` skill slugs can use (those teaching one and
    their prerequisite closure, ``_courses_teaching``) with their skills, not the whole
    catalogue: a plan only takes courses covering a gap and what they build on. Their
    lessons are read once the plans know their courses (``_path_lessons``).

    The courses' rows come from this process's memo of the current catalogue version
    when the caller may use one (``skillstudio.data_versions.catalog_memo_version``: not
    inside a transaction that edited the catalogue), the same rows either way."""
    version = catalog_memo_version()
    if version is None:
        ids, prerequisites = _courses_teaching(wanted)
        courses, skills, names = _course_rows(ids)
    else:
        courses, skills, names, prerequisites = _memoised_courses(version, wanted)
    return _Catalog(courses, skills, prerequisites, names)


def _course_rows(
    ids: set[int],
) -> tuple[dict[int, dict], dict[int, list[str]], dict[str, str]]:
    """The published courses of ``ids`` (by id), the slugs of the skills each teaches (by
    name) and those skills' names (by slug): two queries."""
    courses = {
        row["id"]: row
        for row in Course.objects.published()
        .filter(pk__in=_any_of(ids))
        .values("id", "title", "slug", "difficulty", "estimated_hours")
    }
    skills: dict[int, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for course_id, slug, name in (
        Course.skills.through.objects.filter(course_id__in=_any_of(set(courses)))
        .order_by("skill__name", "skill__slug")
        .values_list("course_id", "skill__slug", "skill__name")
    ):
        skills[course_id].append(slug)
        names[slug] = name
    return courses, skills, names


# The catalogue rows of plans, memoised per catalogue version (skillstudio.memo): per goal
# skill, the courses a plan for it can use (those teaching it and their prerequisite
# closure); per course, its row, its skills (slug, name) and its published prerequisites.
_MEMO = CatalogMemo(size=20_000, ttl=600.0)


def paths_memo_clear() -> None:
    """Forget every memoised catalogue row of plans (tests measuring a fresh process)."""
    _MEMO.clear()


def _closures(slugs: set[str]) -> dict[str, frozenset[int]]:
    """Per skill slug, the published courses teaching it and, transitively, the published
    courses they build on: the queries of ``_courses_teaching`` for all of them at once."""
    teaching: dict[str, set[int]] = defaultdict(set)
    for course_id, slug in (
        Course.objects.published().filter(skills__slug__in=slugs).values_list("id", "skills__slug")
    ):
        teaching[slug].add(course_id)
    _, prerequisites = _courses_teaching_from(set().union(*teaching.values()))
    closures = {}
    for slug in slugs:
        reached = set(teaching.get(slug, ()))
        frontier = list(reached)
        while frontier:
            for required in prerequisites.get(frontier.pop(), ()):
                if required not in reached:
                    reached.add(required)
                    frontier.append(required)
        closures[slug] = frozenset(reached)
    return closures


def _course_entries(ids: set[int]) -> dict[int, tuple[dict, tuple, tuple]]:
    """Per published course of ``ids``: its row, its skills' (slug, name) by name, and its
    published prerequisites by id (as ``_courses_teaching`` orders them): two queries."""
    published = Course.Status.PUBLISHED
    courses = {
        row["id"]: row
        for row in Course.objects.published()
        .filter(pk__in=_any_of(ids))
        .annotate(
            required=ArrayAgg(
                "prerequisites__id",
                filter=Q(prerequisites__status=published),
                order_by="prerequisites__id",
            )
        )
        .values("id", "title", "slug", "difficulty", "estimated_hours", "required")
    }
    skills: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for course_id, slug, name in (
        Course.skills.through.objects.filter(course_id__in=_any_of(set(courses)))
        .order_by("skill__name", "skill__slug")
        .values_list("course_id", "skill__slug", "skill__name")
    ):
        skills[course_id].append((slug, name))
    return {
        course_id: (
            {key: value for key, value in row.items() if key != "required"},
            tuple(skills.get(course_id, ())),
            tuple(row["required"] or ()),
        )
        for course_id, row in courses.items()
    }


def _memoised_courses(
    version: str, wanted: set[str]
) -> tuple[dict[int, dict], dict[int, list[str]], dict[str, str], dict[int, list[int]]]:
    """``_courses_teaching`` and ``_course_rows`` for ``wanted`` through the memo: the
    same courses, skills, names and prerequisite edges (fresh lists and dicts each call,
    the course rows themselves shared: read-only)."""
    closures = _MEMO.get_many(version, (("skill", slug) for slug in wanted), keyed_read(_closures))
    ids = set().union(*closures.values()) if closures else set()
    entries = _MEMO.get_many(version, (("course", pk) for pk in ids), keyed_read(_course_entries))
    courses: dict[int, dict] = {}
    skills: dict[int, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    prerequisites: dict[int, list[int]] = defaultdict(list)
    for (_, course_id), (row, taught, required) in entries.items():
        courses[course_id] = row  # shared with the memo: plans only read course rows
        for slug, name in taught:
            skills[course_id].append(slug)
            names[slug] = name
        if required:
            prerequisites[course_id] = list(required)
    return courses, skills, names, prerequisites


def _path_lessons(catalog: _Catalog, course_ids: set[int]) -> dict[int, list[_Lesson]]:
    """Every lesson of these courses in order, with its skills (a lesson without skills of
    its own is judged by its course's) and the lessons it builds on: one query."""
    lessons: dict[int, list[_Lesson]] = defaultdict(list)
    if not course_ids:
        return lessons
    for row in (
        Lesson.objects.filter(module__course_id__in=_any_of(course_ids))
        .annotate(
            skill_slugs=ArrayAgg("skills__slug", distinct=True),
            prerequisite_ids=ArrayAgg("prerequisites__id", distinct=True),
        )
        .order_by("module__course_id", "module__order", "order", "id")
        .values(
            "id",
            "title",
            "estimated_minutes",
            "module__course_id",
            "skill_slugs",
            "prerequisite_ids",
        )
    ):
        course_id = row["module__course_id"]
        own = sorted(
            (slug for slug in row["skill_slugs"] or [] if slug),
            key=lambda slug: (catalog.name(slug), slug),
        )
        lessons[course_id].append(
            _Lesson(
                id=row["id"],
                title=row["title"],
                minutes=row["estimated_minutes"],
                skills=own or catalog.skills[course_id],
                prerequisites=[pk for pk in row["prerequisite_ids"] or [] if pk],
            )
        )
    return lessons


def _choose_gap_courses(
    catalog: _Catalog, gaps: dict[str, int], excluded: set[int]
) -> tuple[list[int], list[str]]:
    """Greedy weighted set cover: repeatedly take the course covering most gap per hour.

    Gap size is (target level - current level) summed over the still uncovered skills a
    course teaches. Ties go to fewer hours, then the lower id, so plans are deterministic.
    Returns the chosen course ids and the gap skills no course teaches.
    """
    uncovered = dict(gaps)
    chosen: list[int] = []
    # Only a course teaching a gap can cover some: those are the candidates (thousands of
    # courses at 10x, a few teaching each gap).
    teaching: dict[str, list[int]] = defaultdict(list)
    for course_id in catalog.courses:
        for slug in catalog.skills.get(course_id, ()):
            if slug in gaps:
                teaching[slug].append(course_id)
    while uncovered:
        best: tuple[Decimal, Decimal, int] | None = None
        for course_id in {c for slug in uncovered for c in teaching.get(slug, ())}:
            if course_id in excluded or course_id in chosen:
                continue
            covered = sum(uncovered.get(slug, 0) for slug in catalog.skills[course_id])
            if not covered:
                continue
            hours = Decimal(catalog.courses[course_id]["estimated_hours"])
            key = (Decimal(covered) / hours, -hours, -course_id)
            if best is None or key > best:
                best = key
        if best is None:
            break
        course_id = -best[2]
        chosen.append(course_id)
        for slug in catalog.skills[course_id]:
            uncovered.pop(slug, None)
    return chosen, [slug for slug in gaps if slug in uncovered]


def _with_prerequisites(
    catalog: _Catalog, roots: list[int], mastered: set[int], left_out: list[int]
) -> tuple[set[int], dict[int, list[int]]]:
    """Roots plus every unmastered prerequisite, transitively, by iterative DFS.

    Raises PathError naming the courses of the first cycle met; the visiting/done marks
    guarantee termination on any graph.
    """
    visiting, done = 1, 2
    state: dict[int, int] = {}
    edges: dict[int, list[int]] = defaultdict(list)  # course -> prerequisites in the path
    for root in sorted(roots):
        if state.get(root) == done:
            continue
        state[root] = visiting
        trail = [root]
        stack = [(root, iter(catalog.prerequisites[root]))]
        while stack:
            node, pending = stack[-1]
            required = next(pending, None)
            if required is None:
                stack.pop()
                trail.pop()
                state[node] = done
                continue
            if required in mastered and required not in roots:
                if required not in left_out:
                    left_out.append(required)
                continue
            edges[node].append(required)
            if state.get(required) == visiting:
                cycle = [*trail[trail.index(required) :], required]
                names = " → ".join(catalog.courses[c]["title"] for c in cycle)
                raise PathError(
                    f"Prerequisite cycle between courses: {names}. "
                    "The course prerequisites must be fixed before a path can be planned."
                )
            if state.get(required) == done:
                continue
            state[required] = visiting
            trail.append(required)
            stack.append((required, iter(catalog.prerequisites[required])))
    return set(state), edges


def _ordered(catalog: _Catalog, included: set[int], edges: dict[int, list[int]]) -> list[int]:
    """Topological order (prerequisites first); among ready courses the easiest comes first."""
    waiting = {course_id: len(set(edges[course_id])) for course_id in included}
    unlocks: dict[int, list[int]] = defaultdict(list)
    for course_id in included:
        for required in set(edges[course_id]):
            unlocks[required].append(course_id)

    def key(course_id: int) -> tuple[int, str, int]:
        course = catalog.courses[course_id]
        return (DIFFICULTY_RANK.get(course["difficulty"], 0), course["title"], course_id)

    ready = [key(c) for c, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        course_id = heapq.heappop(ready)[2]
        order.append(course_id)
        for dependent in unlocks[course_id]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, key(dependent))
    return order


# A skill the learner answered "I don't know" on, with no other evidence, in a reason: their
# own word, not "not assessed" minutes after the diagnostic asked.
DECLINED = "you answered “I don't know”"


def _unmeasured(declined: bool) -> str:
    """What stands in for a level the learner has not got: their "I don't know", or none."""
    return DECLINED if declined else "not assessed"


def _standing(
    name: str, level: int, target: int, declined: bool = False, mastery: SkillMastery | None = None
) -> str:
    """ "Python (level 3 of 7)", "Python (not assessed, target 7)", "Python (you answered
    “I don't know”, target 7)", and for a level at its target the state does not confirm
    yet, "Python (level 8, familiar on 1 answer: not yet proficient)"."""
    if level >= target and mastery is not None:
        return _taught_standing(name, mastery)
    if level:
        return f"{name} (level {level} of {target})"
    return f"{name} ({_unmeasured(declined)}, target {target})"


def _taught_standing(name: str, mastery: SkillMastery | None, declined: bool = False) -> str:
    """ "Flask (not assessed)", "Flask (level 7, familiar on 2 answers: not yet proficient)",
    "Git (level 7, attempted on 1 answer, not practised for 30+ days: not yet proficient)":
    why a prerequisite the learner has a level in is still planned."""
    if mastery is None or not mastery.is_assessed:
        return f"{name} ({_unmeasured(declined)})"
    # A faded state sits below its level (the level is the last answer's): say why, in
    # words that hold until the state steps down again, so the plan's reason stays stable.
    faded = f", not practised for {REVIEW_INTERVAL_DAYS}+ days" if mastery.faded else ""
    return (
        f"{name} (level {mastery.level}, {mastery.label} on {answers_text(mastery.answers)}"
        f"{faded}: not yet proficient)"
    )


def _reason(
    gap_skills: list[tuple[str, int, int, bool, SkillMastery | None]],
    dependents: list[str],
    taught: list[tuple[str, SkillMastery | None, bool]],
) -> str:
    """The learner's numbers with the names: "Builds foundation in Python (level 3 of 7);
    prerequisite for Web APIs", or for a course that only opens others, "Prerequisite for
    Web APIs with Flask, teaching Flask (level 7, familiar on 2 answers: not yet
    proficient)": ``taught`` are its skills not yet shown, what keeps it planned."""
    parts = []
    if gap_skills:
        parts.append("Builds foundation in " + ", ".join(_standing(*skill) for skill in gap_skills))
    if dependents:
        text = f"Prerequisite for {', '.join(dependents)}"
        if not parts and taught:
            text += ", teaching " + ", ".join(_taught_standing(*skill) for skill in taught)
        parts.append(text if not parts else text[0].lower() + text[1:])
    return "; ".join(parts)


def plan_learning_paths(
    *,
    goals: list[LearningGoal],
    now: datetime,
    levels: dict[int, dict[str, SkillLevel]] | None = None,
) -> dict[int, PathPlan | PathError]:
    """Plan each goal's path (by goal id): the plan, or the PathError saying why there is none.

    Reads only, writes nothing. The catalogue is loaded once for all the goals (only the
    courses that teach their target skills and what those build on), and the
    learners' skill levels (`levels`, by learner id, when the caller has them), targets and
    completed courses and lessons with one query each.
    """
    learners = list({goal.learner_id: goal.learner for goal in goals}.values())
    if levels is None:
        levels = skill_levels_for(learners=learners)
    targets: dict[int, list[tuple[str, int]]] = {goal.pk: [] for goal in goals}
    target_names: dict[str, str] = {}
    for goal_id, slug, name, level in (
        GoalSkill.objects.filter(goal__in=[goal.pk for goal in goals])
        .order_by("goal_id", "skill__name", "skill__slug")
        .values_list("goal_id", "skill__slug", "skill__name", "target_level")
    ):
        targets[goal_id].append((slug, level))
        target_names[slug] = name
    records = {learner.pk: _Record() for learner in learners}

    # What each learner did that a plan reads (``_Record``): one query.
    def kind(name: str) -> Value:
        return Value(name, output_field=CharField())

    no_skill = Value(None, output_field=CharField())
    no_id = Value(None, output_field=IntegerField())
    finished = AssessmentAttempt.objects.filter(
        learner_id__in=list(records), submitted_at__isnull=False
    )
    for learner_id, row_kind, object_id, slug in (
        Enrollment.objects.filter(learner_id__in=list(records), status=Enrollment.Status.COMPLETED)
        .values_list("learner_id", kind("courses"), "course_id", no_skill)
        .union(
            LessonProgress.objects.filter(
                learner_id__in=list(records), status=LessonProgress.Status.COMPLETED
            ).values_list("learner_id", kind("lessons"), "lesson_id", no_skill),
            finished.filter(assessment__kind=Assessment.Kind.COURSE_CHALLENGE).values_list(
                "learner_id", kind("challenged"), "assessment__course_id", no_skill
            ),
            Answer.objects.filter(
                attempt__learner_id__in=list(records),
                attempt__submitted_at__isnull=False,
                attempt__assessment__kind__in=[
                    Assessment.Kind.SKILL_CHECK,
                    Assessment.Kind.COURSE_CHALLENGE,
                ],
            ).values_list("attempt__learner_id", kind("measured"), no_id, "question__skill__slug"),
            Answer.objects.filter(
                BLANK_RESPONSE,
                attempt__learner_id__in=list(records),
                attempt__submitted_at__isnull=False,
            )
            .exclude(attempt__adaptive_skills=[])
            .values_list("attempt__learner_id", kind("declined"), no_id, "question__skill__slug"),
            all=True,
        )
    ):
        getattr(records[learner_id], row_kind).add(slug if object_id is None else object_id)
    wanted = {slug for own in targets.values() for slug, _ in own}
    catalog = _load_catalog(wanted=wanted) if goals else None
    if catalog is not None:
        catalog.skill_names |= target_names
    plans: dict[int, PathPlan | PathError] = {}
    routes: dict[int, _Route] = {}
    for goal in goals:
        try:
            routes[goal.pk] = _route(
                goal,
                targets[goal.pk],
                levels[goal.learner_id],
                catalog,
                records[goal.learner_id].courses,
                now,
            )
        except PathError as error:
            plans[goal.pk] = error
    if routes:
        catalog.lessons = _path_lessons(
            catalog, {course_id for route in routes.values() for course_id in route.order}
        )
    for goal in goals:
        if goal.pk in routes:
            plans[goal.pk] = _plan(
                routes[goal.pk],
                catalog,
                records[goal.learner_id],
                now,
            )
    return {goal.pk: plans[goal.pk] for goal in goals}


def plan_learning_path(*, goal: LearningGoal, now: datetime) -> PathPlan:
    """Plan the courses that close the goal's skill gaps. Reads only, writes nothing."""
    plan = plan_learning_paths(goals=[goal], now=now)[goal.pk]
    if isinstance(plan, PathError):
        raise plan
    return plan


@dataclass
class _Record:
    """What a learner did that their plans read: completed courses and lessons, finished
    course challenges, the skills a finished skill check or course challenge asked about,
    and the skills of questions they answered "I don't know" in a finished adaptive
    attempt."""

    courses: set[int] = field(default_factory=set)
    lessons: set[int] = field(default_factory=set)
    challenged: set[int] = field(default_factory=set)
    measured: set[str] = field(default_factory=set)
    declined: set[str] = field(default_factory=set)


@dataclass
class _Route:
    """A goal's courses in study order and what chose them, before their lessons are read."""

    goal: LearningGoal
    targets: list[tuple[str, int]]
    current: dict[str, int]  # level per target skill, 0 when not assessed
    gaps: dict[str, int]  # target skill -> levels still missing
    states: dict[str, SkillMastery]
    completed: set[int]
    left_out: list[int]  # courses shown or completed that teach a gap
    remaining: list[str]  # gap skills no course teaches
    order: list[int]
    edges: dict[int, list[int]]  # course -> its prerequisites in the path


def _route(
    goal: LearningGoal,
    targets: list[tuple[str, int]],
    levels: dict[str, SkillLevel],
    catalog: _Catalog,
    completed: set[int],
    now: datetime,
) -> _Route:
    if goal.status != LearningGoal.Status.ACTIVE:
        raise PathError(f"Goal '{goal.title}' is {goal.status}: only active goals get a path.")
    if not targets:
        raise PathError(
            f"Goal '{goal.title}' has no target skills: add at least one skill with a target level."
        )
    current = {slug: levels[slug].level if slug in levels else 0 for slug, _ in targets}
    states = {slug: level.mastery_at(now) for slug, level in levels.items()}
    # A target is reached only when the state confirms the level (insights.mastery): a level
    # on thin evidence (one right answer, then "I don't know") is still a gap, of at least
    # one level, which a skill check or the course's challenge can close.
    gaps = {
        slug: max(target - current[slug], 1)
        for slug, target in targets
        if not (
            slug in states
            and target_reached(level=current[slug], state=states[slug].state, target_level=target)
        )
    }
    shown = {course_id for course_id, slugs in catalog.skills.items() if _all_shown(slugs, states)}
    mastered = completed | shown
    # A course the learner has shown they know is not re-taught, even if it teaches a gap;
    # nor is one they completed, which stays named ("Skipped X: you completed it") rather
    # than vanishing from the re-planned path (QA walk, issue 13).
    left_out = sorted(c for c in mastered if any(slug in gaps for slug in catalog.skills[c]))
    roots, remaining = _choose_gap_courses(catalog, gaps, excluded=mastered)
    included, edges = _with_prerequisites(catalog, roots, mastered, left_out)
    return _Route(
        goal=goal,
        targets=targets,
        current=current,
        gaps=gaps,
        states=states,
        completed=completed,
        left_out=left_out,
        remaining=remaining,
        order=_ordered(catalog, included, edges),
        edges=edges,
    )


def _plan(
    route: _Route,
    catalog: _Catalog,
    record: _Record,
    now: datetime,
) -> PathPlan:
    goal, states, current, gaps = route.goal, route.states, route.current, route.gaps
    target_of = dict(route.targets)
    required_by: dict[int, list[str]] = defaultdict(list)
    for course_id in route.order:  # path order keeps "Prerequisite for A, B" in study order
        for required in dict.fromkeys(route.edges[course_id]):
            required_by[required].append(catalog.courses[course_id]["title"])
    outside = _outside_goal(catalog, route)
    items = []
    for sequence, course_id in enumerate(route.order, start=1):
        course = catalog.courses[course_id]
        taught = catalog.skills[course_id]
        skip = _shown_lessons(catalog, course_id, states)
        shown = {lesson["id"] for lesson in skip}
        not_needed = {lesson.id for lesson in catalog.lessons[course_id] if lesson.id in outside}
        not_needed -= shown
        optional = _optional_lessons(catalog, course_id, not_needed - record.lessons, goal)
        done_outside = not_needed & record.lessons
        completed_outside = [
            lesson.id for lesson in catalog.lessons[course_id] if lesson.id in done_outside
        ]
        left_out = shown | not_needed
        hours = _hours_left(catalog, course_id, course, left_out)
        # What keeps the course planned: its skills not yet shown.
        open_skills = [s for s in taught if not _all_shown([s], states)]
        challenge, checks = _test_out_offers(
            catalog,
            course_id,
            open_skills,
            states,
            # Lessons already completed are not spared by a measurement, nor left.
            planned={lesson.id for lesson in catalog.lessons[course_id]}
            - left_out
            - record.lessons,
            measured=record.measured,
            declined=record.declined,
            challenged=course_id in record.challenged,
        )
        items.append(
            PathItem(
                id=course_id,
                title=course["title"],
                slug=course["slug"],
                difficulty=course["difficulty"],
                skills_covered=list(taught),
                reason=_reason(
                    [
                        (
                            catalog.name(s),
                            current[s],
                            target_of[s],
                            s in record.declined,
                            states.get(s),
                        )
                        for s in gaps
                        if s in taught
                    ],
                    required_by[course_id],
                    [(catalog.name(s), states.get(s), s in record.declined) for s in open_skills],
                ),
                sequence=sequence,
                skill_names=[catalog.name(s) for s in taught],
                skip_lessons=skip,
                optional_lessons=optional,
                completed_outside=completed_outside,
                estimated_hours=hours,
                challenge=challenge,
                skill_checks=checks,
                hours_note=_hours_note(catalog, course_id, course, left_out, hours),
            )
        )
    skipped = [
        {
            "id": course_id,
            "title": catalog.courses[course_id]["title"],
            "reason": _skip_reason(catalog, course_id, route.completed, states),
        }
        for course_id in route.left_out
    ]
    metadata = _metadata(
        goal, now, route.targets, current, gaps, route.remaining, items, goal.learner
    )
    metadata["skipped"] = skipped
    metadata["remaining_gap_names"] = [catalog.name(slug) for slug in route.remaining]
    for gap in metadata["gaps"]:
        gap["name"] = catalog.name(gap["skill"])
        # In the reasons' own words (QA walk: "not assessed" here beside a reason saying the
        # learner answered "I don't know").
        gap["summary"] = _standing(
            gap["name"],
            gap["current_level"],
            gap["target_level"],
            gap["skill"] in record.declined,
            states.get(gap["skill"]),
        )
    return PathPlan(goal_id=goal.pk, items=items, metadata=metadata)


def _outside_goal(catalog: _Catalog, route: _Route) -> set[int]:
    """The path's lessons its goal does not need (see "Lessons outside the goal" above):
    lessons teaching none of the goal's skills, in a course no other course of the path
    builds on, that no lesson the goal needs builds on."""
    goal_skills = {slug for slug, _ in route.targets}
    built_on = {required for course_id in route.order for required in route.edges[course_id]}
    lessons = {
        lesson.id: lesson for course_id in route.order for lesson in catalog.lessons[course_id]
    }
    needed: set[int] = set()
    for course_id in route.order:
        own = catalog.lessons[course_id]
        kept = [
            lesson.id
            for lesson in own
            if course_id in built_on or goal_skills.intersection(lesson.skills)
        ]
        # Lessons tagged with none of the goal's skills in a course that teaches one: the
        # tags do not say which lessons teach it, so the whole course stays.
        needed.update(kept or (lesson.id for lesson in own))
    pending = list(needed)
    while pending:
        for required in lessons[pending.pop()].prerequisites:
            if required in lessons and required not in needed:
                needed.add(required)
                pending.append(required)
    return set(lessons) - needed


def _optional_lessons(
    catalog: _Catalog, course_id: int, outside: set[int], goal: LearningGoal
) -> list[dict]:
    """The course's lessons in ``outside`` with their skill slugs and why, e.g. "it teaches
    JavaScript, which your goal “Backend developer” does not ask for"."""
    return [
        {
            "id": lesson.id,
            "title": lesson.title,
            "skills": lesson.skills,
            "reason": (
                f"it teaches {' and '.join(catalog.name(s) for s in lesson.skills)}, which "
                f"your goal “{goal.title}” does not ask for"
            ),
        }
        for lesson in catalog.lessons[course_id]
        if lesson.id in outside
    ]


def left_out_lesson_ids(item: dict) -> set[int]:
    """The lessons a stored path item does not ask for: shown, or outside the goal (its
    ``estimated_hours`` already leave them out), completed ones included."""
    return {
        lesson["id"]
        for lesson in [*item.get("skip_lessons", []), *item.get("optional_lessons", [])]
    } | set(item.get("completed_outside", []))


def _all_shown(slugs: list[str], states: dict[str, SkillMastery]) -> bool:
    """Every one of these skills is proficient or mastered (insights.mastery.CONFIRMING)."""
    return bool(slugs) and all(s in states and states[s].state in CONFIRMING for s in slugs)


def _evidence(catalog: _Catalog, slugs: list[str], states: dict[str, SkillMastery]) -> str:
    """E.g. "Python proficient on 6 answers, SQL mastered on 9 answers"."""
    return ", ".join(
        f"{catalog.name(s)} {states[s].label} on {answers_text(states[s].answers)}" for s in slugs
    )


def _assessed(states: dict[str, SkillMastery], slug: str) -> bool:
    """The learner answered at least one question on the skill."""
    return slug in states and states[slug].is_assessed


def _chance(states: dict[str, SkillMastery], slug: str) -> float:
    """The skill model's probability that the learner knows the skill (the prior when it
    was never assessed)."""
    state = states.get(slug)
    return state.mastery if state and state.mastery is not None else bkt.DEFAULT_PARAMS.prior


def _chances_text(catalog: _Catalog, slugs: list[str], states: dict[str, SkillMastery]) -> str:
    """ "Python 60 % (familiar on 2 answers), SQL 30 % (not assessed yet: the starting
    estimate for any learner)"."""
    return ", ".join(
        f"{catalog.name(s)} {round(100 * _chance(states, s))} % ("
        + (
            f"{states[s].label} on {answers_text(states[s].answers)}"
            if _assessed(states, s)
            else "not assessed yet: the starting estimate for any learner"
        )
        + ")"
        for s in slugs
    )


def _test_out_offers(
    catalog: _Catalog,
    course_id: int,
    open_skills: list[str],
    states: dict[str, SkillMastery],
    planned: set[int],
    measured: set[str],
    declined: set[str],
    challenged: bool,
) -> tuple[dict | None, list[dict]]:
    """What to measure before the course's ``planned`` lessons ("Test out first" above):
    the course challenge when each skill not yet shown pays for its questions (once per
    course), else a skill check for each that does and that no finished check or challenge
    asked about; (None, []) otherwise. A skill the learner answered "I don't know" on and
    has no evidence for never pays: they told us.

    A skill the course's challenge did not ask about (shown then) may have faded since:
    its check is still offered, rather than its lessons straight away (in world 2 such
    PostgreSQL lessons were 480 of 3,118 wasted minutes, BENCHMARKS "Session 12")."""
    lessons = [lesson for lesson in catalog.lessons.get(course_id, []) if lesson.id in planned]
    per_skill = math.ceil(EXPECTED_QUESTIONS_PER_SKILL * MINUTES_PER_QUESTION)

    def lesson_spared(lesson: _Lesson, measured: set[str]) -> float:
        # A lesson is spared when each of its skills is shown: by the measurement (with the
        # chance the learner knows it) or already; a skill not measured and not shown keeps it.
        return lesson.minutes * math.prod(
            _chance(states, s) if s in measured else float(_all_shown([s], states))
            for s in lesson.skills
        )

    def spared(measured: set[str]) -> float:
        return sum(lesson_spared(lesson, measured) for lesson in lessons)

    paying = [
        s
        for s in open_skills
        if spared({s}) >= per_skill and not (s in declined and not _assessed(states, s))
    ]
    if not paying:
        return None, []
    # The course's stated hours per lesson minute: how the item's hours follow from its
    # lessons (``_hours_left``), so a saving in lesson minutes is also one in those hours.
    hours_per_minute = float(catalog.courses[course_id]["estimated_hours"]) / sum(
        lesson.minutes for lesson in catalog.lessons[course_id]
    )

    def offer(measured: set[str], skills: list[str], **fields) -> dict:
        # Each planned lesson's minutes and expected saving, so the page can count only the
        # lessons still to do when the learner has completed some since (``path_payload``).
        saved = [lesson_spared(lesson, measured) for lesson in lessons]
        offered = {
            **fields,
            "minutes_saved": round(sum(saved)),
            "chances": _chances_text(catalog, skills, states),
            "hours_per_minute": hours_per_minute,
            "lessons": [
                [lesson.id, lesson.minutes, round(minutes, 2)]
                for lesson, minutes in zip(lessons, saved, strict=True)
            ],
        }
        return {**offered, "reason": offer_reason(offered, done=set())}

    if paying == open_skills and not challenged:
        return offer(set(open_skills), open_skills, minutes=per_skill * len(open_skills)), []
    checks = [
        offer({s}, [s], skill=s, name=catalog.name(s), minutes=per_skill)
        for s in paying
        if s not in measured
    ]
    return None, checks


def offer_reason(offer: dict, *, done: set[int]) -> str:
    """Why a course challenge (an offer without "skill") or a skill check pays, counting
    only the lessons of the offer not in ``done``: "… spares on average about 40 minutes of
    the 2 hours of lessons still to do, or about 4.7 h of the 14 h they take with their
    practice". The hours are the course's stated hours per lesson minute, as the item's
    hours and its hours note count them. QA walk: "… of the 2 hours of lessons left" beside
    a "14 h" item, unchanged after half of them were done."""
    todo = [
        (minutes, saved) for lesson_id, minutes, saved in offer["lessons"] if lesson_id not in done
    ]
    left = sum(minutes for minutes, _ in todo)
    saved = sum(saved for _, saved in todo)
    per_minute = offer["hours_per_minute"]
    spares = (
        f"spares on average about {_duration(saved)} of the {_duration(left)} of lessons "
        f"still to do, or about {round(saved * per_minute, 1):g} h of the "
        f"{round(left * per_minute, 1):g} h they take with their practice"
    )
    if "skill" not in offer:
        return (
            f"Chance you already know it: {offer['chances']}. The course challenge takes about "
            f"{offer['minutes']} minutes and {spares}: each skill it shows proficient skips "
            "that skill's lessons"
        )
    return (
        f"Chance you already know it: {offer['chances']}. A skill check takes about "
        f"{offer['minutes']} minutes and {spares}, if it shows {offer['name']} proficient"
    )


def _duration(minutes: float) -> str:
    """ "40 minutes", "2.5 hours"."""
    if minutes < 90:
        return f"{round(minutes)} minutes"
    return f"{round(minutes / 60, 1):g} hours"


def _shown_lessons(
    catalog: _Catalog, course_id: int, states: dict[str, SkillMastery]
) -> list[dict]:
    """The course's lessons whose every skill is proficient or mastered, with the evidence."""
    return [
        {
            "id": lesson.id,
            "title": lesson.title,
            "reason": _evidence(catalog, lesson.skills, states),
        }
        for lesson in catalog.lessons.get(course_id, [])
        if _all_shown(lesson.skills, states)
    ]


def _hours_left(catalog: _Catalog, course_id: int, course: dict, left_out: set[int]) -> float:
    """The course's hours less the share of its lesson minutes the path leaves out."""
    hours = Decimal(course["estimated_hours"])
    lessons = catalog.lessons.get(course_id, [])
    total = sum(lesson.minutes for lesson in lessons)
    if not left_out or not total:
        return float(hours)
    left = total - sum(lesson.minutes for lesson in lessons if lesson.id in left_out)
    return float((hours * left / total).quantize(Decimal("0.1")))


def _hours_note(
    catalog: _Catalog, course_id: int, course: dict, left_out: set[int], hours: float
) -> str:
    """How ``_hours_left`` reached the item's hours, in the course card's terms (its stated
    hours) and the lessons' minutes, e.g. "4.3 h of the course's 20 h: the 1 of its 4
    lessons the path asks for (30 of its 140 lesson minutes) and that share of its
    practice". QA walk: "20 h" on the course, "4.3 h" on the path after a check spared 72
    lesson minutes, with nothing relating the two."""
    lessons = catalog.lessons.get(course_id, [])
    total = sum(lesson.minutes for lesson in lessons)
    if not left_out or not total:
        return ""
    asked = [lesson for lesson in lessons if lesson.id not in left_out]
    stated = f"{hours:g} h of the course's {float(course['estimated_hours']):g} h"
    if not asked:
        return f"{stated}: the path asks for none of its {len(lessons)} lessons"
    return (
        f"{stated}: the {len(asked)} of its {len(lessons)} lessons the path asks for "
        f"({sum(lesson.minutes for lesson in asked)} of its {total} lesson minutes) and that "
        "share of its practice"
    )


def _skip_reason(
    catalog: _Catalog, course_id: int, completed: set[int], states: dict[str, SkillMastery]
) -> str:
    """E.g. "Skipped Python Fundamentals: Python proficient on 6 answers"."""
    title = catalog.courses[course_id]["title"]
    if course_id in completed:
        return f"Skipped {title}: you completed it"
    return f"Skipped {title}: {_evidence(catalog, catalog.skills[course_id], states)}"


def _metadata(goal, now, targets, current, gaps, remaining, items, learner) -> dict:
    total_hours = sum(Decimal(str(item.estimated_hours)) for item in items)
    weekly = Decimal(goal.weekly_hours)
    weeks = math.ceil(total_hours / weekly) if total_hours else 0
    taught = {slug for item in items for slug in item.skills_covered}
    reachable = None
    weeks_left = None
    if goal.deadline:
        today = now.astimezone(learner_timezone(learner)).date()
        days_left = (goal.deadline - today).days
        weeks_left = round(days_left / 7, 1)
        reachable = days_left > 0 and total_hours <= weekly * days_left / 7
    return {
        "total_courses": len(items),
        "total_hours": float(total_hours),
        "estimated_weeks": weeks,
        "skills_covered": [slug for slug in gaps if slug in taught],
        "remaining_gaps": remaining,
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "weeks_until_deadline": weeks_left,
        "deadline_reachable": reachable,
        "weekly_hours": float(weekly),
        "targets": dict(targets),
        "gaps": [
            {"skill": slug, "current_level": current[slug], "target_level": target}
            for slug, target in targets
            if slug in gaps
        ],
    }


def path_diff(*, old_items: list[dict] | None, new_items: list[dict]) -> PathChanges:
    """Courses added, removed and (among those kept) moved, with a one-line summary that
    also names the lessons a kept course now skips or asks for again."""
    new_ids = [item["id"] for item in new_items]
    if old_items is None:
        courses = f"{len(new_ids)} course{'s' if len(new_ids) != 1 else ''}"
        return PathChanges(new_ids, [], [], f"First version of this path: {courses}.")
    old_ids = [item["id"] for item in old_items]
    titles = {item["id"]: item["title"] for item in [*old_items, *new_items]}
    added = [c for c in new_ids if c not in old_ids]
    removed = [c for c in old_ids if c not in new_ids]
    kept_old = [c for c in old_ids if c in new_ids]
    kept_new = [c for c in new_ids if c in old_ids]
    reordered = [c for c, d in zip(kept_new, kept_old, strict=True) if c != d]
    parts = []
    if added:
        parts.append("added " + ", ".join(titles[c] for c in added))
    if removed:
        parts.append("removed " + ", ".join(titles[c] for c in removed))
    if reordered:
        parts.append("reordered " + ", ".join(titles[c] for c in reordered))
    parts.extend(_skip_changes(old_items, new_items))
    text = "; ".join(parts) if parts else "same courses and lessons; estimates or reasons updated"
    summary = f"{text[0].upper()}{text[1:]}."
    return PathChanges(added, removed, reordered, summary)


def _skip_changes(old_items: list[dict], new_items: list[dict]) -> list[str]:
    """ "now skips 2 lessons of X", "asks again for 1 lesson of X", "no longer suggests the
    X course challenge first", "suggests the Python skill check first" for the courses
    kept."""
    old_skips = {
        item["id"]: {lesson["id"] for lesson in item.get("skip_lessons", [])} for item in old_items
    }
    old_challenges = {item["id"]: bool(item.get("challenge")) for item in old_items}
    old_checks = {
        item["id"]: {check["name"] for check in item.get("skill_checks", [])} for item in old_items
    }
    parts = []
    for item in new_items:
        if item["id"] not in old_skips:
            continue
        now_skipped = {lesson["id"] for lesson in item.get("skip_lessons", [])}
        for verb, lessons in (
            ("now skips", now_skipped - old_skips[item["id"]]),
            ("asks again for", old_skips[item["id"]] - now_skipped),
        ):
            if lessons:
                count = f"{len(lessons)} lesson{'s' if len(lessons) != 1 else ''}"
                parts.append(f"{verb} {count} of {item['title']}")
        if bool(item.get("challenge")) != old_challenges[item["id"]]:
            verb = "suggests" if item.get("challenge") else "no longer suggests"
            parts.append(f"{verb} the {item['title']} course challenge first")
        now_checks = {check["name"] for check in item.get("skill_checks", [])}
        for verb, names in (
            ("suggests", now_checks - old_checks[item["id"]]),
            ("no longer suggests", old_checks[item["id"]] - now_checks),
        ):
            if names:
                parts.append(f"{verb} the {' and '.join(sorted(names))} skill check first")
    return parts


def snapshot_diff(*, older: LearningPathSnapshot, newer: LearningPathSnapshot) -> PathChanges:
    """What changed between two versions of one path, for the history view."""
    if older.goal_id != newer.goal_id:
        raise PathError("Only versions of the same goal's path can be compared.")
    return path_diff(old_items=older.items, new_items=newer.items)


def path_signature(items: list[dict], metadata: dict) -> tuple:
    """What makes two plans the same path: courses, order, reasons, the timeline, the
    lessons left out, the challenges and skill checks suggested first and the courses left
    out with their evidence."""
    return (
        tuple(
            (
                item["id"],
                item["reason"],
                item["estimated_hours"],
                tuple(lesson["id"] for lesson in item.get("skip_lessons", [])),
                tuple(lesson["id"] for lesson in item.get("optional_lessons", [])),
                bool(item.get("challenge")),
                tuple(check["skill"] for check in item.get("skill_checks", [])),
            )
            for item in items
        ),
        metadata.get("estimated_weeks"),
        tuple(metadata.get("remaining_gaps", [])),
        metadata.get("deadline_reachable"),
        tuple((s["id"], s["reason"]) for s in metadata.get("skipped", [])),
    )


def store_snapshots(
    *,
    plans: list[tuple[LearningGoal, PathPlan]],
    now: datetime,
    trigger: str,
    iso_week: str = "",
) -> list[LearningPathSnapshot]:
    """Write each plan as its goal's next version and deactivate the previous one.

    Locks the goal rows (in id order) so concurrent generations queue up instead of racing
    for a version number; the unique constraints would reject a race anyway. Five queries
    for any number of goals.
    """
    if not plans:
        return []
    goal_ids = sorted(goal.pk for goal, _ in plans)
    with transaction.atomic():
        list(LearningGoal.objects.select_for_update().filter(pk__in=goal_ids).order_by("pk"))
        snapshots = LearningPathSnapshot.objects.filter(goal_id__in=goal_ids)
        previous = {s.goal_id: s for s in snapshots.filter(is_active=True).only("goal_id", "items")}
        last_versions = dict(
            snapshots.values("goal_id").annotate(v=Max("version")).values_list("goal_id", "v")
        )
        if previous:
            snapshots.filter(pk__in=[s.pk for s in previous.values()]).update(is_active=False)
        learners_changed({goal.learner_id for goal, _ in plans})
        new = []
        for goal, plan in plans:
            items = plan.item_dicts()
            before = previous.get(goal.pk)
            changes = path_diff(old_items=before.items if before else None, new_items=items)
            new.append(
                LearningPathSnapshot(
                    learner_id=goal.learner_id,
                    goal=goal,
                    version=last_versions.get(goal.pk, 0) + 1,
                    items=items,
                    metadata=plan.metadata,
                    is_active=True,
                    trigger=trigger,
                    changes=changes.as_dict(),
                    change_summary=changes.summary,
                    iso_week=iso_week,
                    created_at=now,
                )
            )
        return LearningPathSnapshot.objects.bulk_create(new)


def store_snapshot(
    *, goal: LearningGoal, plan: PathPlan, now: datetime, trigger: str, iso_week: str = ""
) -> LearningPathSnapshot:
    """Write the plan as the goal's next version (see `store_snapshots`)."""
    return store_snapshots(plans=[(goal, plan)], now=now, trigger=trigger, iso_week=iso_week)[0]


@dataclass(frozen=True)
class PathGeneration:
    """What a (re)generation did: the goal's current version, and whether it is new."""

    snapshot: LearningPathSnapshot
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"Path version {self.snapshot.version}: {self.snapshot.change_summary}"
        return (
            f"Your path is up to date: nothing changed since version {self.snapshot.version}, "
            "so no new version was written."
        )


def path_generate(
    *, goal: LearningGoal, now: datetime, trigger: str = LearningPathSnapshot.Trigger.GENERATED
) -> PathGeneration:
    """Plan the goal's path and store it as a new version, unless it would not change
    (then nothing is written). PathError leaves nothing written."""
    if trigger not in LearningPathSnapshot.Trigger.values:
        raise ValueError(f"Unknown trigger '{trigger}'.")
    plan = plan_learning_path(goal=goal, now=now)
    with transaction.atomic():
        # Compared under the goal's lock, so a concurrent generation of the same plan
        # waits and then finds it already stored.
        LearningGoal.objects.select_for_update().filter(pk=goal.pk).first()
        current = LearningPathSnapshot.objects.filter(goal=goal, is_active=True).first()
        if current is not None and path_signature(
            current.items, current.metadata
        ) == path_signature(plan.item_dicts(), plan.metadata):
            return PathGeneration(current, created=False)
        snapshot = store_snapshot(goal=goal, plan=plan, now=now, trigger=trigger)
    return PathGeneration(snapshot, created=True)


def generate_learning_path(
    *, goal: LearningGoal, now: datetime, trigger: str = LearningPathSnapshot.Trigger.GENERATED
) -> LearningPathSnapshot:
    """``path_generate``'s current version (new, or the unchanged one)."""
    return path_generate(goal=goal, now=now, trigger=trigger).snapshot


def path_payload(snapshot: LearningPathSnapshot) -> dict:
    """The seed's {"learning_path": [...], "metadata": {...}} shape, plus version facts.

    Each item says whether a learner can open its course now (``available``, read here in
    one query, as ``insights.selectors.recommendations_open`` does for cards): a course
    unpublished since the version was planned stays listed, without a link, until the next
    re-plan leaves it out (the planner reads published courses only);
    ``metadata.unavailable`` counts those items.
    """
    # Imported here: insights.path_progress reads this module's left_out_lesson_ids.
    from insights.path_progress import finished_earlier_for, path_progress

    items = snapshot.items or []
    course_ids = [item["id"] for item in items if item.get("type", "course") == "course"]
    published = set(
        Course.objects.published().filter(pk__in=course_ids).values_list("pk", flat=True)
    )
    done, completed, lessons = _items_done(snapshot.learner_id, items, course_ids)
    # Only a course without lesson minutes counts by its enrollment (rare: no query else).
    no_minutes = [c for c in course_ids if not sum(m for _, m in lessons.get(c, []))]
    progress = path_progress(
        items=items,
        lessons=lessons,
        completed_lessons=completed,
        completed_courses=set(
            Enrollment.objects.filter(
                learner_id=snapshot.learner_id,
                course_id__in=no_minutes,
                status=Enrollment.Status.COMPLETED,
            ).values_list("course_id", flat=True)
        )
        if no_minutes
        else set(),
        finished_earlier=finished_earlier_for(goal_ids=[snapshot.goal_id])[snapshot.goal_id],
    )
    learning_path = [
        {
            **item,
            **_offers_now(item, completed),
            "available": item["id"] in published,
            "done": item["id"] in done,
            "done_at": done[item["id"]].isoformat() if item["id"] in done else None,
            "hours_done": float(round(progress.item_hours[item["id"]], 1)),
        }
        for item in items
    ]
    return {
        "learning_path": learning_path,
        "metadata": {
            **snapshot.metadata,
            "goal_id": snapshot.goal_id,
            "version": snapshot.version,
            "trigger": snapshot.trigger,
            "generated_at": snapshot.created_at.isoformat(),
            "changes": snapshot.changes,
            "unavailable": sum(not item["available"] for item in learning_path),
            "left_path": courses_left(snapshot),
            "done_courses": len(done),
            # Hours done of the path's hours, as the dashboard's goal pace counts them.
            "done_hours": progress.as_dict()["done_hours"],
            "progress": progress.as_dict(),
        },
    }


def courses_left(snapshot: LearningPathSnapshot) -> list[dict]:
    """The courses this version dropped from the previous one that it leaves out on the
    learner's evidence, each with it as "Left out" words it ({"id", "title", "reason"}:
    "Python proficient on 6 answers"), so the page can say what a skill check or course
    challenge changed. A course dropped for another reason (no longer needed, unpublished)
    is named only by the version's summary."""
    removed = set((snapshot.changes or {}).get("removed", []))
    return [
        {
            "id": skip["id"],
            "title": skip["title"],
            "reason": skip["reason"].removeprefix(f"Skipped {skip['title']}: "),
        }
        for skip in snapshot.metadata.get("skipped", [])
        if skip["id"] in removed
    ]


# What an offer keeps for ``offer_reason``, not shown (the API shows the rest).
_OFFER_WORKINGS = ("lessons", "chances", "hours_per_minute")


def _offer_now(offer: dict, completed: set[int]) -> dict:
    if "lessons" not in offer:  # a version stored before offers kept their lessons
        return offer
    saved = sum(spared for lesson_id, _, spared in offer["lessons"] if lesson_id not in completed)
    return {
        **{key: value for key, value in offer.items() if key not in _OFFER_WORKINGS},
        "minutes_saved": round(saved),
        "reason": offer_reason(offer, done=completed),
    }


def _offers_now(item: dict, completed: set[int]) -> dict:
    """The item's course challenge and skill checks as of now: their savings and reasons
    count only the lessons still to do (``offer_reason``)."""
    now: dict = {}
    if item.get("challenge"):
        now["challenge"] = _offer_now(item["challenge"], completed)
    if item.get("skill_checks"):
        now["skill_checks"] = [_offer_now(check, completed) for check in item["skill_checks"]]
    return now


def _items_done(
    learner_id: int, items: list[dict], course_ids: list[int]
) -> tuple[dict[int, datetime], set[int], dict[int, list[tuple[int, int]]]]:
    """Course id -> when the learner finished it, for the path items whose every lesson the
    path asks for (its lessons less those it leaves out, ``left_out_lesson_ids``) they
    completed, skimmed ones included as course progress counts them: the last of those
    completions; second, the items' lessons the learner completed; third, the items'
    lessons as (id, minutes) by course id. One query (``insights.path_progress``'s), none
    for an empty path."""
    # Imported here: insights.path_progress reads this module's left_out_lesson_ids.
    from insights.path_progress import lessons_done_by

    lessons, completed_by = lessons_done_by(course_ids=course_ids, learner_ids=[learner_id])
    completed_at = completed_by[learner_id]
    done = {}
    for item in items:
        left_out = left_out_lesson_ids(item)
        asked = [
            completed_at.get(lesson_id)
            for lesson_id, _ in lessons.get(item["id"], [])
            if lesson_id not in left_out
        ]
        if asked and all(asked):
            done[item["id"]] = max(asked)
    return done, set(completed_at), lessons
