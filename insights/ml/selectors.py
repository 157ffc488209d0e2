"""Who may read which prediction: access control for model outputs in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from insights.models import DropoutRisk
from learning.models import Enrollment


def risks_for_instructor(*, user) -> QuerySet[DropoutRisk]:
    """Risks of active enrollments in the caller's own courses (all courses for admins)."""
    risks = DropoutRisk.objects.filter(enrollment__status=Enrollment.Status.ACTIVE).select_related(
        "enrollment__learner", "enrollment__course", "model"
    )
    if getattr(user, "is_platform_admin", False):
        return risks
    if getattr(user, "is_instructor", False):
        return risks.filter(enrollment__course__owner=user)
    return risks.none()


def risks_for_learner(*, user) -> QuerySet[DropoutRisk]:
    """The caller's own risks, for their active enrollments."""
    return DropoutRisk.objects.filter(
        enrollment__learner=user, enrollment__status=Enrollment.Status.ACTIVE
    ).select_related("enrollment__course")


def learners_of_instructor(*, user) -> QuerySet[int]:
    """Ids of learners with an active enrollment in the caller's courses (all for admins)."""
    enrollments = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE)
    if not getattr(user, "is_platform_admin", False):
        enrollments = enrollments.filter(course__owner=user)
    return enrollments.values_list("learner_id", flat=True).distinct().order_by("learner_id")


NOT_SCORED_OPTED_OUT = "not scored (opted out)"


def unscored_opted_out_for_instructor(*, user) -> QuerySet[Enrollment]:
    """Active enrollments in the caller's courses whose learner opted out of profiling.

    The at-risk views list them as "not scored (opted out)", so an instructor knows the
    absence of a risk is the learner's choice, not good news.
    """
    enrollments = Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE, learner__profile__profiling_opt_out=True
    ).select_related("learner", "course")
    if getattr(user, "is_platform_admin", False):
        return enrollments
    if getattr(user, "is_instructor", False):
        return enrollments.filter(course__owner=user)
    return enrollments.none()
