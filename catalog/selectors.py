"""Catalog reads, with access control in one place.

Every selector that takes ``user=`` narrows its queryset to what that user may
see, so an object outside it is a 404 for every caller (HTML view or API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from catalog.models import Course, Lesson, Module, Skill
from skillstudio.access import is_platform_admin, owner_scoped, owns

# What a Skill.slug can look like (SlugField, 80 characters).
SKILL_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def skills_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")


def course_search(
    *,
    queryset: QuerySet[Course],
    q: str = "",
    skill: str = "",
    difficulty: str = "",
) -> QuerySet[Course]:
    """Filter courses by free text (title/description), a skill slug and a difficulty."""
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if skill:
        # A course matches when it teaches the skill; the subquery keeps rows distinct.
        queryset = queryset.filter(
            pk__in=Course.skills.through.objects.filter(skill__slug=skill).values("course_id")
        )
    if difficulty:
        queryset = queryset.filter(difficulty=difficulty)
    return queryset


def courses_published(*, q: str = "", skill: str = "", difficulty: str = "") -> QuerySet[Course]:
    """Published courses for the catalog, with what a listing shows prefetched."""
    queryset = (
        Course.objects.published()
        .select_related("owner")
        .prefetch_related("skills", "prerequisites")
        .order_by("title")
    )
    return course_search(queryset=queryset, q=q, skill=skill, difficulty=difficulty)


def courses_visible_to(*, user) -> QuerySet[Course]:
    """Published courses for everyone (anonymous too); drafts for their owner and admins."""
    queryset = Course.objects.select_related("owner").prefetch_related("skills", "prerequisites")
    if is_platform_admin(user):
        return queryset.order_by("title")
    if user is not None and user.is_authenticated:
        return queryset.filter(Q(status=Course.Status.PUBLISHED) | Q(owner=user)).order_by("title")
    return queryset.published().order_by("title")


def course_visible(*, user, course: Course) -> bool:
    """``courses_visible_to``'s rule for one course already loaded: published, or the
    viewer owns it, or is an admin."""
    return course.is_published or is_platform_admin(user) or owns(user, course.owner_id)


@dataclass(frozen=True)
class PrerequisiteShown:
    """A course a course builds on, as its page names it: linked only when the viewer can
    open it."""

    title: str
    url: str | None  # None: not open to this viewer (unpublished since)
    draft: bool  # a draft the viewer can open (its owner, an admin)


def course_prerequisites_shown(*, user, course: Course) -> list[PrerequisiteShown]:
    """The course's prerequisite courses for its page (``course.prerequisites`` prefetched by
    ``courses_visible_to``), each linked only if ``user`` can open it: an unpublished one is
    named as no longer available, without a link to a 404 (as a draft it blocks nothing,
    ``learning.locks``). No query beyond the prefetch."""
    prerequisites = list(course.prerequisites.all())
    visible = {c.pk for c in prerequisites if course_visible(user=user, course=c)}
    return [
        PrerequisiteShown(
            title=c.title,
            url=c.get_absolute_url() if c.pk in visible else None,
            draft=not c.is_published and c.pk in visible,
        )
        for c in prerequisites
    ]


def courses_editable_by(*, user) -> QuerySet[Course]:
    """Courses this user may change: their own as instructor, all as admin."""
    return owner_scoped(Course.objects.all(), owner_path="owner", user=user)


def instructor_courses(*, instructor) -> QuerySet[Course]:
    """An instructor's own courses, drafts included, for their authoring pages."""
    return (
        Course.objects.filter(owner=instructor).prefetch_related("skills").order_by("-updated_at")
    )


def modules_visible_to(*, user) -> QuerySet[Module]:
    return Module.objects.filter(
        course__in=courses_visible_to(user=user).values("pk")
    ).select_related("course")


def lessons_visible_to(*, user) -> QuerySet[Lesson]:
    return (
        Lesson.objects.filter(module__course__in=courses_visible_to(user=user).values("pk"))
        .select_related("module__course")
        .prefetch_related("skills", Prefetch("prerequisites", queryset=Lesson.objects.only("pk")))
    )
