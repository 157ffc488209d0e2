"""Account-level reads shared by the apps' selectors."""

from __future__ import annotations

from django.db.models import QuerySet

from skillstudio.access import is_platform_admin


def reachable_by(queryset: QuerySet, *, user, learner_field: str = "learner") -> QuerySet:
    """The caller's own learner rows; every learner's for platform admins (SPEC §5)."""
    if is_platform_admin(user):
        return queryset
    return queryset.filter(**{learner_field: user})
