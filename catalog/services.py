"""Catalog writes and the rules they enforce (used by the admin, the API and commands).

Every authoring action is one function here, ``<entity>_<action>(*, ..., now)``: it
validates what spans rows (unique slugs and orders, prerequisite cycles, learner records
that forbid a delete), writes in one transaction and moves the catalogue data version on
(``catalog_changed``, once per transaction however many rows change). The admin's
``save_model`` / ``save_formset`` / actions and the API's ``perform_*`` only translate.
Validation problems are ``ValidationError`` keyed by field, so a form shows them by its
fields and the API in its error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model, QuerySet

from catalog.models import Course, Lesson, Module, Skill
from catalog.search import course_embedding_defer, lesson_embedding_defer
from learning.models import LessonProgress
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


def _set_fields(instance: Model, *, allowed: frozenset[str], fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        # A programming error in a caller, not user input: doors pass known fields only.
        raise TypeError(f"Unknown {type(instance).__name__} field(s): {', '.join(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)


# ---------------------------------------------------------------- skills


SKILL_FIELDS = frozenset({"slug", "name", "description"})


@transaction.atomic
def skill_create(*, now: datetime, **fields: Any) -> Skill:
    skill = Skill()
    _set_fields(skill, allowed=SKILL_FIELDS, fields=fields)
    skill.save()
    catalog_changed()
    return skill


@transaction.atomic
def skill_update(*, skill: Skill, now: datetime, **fields: Any) -> Skill:
    _set_fields(skill, allowed=SKILL_FIELDS, fields=fields)
    skill.save()
    catalog_changed()
    return skill


@transaction.atomic
def skill_delete(*, skill: Skill, now: datetime) -> None:
    """Delete a skill nothing uses (questions protect theirs at the database level)."""
    skill.delete()
    catalog_changed()


# ---------------------------------------------------------------- courses


COURSE_FIELDS = frozenset({"title", "slug", "description", "difficulty", "estimated_hours"})


def _check_course_slug(course: Course) -> None:
    if not course.slug:
        raise ValidationError({"slug": ["Give a slug (letters, digits, -)."]})
    if Course.objects.exclude(pk=course.pk).filter(slug=course.slug).exists():
        raise ValidationError({"slug": [f"The slug “{course.slug}” is already used."]})


def _course_save(
    *,
    course: Course,
    skills: Iterable[Skill] | None,
    prerequisites: Iterable[Course] | None,
) -> Course:
    _check_course_slug(course)
    course.save()
    if skills is not None:
        course.skills.set(list(skills))
    if prerequisites is not None:
        # Rejects a cycle naming it; the transaction then stores nothing.
        course_prerequisites_set(course=course, prerequisites=prerequisites)
    catalog_changed()
    course_embedding_defer(course_id=course.pk)
    return course


@transaction.atomic
def course_create(
    *,
    owner: Any,
    now: datetime,
    skills: Iterable[Skill] | None = None,
    prerequisites: Iterable[Course] | None = None,
    **fields: Any,
) -> Course:
    """A new draft course owned by ``owner`` (publish it with ``course_publish``)."""
    course = Course(owner=owner, status=Course.Status.DRAFT)
    _set_fields(course, allowed=COURSE_FIELDS, fields=fields)
    return _course_save(course=course, skills=skills, prerequisites=prerequisites)


@transaction.atomic
def course_update(
    *,
    course: Course,
    now: datetime,
    owner: Any = None,
    skills: Iterable[Skill] | None = None,
    prerequisites: Iterable[Course] | None = None,
    **fields: Any,
) -> Course:
    """Change a course's fields; ``skills`` / ``prerequisites`` (when given) replace the old."""
    _set_fields(course, allowed=COURSE_FIELDS, fields=fields)
    if owner is not None:
        course.owner = owner
    return _course_save(course=course, skills=skills, prerequisites=prerequisites)


def _lessons_without_video(courses: QuerySet[Course]) -> QuerySet[Lesson]:
    """Video lessons with no video URL: learners would open an empty player."""
    return Lesson.objects.filter(
        module__course__in=courses, content_type=Lesson.ContentType.VIDEO, video_url=""
    )


def course_publish_problems(*, course: Course) -> list[str]:
    """Why learners could not take ``course`` as it stands (empty when it may be published)."""
    lessons = _lessons_without_video(Course.objects.filter(pk=course.pk)).order_by(
        "module__order", "order"
    )
    return [
        f"Lesson “{lesson.title}” is a video lesson without a video URL: add the URL "
        "or change its type."
        for lesson in lessons
    ]


def courses_publish(*, courses: QuerySet[Course], now: datetime) -> int:
    """Publish the ready draft courses among ``courses``: status published, ``published_at = now``.

    The one publishing rule for every door: a republished course gets the date of its
    latest publication (unpublishing cleared the previous one); a course with problems
    (``course_publish_problems``) stays a draft. Returns how many changed.
    """
    with transaction.atomic():
        not_ready = _lessons_without_video(courses).values("module__course_id")
        changed = (
            courses.filter(status=Course.Status.DRAFT)
            .exclude(pk__in=not_ready)
            .update(status=Course.Status.PUBLISHED, published_at=now, updated_at=now)
        )
        if changed:
            catalog_changed()
    return changed


def courses_unpublish(*, courses: QuerySet[Course], now: datetime) -> int:
    """Take published courses back to draft and clear ``published_at``; returns how many."""
    with transaction.atomic():
        changed = courses.filter(status=Course.Status.PUBLISHED).update(
            status=Course.Status.DRAFT, published_at=None, updated_at=now
        )
        if changed:
            catalog_changed()
    return changed


def course_publish(*, course: Course, now: datetime) -> bool:
    """Publish one course (``courses_publish``); False if it already was. Refreshes ``course``.

    Raises ValidationError({"status": [...]}) naming every problem of a draft that is not
    ready (``course_publish_problems``).
    """
    if course.status == Course.Status.DRAFT and (
        problems := course_publish_problems(course=course)
    ):
        raise ValidationError({"status": problems})
    changed = courses_publish(courses=Course.objects.filter(pk=course.pk), now=now)
    course.refresh_from_db(fields=["status", "published_at", "updated_at"])
    return bool(changed)


def course_unpublish(*, course: Course, now: datetime) -> bool:
    """Back to draft (``courses_unpublish``); False if it was a draft. Refreshes ``course``."""
    changed = courses_unpublish(courses=Course.objects.filter(pk=course.pk), now=now)
    course.refresh_from_db(fields=["status", "published_at", "updated_at"])
    return bool(changed)


def course_delete_blocker(*, course: Course) -> str | None:
    """Why ``course`` cannot be deleted (learners enrolled in it), or None."""
    learners = course.enrollments.count()
    if not learners:
        return None
    return f"“{course.title}”: {learners} learner(s) enrolled; unpublish it instead of deleting it."


def _refuse(blocker: str | None) -> None:
    if blocker:
        # One message for every door: the admin lists it as protected, the API answers 400.
        raise ValidationError(blocker, code="protected")


@transaction.atomic
def course_delete(*, course: Course, now: datetime) -> None:
    """Delete a course with its modules and lessons, unless learner records depend on it."""
    _refuse(course_delete_blocker(course=course))
    course.delete()
    catalog_changed()


# ---------------------------------------------------------------- modules


MODULE_FIELDS = frozenset({"title", "order"})


def _module_save(module: Module) -> Module:
    taken = Module.objects.filter(course_id=module.course_id, order=module.order)
    if module.pk is not None:
        taken = taken.exclude(pk=module.pk)
    if taken.exists():
        raise ValidationError({"order": [f"Module order {module.order} is already used here."]})
    module.save()
    catalog_changed()
    return module


@transaction.atomic
def module_create(*, course: Course, now: datetime, **fields: Any) -> Module:
    module = Module(course=course)
    _set_fields(module, allowed=MODULE_FIELDS, fields=fields)
    return _module_save(module)


@transaction.atomic
def module_update(
    *, module: Module, now: datetime, course: Course | None = None, **fields: Any
) -> Module:
    """Change a module; ``course`` moves it to another course (the admin offers that)."""
    _set_fields(module, allowed=MODULE_FIELDS, fields=fields)
    if course is not None:
        module.course = course
    return _module_save(module)


def module_delete_blocker(*, module: Module) -> str | None:
    """Why ``module`` cannot be deleted (learner progress on its lessons), or None."""
    records = LessonProgress.objects.filter(lesson__module=module).count()
    if not records:
        return None
    return (
        f"“{module.title}”: {records} learner progress record(s) on its lessons; "
        "edit it instead of deleting it."
    )


@transaction.atomic
def module_delete(*, module: Module, now: datetime) -> None:
    _refuse(module_delete_blocker(module=module))
    module.delete()
    catalog_changed()


# ---------------------------------------------------------------- lessons


LESSON_FIELDS = frozenset(
    {"title", "order", "content_type", "body", "video_url", "estimated_minutes", "difficulty"}
)


def lesson_video_problem(*, content_type: str, video_url: str, course: Course) -> str | None:
    """Why a lesson cannot be stored in ``course`` as it stands, for its video (or None).

    A draft may hold a video lesson before its video (publishing then refuses, see
    ``course_publish_problems``); a published course may not: learners would open an
    empty player.
    """
    if content_type == Lesson.ContentType.VIDEO and not video_url and course.is_published:
        return "A video lesson needs a video URL while its course is published."
    return None


def _lesson_save(
    *,
    lesson: Lesson,
    skills: Iterable[Skill] | None,
    prerequisites: Iterable[Lesson] | None,
) -> Lesson:
    problem = lesson_video_problem(
        content_type=lesson.content_type, video_url=lesson.video_url, course=lesson.module.course
    )
    if problem:
        raise ValidationError({"video_url": [problem]})
    taken = Lesson.objects.filter(module_id=lesson.module_id, order=lesson.order)
    if lesson.pk is not None:
        taken = taken.exclude(pk=lesson.pk)
    if taken.exists():
        raise ValidationError({"order": [f"Lesson order {lesson.order} is already used here."]})
    lesson.save()
    if skills is not None:
        lesson.skills.set(list(skills))
    if prerequisites is not None:
        lesson_prerequisites_set(lesson=lesson, prerequisites=prerequisites)
    catalog_changed()
    # Indexed by a job (it also refreshes the course's vector): a save never waits on the model.
    lesson_embedding_defer(lesson_id=lesson.pk)
    return lesson


@transaction.atomic
def lesson_create(
    *,
    module: Module,
    now: datetime,
    skills: Iterable[Skill] | None = None,
    prerequisites: Iterable[Lesson] | None = None,
    **fields: Any,
) -> Lesson:
    lesson = Lesson(module=module)
    _set_fields(lesson, allowed=LESSON_FIELDS, fields=fields)
    return _lesson_save(lesson=lesson, skills=skills, prerequisites=prerequisites)


@transaction.atomic
def lesson_update(
    *,
    lesson: Lesson,
    now: datetime,
    module: Module | None = None,
    skills: Iterable[Skill] | None = None,
    prerequisites: Iterable[Lesson] | None = None,
    **fields: Any,
) -> Lesson:
    """Change a lesson; ``skills`` / ``prerequisites`` (when given) replace the old ones."""
    _set_fields(lesson, allowed=LESSON_FIELDS, fields=fields)
    if module is not None:
        lesson.module = module
    return _lesson_save(lesson=lesson, skills=skills, prerequisites=prerequisites)


def lesson_delete_blocker(*, lesson: Lesson) -> str | None:
    """Why ``lesson`` cannot be deleted (learner progress on it), or None."""
    records = lesson.progress.count()
    if not records:
        return None
    return (
        f"“{lesson.title}”: {records} learner progress record(s); edit it instead of deleting it."
    )


@transaction.atomic
def lesson_delete(*, lesson: Lesson, now: datetime) -> None:
    _refuse(lesson_delete_blocker(lesson=lesson))
    course_id = lesson.module.course_id
    lesson.delete()
    catalog_changed()
    course_embedding_defer(course_id=course_id)
