"""What SkillStudio adds to django-lti's models (lti_tool): where a launch's grades go.

Registrations, deployments, keys, platform users (``LtiUser``: issuer registration + subject,
linked to our ``User`` by ``auth_user``), contexts and memberships are django-lti's own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from lti_tool.models import LtiUser

from assessments.models import Assessment


class LtiGradeLink(models.Model):
    """A launch that carried an AGS line item: the learner's scores on ``assessment`` go to
    ``lineitem_url`` on the platform, for the platform user ``lti_user``."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_grade_links"
    )
    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="grade_links")
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="lti_grade_links"
    )
    lineitem_url = models.URLField(max_length=1000)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lti_user", "assessment", "lineitem_url"], name="lti_grade_link_once"
            )
        ]
        indexes = [models.Index(fields=["learner", "assessment"], name="lti_grade_learner")]

    def __str__(self) -> str:
        return f"{self.assessment_id} -> {self.lineitem_url}"
