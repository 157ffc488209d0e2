"""Learning reads. Each ``*_for(user=…)`` selector returns only that user's rows; the
``*_reachable_by(user=…)`` ones, used by the API, add every learner's rows for admins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet
from django.utils import timezone

from accounts.selectors import reachable_by
from assessments.models import Assessment, AssessmentAttempt
from catalog.models import Course, Lesson, Module
from insights.models import LearningPathSnapshot
from learning.locks import (
    Blocker,
    EnrollmentRow,
    LockFacts,
    LockGraph,
    course_blockers,
    lesson_blockers,
    lesson_skippable,
    lock_facts,
    lock_graph,
)
from learning.models import Enrollment, GoalSkill, LearnerEvent, LearningGoal, LessonProgress
from skillstudio.access import can_manage_course


@dataclass(frozen=True)
class TestedOut:
    """The learner's latest passed challenge of a course, and what it still opens."""

    attempt: AssessmentAttempt
    # The course's skills no longer proficient or mastered now (by name): while any is,
    # the course is not met by the challenge any more (learning.locks).
    faded: list[str]


def last_failed_challenge(*, learner, course: Course) -> AssessmentAttempt | None:
    """The learner's latest finished challenge of ``course`` when it was not passed (and
    none was passed since): the course page says so beside its offer, which the path no
    longer makes (walk14: it offered it again with no word about the attempt)."""
    latest = _latest_challenge(learner=learner, course=course)
    return latest if latest is not None and not latest.passed else None


def _latest_challenge(*, learner, course: Course, **only) -> AssessmentAttempt | None:
    """The learner's latest finished challenge of ``course`` (narrowed by ``only``)."""
    if learner is None or not learner.is_authenticated:
        return None
    return (
        AssessmentAttempt.objects.filter(
            learner=learner,
            assessment__course=course,
            assessment__kind=Assessment.Kind.COURSE_CHALLENGE,
            submitted_at__isnull=False,
            **only,
        )
        .order_by("-submitted_at", "-id")
        .first()
    )


def course_tested_out(*, learner, course: Course, now: datetime) -> TestedOut | None:
    """Whether ``learner`` tested out of ``course`` (a passed course challenge,
    ``assessments.selectors.courses_demonstrated``): the latest such attempt and the course
    skills that have faded below proficient since. None for anyone who never passed it."""
    attempt = _latest_challenge(learner=learner, course=course, passed=True)
    if attempt is None:
        return None
    facts = lock_facts(learner=learner, now=now)
    faded = [
        skill.name for skill in course.skills.order_by("name") if not facts.confirmed(skill.pk)
    ]
    return TestedOut(attempt=attempt, faded=faded)


def _goals() -> QuerySet[LearningGoal]:
    return LearningGoal.objects.prefetch_related(
        Prefetch("target_skills", queryset=GoalSkill.objects.select_related("skill"))
    )


def goals_for(*, user) -> QuerySet[LearningGoal]:
    return _goals().filter(learner=user)


def goals_reachable_by(*, user) -> QuerySet[LearningGoal]:
    return reachable_by(_goals(), user=user)


def enrollments_for(*, user) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(learner=user).select_related("course")


def enrollments_reachable_by(*, user) -> QuerySet[Enrollment]:
    return reachable_by(Enrollment.objects.select_related("course"), user=user)


def progress_reachable_by(*, user) -> QuerySet[LessonProgress]:
    return reachable_by(LessonProgress.objects.select_related("lesson__module"), user=user)


def events_for(*, user) -> QuerySet[LearnerEvent]:
    return LearnerEvent.objects.filter(learner=user).order_by("-occurred_at")


@dataclass(frozen=True)
class LessonOutline:
    lesson: Lesson
    status: str
    # Locked while a prerequisite (its course's or its own) is not met; ``blocking`` says
    # which, and how to unlock each (learning.locks).
    locked: bool
    blocking: list[Blocker] = field(default_factory=list)
    time_spent_seconds: int = 0
    last_position_seconds: int = 0
    # The learner's current path leaves it out (``PathSkip``): why, e.g. "Python proficient
    # on 6 answers" or "it teaches JavaScript, which your goal … does not ask for". Empty
    # when not left out, or when the evidence behind a shown skip has faded since the path
    # was made. A skipped lesson can still be locked: ``blocking`` says why.
    skip_reason: str = ""


@dataclass(frozen=True)
class ModuleOutline:
    module: Module
    lessons: list[LessonOutline]


@dataclass(frozen=True)
class CourseOutline:
    course: Course
    enrollment: Enrollment | None
    modules: list[ModuleOutline]
    lessons_total: int
    lessons_completed: int
    # The course's own unmet prerequisites: while any is left, every lesson is locked.
    course_blocking: list[Blocker] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return bool(self.course_blocking)

    @property
    def lesson_minutes(self) -> int:
        """The lessons' own minutes: the part of the course's stated hours spent in lessons,
        the rest being their practice (what a path's hours note refers to)."""
        return sum(item.lesson.estimated_minutes for m in self.modules for item in m.lessons)

    @property
    def lessons_locked(self) -> int:
        return sum(1 for module in self.modules for item in module.lessons if item.locked)

    @property
    def lock_headline(self) -> str:
        """What the course's lock means for this learner, in one line: empty when nothing
        blocks the course; "This course is locked" when no lesson opens; else some lessons
        stay open (an opened lesson never locks again) and the headline says so."""
        if not self.locked:
            return ""
        open_lessons = self.lessons_total - self.lessons_locked
        if not open_lessons:
            return "This course is locked"
        started = (
            "the lesson you started stays open"
            if open_lessons == 1
            else f"the {open_lessons} lessons you started stay open"
        )
        return (
            f"Some lessons are locked: {self.lessons_locked} of {self.lessons_total} wait for "
            f"what the course builds on; {started}"
        )

    @property
    def progress_percent(self) -> Decimal:
        if self.enrollment is not None:
            return self.enrollment.progress_percent
        return Decimal(0)

    @property
    def next_lesson(self) -> LessonOutline | None:
        """First lesson in course order that is neither completed nor locked nor one the
        learner's path lets them skip ("Continue", and where completing a lesson leads);
        None when only such lessons are left (``skippable_left`` counts the skippable)."""
        return next((item for item in self._left if not item.skip_reason), None)

    @property
    def skippable_left(self) -> int:
        """Open, incomplete lessons the learner's path lets them skip (needs ``path_skips``)."""
        return sum(1 for item in self._left if item.skip_reason)

    @property
    def _left(self) -> list[LessonOutline]:
        return [
            item
            for module in self.modules
            for item in module.lessons
            if item.status != LessonProgress.Status.COMPLETED and not item.locked
        ]


class PathSkip(NamedTuple):
    """A lesson the learner's current path leaves out, and why."""

    reason: str  # e.g. "Python proficient on 6 answers"
    # Not needed for the goal (insights.paths ``optional_lessons``): holds while the path
    # does. Otherwise the learner showed what it teaches (``skip_lessons``): holds while the
    # evidence does (``learning.locks.lesson_skippable``).
    outside_goal: bool = False

    def holds(self, lesson_id: int, graph: LockGraph, facts: LockFacts) -> bool:
        return self.outside_goal or lesson_skippable(lesson_id, graph, facts)


def path_skips_for(*, learner, course: Course) -> dict[int, PathSkip]:
    """The lessons of ``course`` that the current path of one of the learner's active goals
    leaves out (``path_skips_by_learner``). One query; empty for anonymous visitors."""
    if learner is None or not learner.is_authenticated:
        return {}
    return path_skips_by_learner(learner_ids=[learner.pk], course_id=course.pk)[learner.pk]


def enrollments_by_learner(*, learner_ids: list[int]) -> dict[int, list[EnrollmentRow]]:
    """Every enrollment of each learner (dropped ones too), in the order they enrolled: one
    query for the readers that each used to read their own share (goal paces, next lessons)."""
    rows: dict[int, list[EnrollmentRow]] = {learner_id: [] for learner_id in learner_ids}
    for learner_id, course_id, status, percent, course_status in (
        Enrollment.objects.filter(learner_id__in=learner_ids)
        .order_by("learner_id", "enrolled_at", "id")
        .values_list("learner_id", "course_id", "status", "progress_percent", "course__status")
    ):
        rows[learner_id].append(
            EnrollmentRow(course_id, status, percent, course_status == Course.Status.PUBLISHED)
        )
    return rows


def _active_snapshots(learner_ids: list[int]) -> QuerySet[LearningPathSnapshot]:
    """The current paths of the learners' active goals, each with the skills of every active
    goal of its learner (``goal_skills``, for ``_path_skips``' rule), in goal order."""
    return (
        LearningPathSnapshot.objects.filter(
            learner_id__in=learner_ids, is_active=True, goal__status=LearningGoal.Status.ACTIVE
        )
        .annotate(
            goal_skills=ArraySubquery(
                GoalSkill.objects.filter(
                    goal__learner_id=OuterRef("learner_id"),
                    goal__status=LearningGoal.Status.ACTIVE,
                ).values("skill__slug")
            )
        )
        .order_by("goal_id")
    )


def path_skips_by_learner(
    *, learner_ids: list[int], course_id: int | None = None
) -> dict[int, dict[int, PathSkip]]:
    """Per learner, lesson id -> ``PathSkip`` for the lessons their active goals' current
    paths leave out (of one course, or of every course): one query. A lesson one goal does
    not need but another goal's path plans is not left out, nor one teaching a skill of any
    active goal: a goal set since, whose path is not built yet, needs it already."""
    snapshots = _active_snapshots(learner_ids)
    if course_id is not None:
        snapshots = snapshots.filter(items__contains=[{"id": course_id}])
    rows: dict[int, list[list[dict]]] = {learner_id: [] for learner_id in learner_ids}
    wanted: dict[int, set[str]] = {learner_id: set() for learner_id in learner_ids}
    for learner_id, items, goal_skills in snapshots.values_list(
        "learner_id", "items", "goal_skills"
    ):
        rows[learner_id].append(items)
        wanted[learner_id] = set(goal_skills)
    return {
        learner_id: _path_skips(own, wanted[learner_id], course_id=course_id)
        for learner_id, own in rows.items()
    }


def _path_skips(
    paths: list[list[dict]], goal_skills: set[str], *, course_id: int | None = None
) -> dict[int, PathSkip]:
    """``path_skips_by_learner`` for one learner, from the items of their active goals'
    current paths in goal order and the skills of their active goals."""
    skips: dict[int, PathSkip] = {}
    # Per course: the lessons every path planning the course leaves out as outside its
    # goal, with the first path's reason.
    outside: dict[int, dict[int, str]] = {}
    for items in paths:
        for item in items:
            if course_id is not None and item.get("id") != course_id:
                continue
            for lesson in item.get("skip_lessons") or []:
                skips.setdefault(lesson["id"], PathSkip(lesson["reason"]))
            listed = {
                lesson["id"]: lesson["reason"]
                for lesson in item.get("optional_lessons") or []
                if not goal_skills.intersection(lesson.get("skills", []))
            }
            earlier = outside.get(item["id"])
            outside[item["id"]] = (
                listed if earlier is None else {k: v for k, v in earlier.items() if k in listed}
            )
    for lessons in outside.values():
        for lesson_id, reason in lessons.items():
            skips.setdefault(lesson_id, PathSkip(reason, outside_goal=True))
    return skips


class ActivePaths(NamedTuple):
    """One learner's active goals' current paths, as the dashboard reads them
    (``active_paths_by_learner``), cached with the dashboard."""

    # By goal id: the snapshot's "goal_id", "learner_id", "items" and "created_at" (what
    # insights.analytics's goal pace reads).
    plans: dict[int, dict]
    skips: dict[int, PathSkip]  # ``path_skips_by_learner``'s lessons


def active_paths_by_learner(*, learner_ids: list[int]) -> dict[int, ActivePaths]:
    """Per learner, the current paths of their active goals: their goal paces' plans and
    the lessons they leave out, in one query (where paces and next lessons each read the
    snapshots)."""
    rows: dict[int, list[dict]] = {learner_id: [] for learner_id in learner_ids}
    wanted: dict[int, set[str]] = {learner_id: set() for learner_id in learner_ids}
    for row in _active_snapshots(learner_ids).values(
        "goal_id", "learner_id", "items", "created_at", "goal_skills"
    ):
        wanted[row["learner_id"]] = set(row.pop("goal_skills"))
        rows[row["learner_id"]].append(row)
    return {
        learner_id: ActivePaths(
            plans={row["goal_id"]: row for row in own},
            skips=_path_skips([row["items"] for row in own], wanted[learner_id]),
        )
        for learner_id, own in rows.items()
    }


def next_path_course(*, learner, course: Course) -> Course | None:
    """The published course that follows ``course`` on the current path of the learner's
    oldest active goal that includes it: where to go once the course holds nothing more to
    take (one or two queries; None for anonymous visitors or a course on no path)."""
    if learner is None or not learner.is_authenticated:
        return None
    items = (
        LearningPathSnapshot.objects.filter(
            learner=learner,
            is_active=True,
            goal__status=LearningGoal.Status.ACTIVE,
            items__contains=[{"id": course.pk}],
        )
        .order_by("goal__created_at", "goal_id")
        .values_list("items", flat=True)
        .first()
    )
    if not items:
        return None
    ids = [item["id"] for item in items if item.get("type", "course") == "course"]
    after = ids[ids.index(course.pk) + 1 :]
    published = Course.objects.published().in_bulk(after)
    return next((published[pk] for pk in after if pk in published), None)


def course_outline(
    *, learner, course: Course, now: datetime | None = None, path_skips: bool = False
) -> CourseOutline:
    """Modules and lessons in order with the learner's status, locks and blockers.

    Locks follow ``learning.locks`` (completion or demonstrated mastery). A fixed number
    of queries per level of the prerequisite chain, whatever the course size.
    ``path_skips`` also reads which lessons the learner's path lets them skip (one query):
    the pages and the API outline show it; the services only need the locks.
    """
    now = now or timezone.now()
    modules = list(Module.objects.filter(course=course).order_by("order"))
    lessons = list(Lesson.objects.filter(module__course=course).order_by("module__order", "order"))
    authenticated = learner is not None and learner.is_authenticated
    progress: dict[int, LessonProgress] = {}
    enrollment = None
    graph = lock_graph(course_ids=[course.pk], transitive=False)
    facts = lock_facts(learner=learner, now=now)
    if authenticated:
        rows = LessonProgress.objects.filter(learner=learner, lesson__module__course=course)
        progress = {row.lesson_id: row for row in rows}
        enrollment = Enrollment.objects.filter(learner=learner, course=course).first()

    skips = path_skips_for(learner=learner, course=course) if path_skips else {}
    by_module: dict[int, list[LessonOutline]] = {m.pk: [] for m in modules}
    for lesson in lessons:
        row = progress.get(lesson.pk)
        blocking = lesson_blockers(lesson.pk, graph, facts)
        skip = skips.get(lesson.pk)
        if skip and (
            lesson.pk in facts.completed_lessons or not skip.holds(lesson.pk, graph, facts)
        ):
            skip = None  # done anyway, or the path's evidence has faded since it was made
        by_module[lesson.module_id].append(
            LessonOutline(
                lesson=lesson,
                status=row.status if row else LessonProgress.Status.NOT_STARTED,
                locked=bool(blocking),
                blocking=blocking,
                time_spent_seconds=row.time_spent_seconds if row else 0,
                last_position_seconds=row.last_position_seconds if row else 0,
                skip_reason=skip.reason if skip else "",
            )
        )
    return CourseOutline(
        course=course,
        enrollment=enrollment,
        modules=[ModuleOutline(module=m, lessons=by_module[m.pk]) for m in modules],
        lessons_total=len(lessons),
        lessons_completed=sum(1 for lesson in lessons if lesson.pk in facts.completed_lessons),
        course_blocking=course_blockers(course.pk, graph, facts),
    )


def lesson_ids_readable_by(*, user, course: Course) -> set[int]:
    """Lessons of ``course`` whose body ``user`` may read: the lesson page's rules.

    Its authors and admins read every lesson; a signed-in learner reads those
    not locked behind prerequisites; anonymous visitors see the outline only
    (the lesson page asks them to log in).
    """
    if can_manage_course(user, course):
        return set(Lesson.objects.filter(module__course=course).values_list("pk", flat=True))
    if user is None or not user.is_authenticated:
        return set()
    outline = course_outline(learner=user, course=course)
    return {
        item.lesson.pk for module in outline.modules for item in module.lessons if not item.locked
    }
