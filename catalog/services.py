"""Catalog writes and the rules they enforce (used by the admin, the API and commands)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model, QuerySet

from catalog.models import Course, Lesson
from skillstudio.data_versions import catalog_changed

# Keys for pg_advisory_xact_lock: one lock per prerequisite graph.
_COURSE_GRAPH_LOCK = 7_301_001
_LESSON_GRAPH_LOCK = 7_301_002


def find_prerequisite_cycle(
    *,
    node_id: int | None,
    prerequisite_ids: Iterable[int],
    edges_from: Callable[[set[int]], Iterable[tuple[int, int]]],
) -> list[int] | None:
    """Return the cycle that giving ``node_id`` these prerequisites would close, or None.

    The graph points from an item to what it requires. ``node_id``'s current
    prerequisites are being replaced, so the walk never follows them: a cycle
    exists exactly when ``node_id`` is reachable from one of its new
    prerequisites. ``edges_from(frontier)`` returns (item, prerequisite) pairs
    for a set of items, so the walk costs one query per level, not per node.
    The result is the path ``[node, prerequisite, ..., node]``.
    """
    if node_id is None:
        # An unsaved item has nothing pointing at it yet, so no cycle can pass through it.
        return None
    parent: dict[int, int] = {}
    frontier: set[int] = set()
    for prerequisite_id in prerequisite_ids:
        if prerequisite_id == node_id:
            return [node_id, node_id]
        if prerequisite_id not in parent:
            parent[prerequisite_id] = node_id
            frontier.add(prerequisite_id)
    while frontier:
        next_frontier: set[int] = set()
        for item_id, required_id in sorted(edges_from(frontier)):
            if item_id == node_id:
                continue
            if required_id == node_id:
                path = [node_id, item_id]
                while path[-1] != node_id:
                    path.append(parent[path[-1]])
                path.reverse()
                return path
            if required_id not in parent:
                parent[required_id] = item_id
                next_frontier.add(required_id)
        frontier = next_frontier
    return None


def _validate_prerequisites(
    *, model: type[Model], node: Model, prerequisites: Iterable[Model], lock_key: int, noun: str
) -> None:
    through = model.prerequisites.through
    source = f"from_{model._meta.model_name}_id"
    target = f"to_{model._meta.model_name}_id"

    def edges_from(frontier: set[int]) -> Iterable[tuple[int, int]]:
        return through.objects.filter(**{f"{source}__in": frontier}).values_list(source, target)

    if connection.in_atomic_block:
        # Two concurrent saves could each pass the check and together close a
        # cycle (A requires B, B requires A). Serialising graph edits for the
        # rest of the caller's transaction closes that window.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])
    prerequisites = list(prerequisites)
    cycle = find_prerequisite_cycle(
        node_id=node.pk, prerequisite_ids=[p.pk for p in prerequisites], edges_from=edges_from
    )
    if cycle is None:
        return
    titles = dict(model.objects.filter(pk__in=set(cycle)).values_list("pk", "title"))
    if node.pk is not None:
        titles[node.pk] = getattr(node, "title", "") or titles.get(node.pk, "")
    if len(cycle) == 2:
        message = f"A {noun} cannot be its own prerequisite: “{titles[node.pk]}”."
    else:
        names = " → ".join(f"“{titles[pk]}”" for pk in cycle)
        message = (
            f"These prerequisites would create a cycle: {names} "
            f"(each {noun} requires the next one)."
        )
    raise ValidationError({"prerequisites": [message]}, code="prerequisite_cycle")


def course_prerequisites_validate(*, course: Course, prerequisites: Iterable[Course]) -> None:
    """Raise ValidationError({"prerequisites": ...}) naming the cycle these would create.

    Call it inside the transaction that then stores the prerequisites.
    """
    _validate_prerequisites(
        model=Course,
        node=course,
        prerequisites=prerequisites,
        lock_key=_COURSE_GRAPH_LOCK,
        noun="course",
    )


def lesson_prerequisites_validate(*, lesson: Lesson, prerequisites: Iterable[Lesson]) -> None:
    """Lesson twin of ``course_prerequisites_validate``."""
    _validate_prerequisites(
        model=Lesson,
        node=lesson,
        prerequisites=prerequisites,
        lock_key=_LESSON_GRAPH_LOCK,
        noun="lesson",
    )


@transaction.atomic
def course_prerequisites_set(*, course: Course, prerequisites: Iterable[Course]) -> None:
    prerequisites = list(prerequisites)
    course_prerequisites_validate(course=course, prerequisites=prerequisites)
    course.prerequisites.set(prerequisites)


@transaction.atomic
def lesson_prerequisites_set(*, lesson: Lesson, prerequisites: Iterable[Lesson]) -> None:
    prerequisites = list(prerequisites)
    lesson_prerequisites_validate(lesson=lesson, prerequisites=prerequisites)
    lesson.prerequisites.set(prerequisites)


def courses_publish(*, courses: QuerySet[Course], now: datetime) -> int:
    """Publish the draft courses among ``courses``; returns how many changed."""
    changed = courses.filter(status=Course.Status.DRAFT).update(
        status=Course.Status.PUBLISHED, published_at=now, updated_at=now
    )
    # A queryset update sends no signal (catalog.signals): the version moves on here.
    catalog_changed()
    return changed


def courses_unpublish(*, courses: QuerySet[Course], now: datetime) -> int:
    """Take published courses back to draft; returns how many changed."""
    changed = courses.filter(status=Course.Status.PUBLISHED).update(
        status=Course.Status.DRAFT, published_at=None, updated_at=now
    )
    catalog_changed()
    return changed
