"""Who may do what: the access predicates every door uses (admin, API, HTML views, selectors).

One vocabulary, one meaning per word:

- **platform admin**: an active, signed-in user who is a superuser *or* has role "admin".
  Sees and changes every course and assessment and reads every learner's records.
- **instructor**: an active, signed-in user with role "instructor". Authors courses and
  assessments, changes only their own, and sees the learners of their own courses.
- **author**: an instructor or a platform admin, i.e. anyone who may create catalogue
  content at all. Which rows they may change is ``can_manage_course`` /
  ``can_manage_assessment`` (or the ``owner_scoped`` queryset).
- everybody else signed in is a learner; anonymous users read the published catalogue.

``is_staff`` is not a right here: it is only Django's door to the admin site (the login
form checks it), set automatically for instructors and admins. Once inside, the admin asks
these predicates exactly like the API does. Managing user accounts (which can grant roles)
stays with superusers through Django's own permissions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_platform_admin(user: Any) -> bool:
    """Superuser or role "admin" (``User.is_platform_admin``), active and signed in."""
    return _signed_in(user) and bool(user.is_platform_admin)


def is_instructor(user: Any) -> bool:
    """Role "instructor" (``User.is_instructor``), active and signed in."""
    return _signed_in(user) and bool(user.is_instructor)


def can_author(user: Any) -> bool:
    """May create courses and assessments (and see the authoring tools)."""
    return is_platform_admin(user) or is_instructor(user)


def owns(user: Any, owner_id: int | None) -> bool:
    return _signed_in(user) and owner_id is not None and owner_id == user.pk


def can_manage_course(user: Any, course: Any) -> bool:
    """May change ``course`` and its modules, lessons and publication."""
    return is_platform_admin(user) or (is_instructor(user) and owns(user, course.owner_id))


def can_manage_assessment(user: Any, assessment: Any) -> bool:
    """May change ``assessment`` and its questions (answer keys included)."""
    return is_platform_admin(user) or (is_instructor(user) and owns(user, assessment.owner_id))


def can_view_assessment_results(user: Any, assessment: Any) -> bool:
    """May read the results of ``assessment`` (item analysis): whoever manages it, and for
    the platform's own assessments of a course (course challenges, no owner) the instructor
    who owns that course. Generated assessments without a course (skill checks) stay with
    platform admins."""
    if can_manage_assessment(user, assessment):
        return True
    return (
        is_instructor(user)
        and assessment.owner_id is None
        and assessment.course_id is not None
        and owns(user, assessment.course.owner_id)
    )


def assessment_results_scoped(queryset: QuerySet, *, user: Any) -> QuerySet:
    """The assessments of ``queryset`` whose results ``user`` may read
    (``can_view_assessment_results`` as a queryset)."""
    if is_platform_admin(user):
        return queryset
    if is_instructor(user):
        return queryset.filter(
            Q(owner=user) | Q(owner__isnull=True, course__isnull=False, course__owner=user)
        )
    return queryset.none()


def owner_scoped(queryset: QuerySet, *, owner_path: str | None, user: Any) -> QuerySet:
    """The rows of ``queryset`` that ``user`` may manage.

    Everything for platform admins, the rows whose ``owner_path`` leads to the user for
    instructors (every row when ``owner_path`` is None: shared rows such as skills),
    nothing for anyone else.
    """
    if is_platform_admin(user):
        return queryset
    if is_instructor(user):
        return queryset if owner_path is None else queryset.filter(**{owner_path: user})
    return queryset.none()
