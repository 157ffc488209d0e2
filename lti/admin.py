"""LTI in the admin: registrations with their deployments and keys are django-lti's admin
(lti_tool.admin); here the keys list and the grade links, read-only."""

from __future__ import annotations

from django.contrib import admin
from lti_tool.models import Key, LtiContext

from lti.models import LtiGradeLink


@admin.register(Key)
class KeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_active", "datetime_created"]
    fields = ["is_active", "public_key", "datetime_created"]
    readonly_fields = ["public_key", "datetime_created"]

    def has_add_permission(self, request) -> bool:
        return False  # `manage.py rotate_keys` makes keys


@admin.register(LtiContext)
class LtiContextAdmin(admin.ModelAdmin):
    list_display = ["title", "label", "deployment", "memberships_url"]
    readonly_fields = [f.name for f in LtiContext._meta.fields]


@admin.register(LtiGradeLink)
class LtiGradeLinkAdmin(admin.ModelAdmin):
    list_display = ["learner", "assessment", "lineitem_url", "created_at"]
    readonly_fields = ["learner", "lti_user", "assessment", "lineitem_url", "scopes", "created_at"]
