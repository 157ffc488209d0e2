"""How far a learner is along a goal's path: one definition for the dashboard's goal pace,
the path page's "Done" and the API (QA walk, issue 13: the path page said "Done 0 of 14 h"
beside "50 % done" on the dashboard for the same goal).

Hours done, of the path's hours:

- each course the current path asks for counts its planned hours times the share of the
  minutes of the lessons it asks for that the learner completed. Lessons the path leaves
  out (the learner showed what they teach, or the goal does not need them) count in
  neither: the item's planned hours already leave them out. A course without lesson
  minutes counts as done once its enrollment is completed;
- a course an earlier version of the goal's path planned, that the learner finished since
  setting the goal and that the current version no longer lists (a re-plan leaves finished
  courses out), counts as done at the hours that version planned for it, in the done hours
  and in the total: re-planning after finishing a course does not take that study away
  from the figure (walk12: the pace jumped between re-plans with no new study). Hours the
  path drops because new evidence spares lessons leave the total, as they leave the plan.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Q

from catalog.models import Lesson
from insights.models import LearningPathSnapshot
from insights.paths import left_out_lesson_ids
from learning.models import Enrollment, LearningGoal, LessonProgress


@dataclass(frozen=True)
class PathProgress:
    """Hours done of a goal's path (see the module docstring)."""

    done_hours: Decimal
    total_hours: Decimal
    # Course id -> hours done, for the current path's items.
    item_hours: dict[int, Decimal] = field(default_factory=dict)
    # Courses finished for the goal that the current version no longer lists:
    # {"id", "title", "hours"}.
    finished_earlier: list[dict] = field(default_factory=list)

    @property
    def percent(self) -> float:
        if not self.total_hours:
            return 100.0
        return float(round(100 * self.done_hours / self.total_hours, 1))

    @property
    def text(self) -> str:
        """The same words wherever the figure shows: "7 of 14 h of the path done (50%)",
        and what counts beyond the current path's courses."""
        if not self.total_hours:
            return "nothing to study on this path"
        done = f"{float(round(self.done_hours, 1)):g} of {float(round(self.total_hours, 1)):g} h"
        text = f"{done} of the path done ({self.percent:g}%)"
        if self.finished_earlier:
            titles = ", ".join(course["title"] for course in self.finished_earlier)
            text += f", counting {titles}, finished for this goal before the path was re-planned"
        return text

    def as_dict(self) -> dict:
        return {
            "done_hours": float(round(self.done_hours, 1)),
            "total_hours": float(round(self.total_hours, 1)),
            "percent": self.percent,
            "finished_earlier": self.finished_earlier,
            "text": self.text,
        }


def _item_hours_done(
    item: dict, lessons: list[tuple[int, int]], completed: Collection[int], course_done: bool
) -> Decimal:
    hours = Decimal(str(item["estimated_hours"]))
    left_out = left_out_lesson_ids(item)
    asked = [(lesson_id, minutes) for lesson_id, minutes in lessons if lesson_id not in left_out]
    minutes = sum(m for _, m in asked)
    if not minutes:
        return hours if course_done else Decimal(0)
    done = sum(m for lesson_id, m in asked if lesson_id in completed)
    return hours * done / minutes


def path_progress(
    *,
    items: list[dict],
    lessons: dict[int, list[tuple[int, int]]],
    completed_lessons: Collection[int],
    completed_courses: Collection[int],
    finished_earlier: Iterable[dict] = (),
) -> PathProgress:
    """One path's progress from the learner's completions: ``lessons`` by course id as
    (lesson id, minutes), the lessons and courses they completed, and the courses
    ``finished_earlier_for`` found."""
    item_hours = {
        item["id"]: _item_hours_done(
            item, lessons.get(item["id"], []), completed_lessons, item["id"] in completed_courses
        )
        for item in items
    }
    earlier = [course for course in finished_earlier if course["id"] not in item_hours]
    carried = sum((Decimal(str(course["hours"])) for course in earlier), Decimal(0))
    planned = sum((Decimal(str(item["estimated_hours"])) for item in items), Decimal(0))
    return PathProgress(
        done_hours=sum(item_hours.values(), Decimal(0)) + carried,
        total_hours=planned + carried,
        item_hours=item_hours,
        finished_earlier=earlier,
    )


def lessons_done_by(
    *, course_ids: Collection[int], learner_ids: Collection[int]
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, dict[int, datetime | None]]]:
    """The courses' lessons as (lesson id, minutes) by course id, and each learner's
    completed lessons among them with when they completed each. One query, none without
    courses."""
    lessons: dict[int, list[tuple[int, int]]] = {}
    completed: dict[int, dict[int, datetime | None]] = {pk: {} for pk in learner_ids}
    if not course_ids:
        return lessons, completed
    done = Q(
        progress__learner_id__in=list(learner_ids),
        progress__status=LessonProgress.Status.COMPLETED,
    )
    # Two arrays in the same order: who completed the lesson, and when.
    for course_id, lesson_id, minutes, done_by, done_at in (
        Lesson.objects.filter(module__course_id__in=course_ids)
        .annotate(
            done_by=ArrayAgg("progress__learner_id", filter=done, order_by="progress__id"),
            done_at=ArrayAgg("progress__completed_at", filter=done, order_by="progress__id"),
        )
        .order_by("module__course_id", "module__order", "order", "id")
        .values_list("module__course_id", "id", "estimated_minutes", "done_by", "done_at")
    ):
        lessons.setdefault(course_id, []).append((lesson_id, minutes))
        for learner_id, at in zip(done_by or [], done_at or [], strict=True):
            completed[learner_id][lesson_id] = at
    return lessons, completed


def finished_earlier_for(*, goal_ids: Collection[int]) -> dict[int, list[dict]]:
    """Per goal, the courses an earlier (inactive) version of its path planned that the
    learner completed since setting the goal, at the hours the latest such version planned
    ({"id", "title", "hours"}, in course id order). One query, none without goals."""
    found: dict[int, list[dict]] = {goal_id: [] for goal_id in goal_ids}
    if not goal_ids:
        return found
    snapshots = LearningPathSnapshot._meta.db_table
    goals = LearningGoal._meta.db_table
    enrollments = Enrollment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.goal_id, (item->>'id')::int,
                   (array_agg(item->>'title' ORDER BY s.version DESC))[1],
                   (array_agg((item->>'estimated_hours')::numeric ORDER BY s.version DESC))[1]
            FROM {snapshots} s
            CROSS JOIN LATERAL jsonb_array_elements(s.items) AS item
            JOIN {goals} g ON g.id = s.goal_id
            JOIN {enrollments} e
              ON e.learner_id = s.learner_id AND e.course_id = (item->>'id')::int
            WHERE s.goal_id = ANY(%s) AND NOT s.is_active
              AND e.status = %s AND e.completed_at >= g.created_at
            GROUP BY 1, 2
            ORDER BY 1, 2
            """,  # noqa: S608 - table names from the models, values as parameters
            [list(goal_ids), Enrollment.Status.COMPLETED],
        )
        for goal_id, course_id, title, hours in cursor.fetchall():
            found[goal_id].append({"id": course_id, "title": title, "hours": float(hours)})
    return found
