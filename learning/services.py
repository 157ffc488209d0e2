"""Learning writes: enrollments, goals and lesson progress.

Shared by the HTML views and the API, so every rule lives here once. Invalid
input raises django.core.exceptions.ValidationError with a message a learner
can act on. A write that changes what the learner should study next (enrolling,
dropping, goals, completing a lesson) defers ``LEARNER_FOLLOW_UP`` in its own
transaction, so the doors never refresh recommendations themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef
from django.utils import timezone

from catalog.models import Course, Lesson, Skill
from catalog.selectors import SKILL_SLUG
from insights.recommendations import recommendations_retire_for_lesson
from learning import xapi
from learning.locks import (
    Blocker,
    LockGraphs,
    course_blockers,
    lesson_blockers,
    lock_facts,
)
from learning.models import Enrollment, GoalSkill, LearnerEvent, LearningGoal, LessonProgress
from skillstudio.data_versions import PROGRESS, learners_changed
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer

MAX_WEEKLY_HOURS = Decimal("80")
MIN_WEEKLY_HOURS = Decimal("0.5")
# One position update can account for at most this much study time: clients
# send them every few seconds to minutes, and a stuck tab must not inflate totals.
MAX_SECONDS_PER_UPDATE = 3600
MAX_POSITION_SECONDS = 24 * 3600
GOAL_FIELDS = {"title", "target_levels", "weekly_hours", "deadline", "status"}
# "Not passed: read it" for optional arguments whose None means "there is none".
_READ = object()


def _learner_follow_up(learner_id: int) -> None:
    """Bump the learner's data version and defer their follow-up (call inside the write's
    transaction, once per service call)."""
    learners_changed([learner_id])
    defer(LEARNER_FOLLOW_UP, learner_id=learner_id)


def _enroll(
    *, learner, course: Course, now: datetime, locked: Enrollment | None = None
) -> tuple[Enrollment, bool]:
    """Enroll (or re-activate a dropped enrollment); True when that changed anything.

    Runs inside the caller's transaction; the caller bumps and follows up. ``locked``: the
    learner's enrollment in the course, when the caller already holds it locked.
    """
    if not course.is_published:
        raise ValidationError(
            {"course": f"“{course.title}” is not published yet, so it cannot be joined."}
        )
    if locked is None:
        enrollment, created = Enrollment.objects.select_for_update().get_or_create(
            learner=learner, course=course, defaults={"enrolled_at": now}
        )
    else:
        enrollment, created = locked, False
    if not created and enrollment.status == Enrollment.Status.DROPPED:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.enrolled_at = now
        enrollment.save(update_fields=["status", "enrolled_at", "updated_at"])
        created = True
    return enrollment, created


# The rows a lesson action works on, in one round trip inside its transaction: the learner's
# enrollment in the lesson's course locked, then their progress row of the lesson created if
# missing and locked (an upsert whose no-op update takes the row lock, as SELECT … FOR UPDATE
# would), in the order every writer locks them, and optionally the learner's first event on
# the lesson. Without an enrollment nothing is written and no row comes back: the caller
# enrolls first (``_locked_rows``).
_ENROLLMENT_LOADED = {"id", "learner_id", "course_id", "course_run_id", "status", "enrolled_at",
                      "completed_at", "progress_percent"}  # fmt: skip
# In the model's order, as from_db reads them.
_ENROLLMENT_FIELDS = tuple(
    f.attname for f in Enrollment._meta.concrete_fields if f.attname in _ENROLLMENT_LOADED
)
_PROGRESS_FIELDS = tuple(f.attname for f in LessonProgress._meta.concrete_fields)
_LOCKED_ROWS_SQL = f"""
    WITH enrollment AS MATERIALIZED (
        SELECT {", ".join(_ENROLLMENT_FIELDS)}
          FROM learning_enrollment
         WHERE learner_id = %(learner)s AND course_id = %(course)s
           FOR UPDATE
    ), progress AS (
        INSERT INTO learning_lessonprogress
               (learner_id, lesson_id, status, time_spent_seconds, skimmed,
                last_position_seconds, created_at, updated_at)
        SELECT %(learner)s, %(lesson)s, %(not_started)s, 0, false, 0, %(created)s, %(created)s
         WHERE EXISTS (SELECT FROM enrollment)
            ON CONFLICT (learner_id, lesson_id) DO UPDATE SET learner_id = EXCLUDED.learner_id
        RETURNING {", ".join(_PROGRESS_FIELDS)}
    )
    SELECT {", ".join(f"e.{name}" for name in _ENROLLMENT_FIELDS)},
           {", ".join(f"p.{name}" for name in _PROGRESS_FIELDS)},
           CASE WHEN %(first_event)s THEN (
               SELECT min(occurred_at) FROM learning_learnerevent
                WHERE learner_id = %(learner)s AND lesson_id = %(lesson)s
           ) END
      FROM enrollment AS e LEFT JOIN progress AS p ON true
"""  # noqa: S608 - column names come from model metadata


def _locked_rows(
    *, learner, lesson: Lesson, first_event: bool = False
) -> tuple[Enrollment, LessonProgress, datetime | None] | None:
    """The learner's enrollment in the lesson's course and progress row of the lesson, both
    locked (the row created when missing), and their first event on the lesson when
    ``first_event``: one query, in the caller's transaction. None, with nothing written,
    when the learner has no enrollment in the course (or more than one: course runs),
    for the caller to go the long way (``_enroll``, then the row)."""
    params = {
        "learner": learner.pk,
        "course": lesson.module.course_id,
        "lesson": lesson.pk,
        "not_started": LessonProgress.Status.NOT_STARTED,
        "created": timezone.now(),  # as auto_now_add sets it
        "first_event": first_event,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LOCKED_ROWS_SQL, params)
        rows = cursor.fetchall()
    if len(rows) != 1:
        return None
    row = rows[0]
    enrollment = Enrollment.from_db(
        connection.alias, _ENROLLMENT_FIELDS, row[: len(_ENROLLMENT_FIELDS)]
    )
    progress_values = row[len(_ENROLLMENT_FIELDS) : -1]
    progress = LessonProgress.from_db(connection.alias, _PROGRESS_FIELDS, progress_values)
    progress.lesson = lesson
    return enrollment, progress, row[-1]


def enrollment_create(*, learner, course: Course, now: datetime) -> Enrollment:
    """Enroll ``learner`` in a published course; idempotent, re-activates a dropped one."""
    if course.is_published and not (
        Enrollment.objects.filter(learner=learner, course=course)
        .exclude(status=Enrollment.Status.DROPPED)
        .exists()
    ):
        _check_can_enroll(learner=learner, course=course, now=now)
    with transaction.atomic():
        enrollment, changed = _enroll(learner=learner, course=course, now=now)
        if changed:
            _learner_follow_up(learner.pk)
    return enrollment


def enrollment_drop(*, enrollment: Enrollment, now: datetime) -> Enrollment:
    """Unenroll; progress is kept so re-enrolling later resumes where the learner was."""
    if enrollment.status == Enrollment.Status.COMPLETED:
        raise ValidationError("A completed course stays on your record and cannot be dropped.")
    if enrollment.status != Enrollment.Status.DROPPED:
        enrollment.status = Enrollment.Status.DROPPED
        with transaction.atomic():
            enrollment.save(update_fields=["status", "updated_at"])
            _learner_follow_up(enrollment.learner_id)
    return enrollment


def _clean_title(title) -> str:
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        raise ValidationError({"title": "Give the goal a title."})
    if len(title) > 200:
        raise ValidationError({"title": "Keep the title under 200 characters."})
    return title


def _clean_weekly_hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"weekly_hours": "Weekly hours must be a number."}) from None
    if not hours.is_finite() or not MIN_WEEKLY_HOURS <= hours <= MAX_WEEKLY_HOURS:
        raise ValidationError(
            {"weekly_hours": f"Weekly hours must be between {MIN_WEEKLY_HOURS} and 80."}
        )
    return hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _clean_deadline(deadline, *, now: datetime) -> date | None:
    if deadline is None:
        return None
    if isinstance(deadline, datetime) or not isinstance(deadline, date):
        raise ValidationError({"deadline": "The deadline must be a date."})
    if deadline < now.date():
        raise ValidationError({"deadline": "The deadline cannot be in the past."})
    return deadline


def _clean_target_levels(target_levels) -> dict[Skill, int]:
    if not isinstance(target_levels, dict) or not target_levels:
        raise ValidationError({"target_levels": "Pick at least one skill with a target level."})
    # Only well-formed slugs reach the query (PostgreSQL rejects NUL bytes in text).
    wellformed = [s for s in target_levels if isinstance(s, str) and SKILL_SLUG.fullmatch(s)]
    skills = {s.slug: s for s in Skill.objects.filter(slug__in=wellformed)}
    unknown = sorted(repr(slug)[1:-1][:80] for slug in target_levels if slug not in skills)
    if unknown:
        raise ValidationError({"target_levels": f"Unknown skill(s): {', '.join(unknown)}."})
    cleaned = {}
    for slug, level in target_levels.items():
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise ValidationError(
                {"target_levels": f"The target level for {slug} must be a whole number 1-10."}
            )
        cleaned[skills[slug]] = level
    return cleaned


def _set_target_levels(goal: LearningGoal, levels: dict[Skill, int]) -> None:
    GoalSkill.objects.filter(goal=goal).exclude(skill__in=list(levels)).delete()
    for skill, level in levels.items():
        GoalSkill.objects.update_or_create(goal=goal, skill=skill, defaults={"target_level": level})


def goal_create(
    *,
    learner,
    title: str,
    target_levels: dict[str, int],
    weekly_hours,
    deadline: date | None = None,
    now: datetime,
) -> LearningGoal:
    """Create a goal with its target skills ({skill_slug: level 1-10})."""
    cleaned_title = _clean_title(title)
    levels = _clean_target_levels(target_levels)
    hours = _clean_weekly_hours(weekly_hours)
    cleaned_deadline = _clean_deadline(deadline, now=now)
    with transaction.atomic():
        goal = LearningGoal.objects.create(
            learner=learner, title=cleaned_title, weekly_hours=hours, deadline=cleaned_deadline
        )
        GoalSkill.objects.bulk_create(
            GoalSkill(goal=goal, skill=skill, target_level=level) for skill, level in levels.items()
        )
        # A first goal is what makes a new learner's recommendations worth computing.
        _learner_follow_up(learner.pk)
    return goal


def goal_update(*, goal: LearningGoal, now: datetime, **fields) -> LearningGoal:
    """Change any of title, target_levels, weekly_hours, deadline, status."""
    unknown = sorted(set(fields) - GOAL_FIELDS)
    if unknown:
        raise ValidationError(f"These goal fields cannot be changed: {', '.join(unknown)}.")
    changed: list[str] = []
    if "title" in fields:
        goal.title = _clean_title(fields["title"])
        changed.append("title")
    if "weekly_hours" in fields:
        goal.weekly_hours = _clean_weekly_hours(fields["weekly_hours"])
        changed.append("weekly_hours")
    if "deadline" in fields:
        # An unchanged past deadline may be re-sent by a form; only new dates are checked.
        if fields["deadline"] != goal.deadline:
            goal.deadline = _clean_deadline(fields["deadline"], now=now)
        changed.append("deadline")
    if "status" in fields:
        if fields["status"] not in LearningGoal.Status.values:
            raise ValidationError(
                {"status": f"Status must be one of {', '.join(LearningGoal.Status.values)}."}
            )
        goal.status = fields["status"]
        changed.append("status")
    levels = _clean_target_levels(fields["target_levels"]) if "target_levels" in fields else None
    with transaction.atomic():
        if changed:
            goal.save(update_fields=[*changed, "updated_at"])
        if levels is not None:
            _set_target_levels(goal, levels)
        if levels is not None or {"weekly_hours", "deadline", "status"} & set(changed):
            _replan_path(goal, now=now)
        if changed or levels is not None:
            _learner_follow_up(goal.learner_id)
    return goal


def _replan_path(goal: LearningGoal, *, now: datetime) -> None:
    """An active goal whose targets, hours or deadline changed gets its path re-planned at
    once (a learner's re-plan, "manual"), so the path page never shows a plan for targets
    the goal no longer has; a goal without a path yet, or one no path can reach now, keeps
    what it has. Nothing is written when the plan would not change."""
    # Imported here: insights builds on learning's models.
    from insights.models import LearningPathSnapshot
    from insights.paths import PathError, path_generate

    if goal.status != LearningGoal.Status.ACTIVE:
        return
    if not LearningPathSnapshot.objects.filter(goal=goal, is_active=True).exists():
        return
    try:
        path_generate(goal=goal, now=now, trigger=LearningPathSnapshot.Trigger.MANUAL)
    except PathError:
        return


def goal_abandon(*, goal: LearningGoal, now: datetime) -> LearningGoal:
    """Stop pursuing a goal; its paths stay as history. Abandoning twice changes nothing."""
    if goal.status == LearningGoal.Status.ABANDONED:
        return goal
    return goal_update(goal=goal, status=LearningGoal.Status.ABANDONED, now=now)


def goal_achieve(*, goal: LearningGoal, now: datetime) -> LearningGoal:
    """The learner says they reached the goal. Marking it twice changes nothing."""
    if goal.status == LearningGoal.Status.ACHIEVED:
        return goal
    return goal_update(goal=goal, status=LearningGoal.Status.ACHIEVED, now=now)


def goal_delete(*, goal: LearningGoal, now: datetime) -> None:
    """Delete a goal with its target skills and path versions."""
    with transaction.atomic():
        learner_id = goal.learner_id
        goal.delete()
        _learner_follow_up(learner_id)


def _locked_message(title: str, blockers: list[Blocker]) -> str:
    return f"“{title}” is locked. " + " ".join(b.reason for b in blockers)


def lesson_check_can_study(*, learner, lesson: Lesson, now: datetime) -> None:
    """Raise ValidationError when the learner cannot study the lesson yet (why, in words)."""
    _check_can_study(learner=learner, lesson=lesson, now=now)


def _check_can_study(*, learner, lesson: Lesson, now: datetime) -> None:
    """The lesson's course is published and the lock rule (learning.locks) lets it open."""
    course = lesson.module.course
    if not course.is_published:
        raise ValidationError({"lesson": "This lesson's course is not published."})
    graph = LockGraphs.current()(course_ids=[course.pk], transitive=False)
    blocking = lesson_blockers(lesson.pk, graph, lock_facts(learner=learner, now=now))
    if blocking:
        raise ValidationError({"lesson": _locked_message(lesson.title, blocking)})


def _check_can_enroll(*, learner, course: Course, now: datetime) -> None:
    """A course opens once its prerequisite courses are met (learning.locks)."""
    graph = LockGraphs.current()(course_ids=[course.pk], transitive=False)
    blocking = course_blockers(course.pk, graph, lock_facts(learner=learner, now=now))
    if blocking:
        raise ValidationError({"course": _locked_message(course.title, blocking)})


def _start(*, learner, lesson: Lesson, now: datetime) -> tuple[LessonProgress, bool, bool]:
    """Enroll when needed and mark the lesson in progress, in the caller's transaction.

    Returns the progress row, whether it changed, and whether the learner was enrolled.
    """
    enrollment, progress, _ = _lesson_rows(learner=learner, lesson=lesson, now=now)
    started = progress.status == LessonProgress.Status.NOT_STARTED
    if started:
        progress.status = LessonProgress.Status.IN_PROGRESS
        progress.started_at = now
        progress.save(update_fields=["status", "started_at", "updated_at"])
    return progress, started, enrollment[1]


def _lesson_rows(
    *, learner, lesson: Lesson, now: datetime, first_event: bool = False
) -> tuple[tuple[Enrollment, bool], LessonProgress, datetime | object | None]:
    """The learner's enrollment in the lesson's course (joined or re-activated when needed:
    ``_enroll``'s pair) and their progress row of the lesson (created when missing), both
    locked, in the caller's transaction; with the learner's first event on the lesson when
    ``first_event`` (else ``_READ``). One query when the learner is enrolled already."""
    course = lesson.module.course
    found = _locked_rows(learner=learner, lesson=lesson, first_event=first_event)
    if found is None:
        enrolled = _enroll(learner=learner, course=course, now=now)
        progress, _ = LessonProgress.objects.select_for_update().get_or_create(
            learner=learner, lesson=lesson
        )
        return enrolled, progress, _READ
    enrollment, progress, first = found
    return (
        _enroll(learner=learner, course=course, now=now, locked=enrollment),
        progress,
        first if first_event else _READ,
    )


def lesson_start(*, learner, lesson: Lesson, now: datetime) -> LessonProgress:
    """Mark a lesson in progress (enrolling the learner in its course); idempotent.

    Enrolling changes the learner's next lessons, so it defers the follow-up; starting
    alone does not (the next lesson is the first one not completed).
    """
    _check_can_study(learner=learner, lesson=lesson, now=now)
    with transaction.atomic():
        progress, started, enrolled = _start(learner=learner, lesson=lesson, now=now)
        if enrolled:
            _learner_follow_up(learner.pk)
        elif started:
            learners_changed([learner.pk], kinds=[PROGRESS])
    return progress


def enrollment_refresh_progress(
    *, learner, course: Course, now: datetime, enrollment: Enrollment | None = None
) -> Enrollment | None:
    """Recompute the cached progress % of the learner's enrollment; complete it at 100 %.

    ``enrollment``: the row, when the caller already holds it locked in its transaction.
    """
    if enrollment is None:
        enrollment = (
            Enrollment.objects.select_for_update().filter(learner=learner, course=course).first()
        )
    if enrollment is None:
        return None
    # Both counts in one query: each of the course's lessons, and those the learner completed
    # (one indexed lookup of the learner's row per lesson).
    completed = LessonProgress.objects.filter(
        learner=learner, lesson=OuterRef("pk"), status=LessonProgress.Status.COMPLETED
    )
    counts = Lesson.objects.filter(module__course=course).aggregate(
        total=Count("pk"), done=Count("pk", filter=Exists(completed))
    )
    total, done = counts["total"], counts["done"]
    percent = (
        (Decimal(done) * 100 / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if total
        else Decimal(0)
    )
    enrollment.progress_percent = percent
    fields = ["progress_percent", "updated_at"]
    if total and done >= total and enrollment.status != Enrollment.Status.COMPLETED:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.completed_at = now
        fields += ["status", "completed_at"]
    enrollment.save(update_fields=fields)
    learners_changed([learner.pk], kinds=[PROGRESS])
    return enrollment


# A lesson completed after less than this share of its estimated time is "skimmed".
SKIM_SHARE = Decimal("0.25")


@dataclass(frozen=True)
class StudyTime:
    """How long the learner has had a lesson open, against its estimate."""

    seconds: int
    estimated_seconds: int

    @property
    def skimmed(self) -> bool:
        return self.seconds < self.estimated_seconds * SKIM_SHARE


def lesson_study_time(
    *,
    learner,
    lesson: Lesson,
    now: datetime,
    progress: LessonProgress | None = _READ,
    first_event: datetime | None = _READ,
) -> StudyTime:
    """Time since the learner first opened or started the lesson (its first event or its
    start), or the time the player reported, whichever is longer. Two queries, none when
    the caller passes the learner's ``progress`` row of the lesson (None: there is none)
    and the time of their ``first_event`` on it (None: there is none)."""
    if progress is _READ:
        progress = LessonProgress.objects.filter(learner=learner, lesson=lesson).first()
    if first_event is _READ:
        first_event = LearnerEvent.objects.filter(learner=learner, lesson=lesson).aggregate(
            first=Min("occurred_at")
        )["first"]
    opened = [moment for moment in (first_event, progress and progress.started_at) if moment]
    since_open = int((now - min(opened)).total_seconds()) if opened else 0
    reported = progress.time_spent_seconds if progress else 0
    return StudyTime(max(0, since_open, reported), lesson.estimated_minutes * 60)


def lesson_complete(*, learner, lesson: Lesson, now: datetime) -> LessonProgress:
    """Mark a lesson completed and refresh the enrollment's progress; idempotent.

    A completion well under the lesson's estimated time (``lesson_study_time``) is recorded
    as skimmed: the doors ask the learner to confirm first. A lesson newly completed (or a
    course newly joined) defers the follow-up: struggle check and fresh recommendations,
    recorded with the write in the outbox.
    """
    _check_can_study(learner=learner, lesson=lesson, now=now)
    with transaction.atomic():
        (enrollment, enrolled), progress, first_event = _lesson_rows(
            learner=learner, lesson=lesson, now=now, first_event=True
        )
        completed = progress.status != LessonProgress.Status.COMPLETED
        if completed:
            progress.skimmed = lesson_study_time(
                learner=learner, lesson=lesson, now=now, progress=progress, first_event=first_event
            ).skimmed
            progress.status = LessonProgress.Status.COMPLETED
            progress.started_at = progress.started_at or now
            progress.completed_at = now
            progress.save(
                update_fields=["status", "started_at", "completed_at", "skimmed", "updated_at"]
            )
            xapi.xapi_queue(learner_id=learner.pk, progress_ids=[progress.pk])
            recommendations_retire_for_lesson(learner=learner, lesson=lesson, now=now)
        enrollment_refresh_progress(
            learner=learner, course=lesson.module.course, now=now, enrollment=enrollment
        )
        if completed or enrolled:
            defer(LEARNER_FOLLOW_UP, learner_id=learner.pk)
    return progress


def _clean_seconds(value, *, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationError({field: f"{field} must be a whole number from 0 to {maximum}."})
    return value


def lesson_position_update(
    *, learner, lesson: Lesson, position_seconds: int, seconds_spent: int, now: datetime
) -> LessonProgress:
    """Record where the learner is in a lesson (video position) and add study time."""
    position = _clean_seconds(
        position_seconds, field="position_seconds", maximum=MAX_POSITION_SECONDS
    )
    spent = _clean_seconds(seconds_spent, field="seconds_spent", maximum=MAX_SECONDS_PER_UPDATE)
    _check_can_study(learner=learner, lesson=lesson, now=now)
    with transaction.atomic():
        progress, _, enrolled = _start(learner=learner, lesson=lesson, now=now)
        if enrolled:
            defer(LEARNER_FOLLOW_UP, learner_id=learner.pk)
        # F() so concurrent heartbeats from two tabs add up instead of overwriting.
        LessonProgress.objects.filter(pk=progress.pk).update(
            last_position_seconds=position,
            time_spent_seconds=F("time_spent_seconds") + spent,
            updated_at=now,
        )
        progress.refresh_from_db()
        learners_changed([learner.pk], kinds=[PROGRESS])
    return progress
