"""Account-level reads shared by the apps' selectors."""

from __future__ import annotations

from django.db.models import QuerySet


def reachable_by(queryset: QuerySet, *, user, learner_field: str = "learner") -> QuerySet:
    """The caller's own learner rows; every learner's for platform admins (SPEC §5)."""
    if user.is_platform_admin:
        return queryset
    return queryset.filter(**{learner_field: user})
