"""Users (email login, no username) with their learner profile. Superusers only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LearnerProfile, User
from accounts.services import record_difficulty_change
from skillstudio.data_versions import learners_changed


class LowercaseEmailMixin:
    def clean_email(self) -> str:
        # Logins are case-insensitive and emails are stored lower-cased.
        return self.cleaned_data["email"].strip().lower()


class UserCreateForm(LowercaseEmailMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")
        field_classes: dict[str, Any] = {}


class UserEditForm(LowercaseEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "role",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )
        field_classes: dict[str, Any] = {}


class LearnerProfileForm(forms.ModelForm):
    def save(self, commit: bool = True) -> LearnerProfile:
        # A level set by hand restarts the evidence the difficulty advice judges.
        if "current_difficulty" in self.changed_data:
            record_difficulty_change(profile=self.instance, now=timezone.now())
        return super().save(commit)


class LearnerProfileInline(admin.StackedInline):
    model = LearnerProfile
    form = LearnerProfileForm
    can_delete = False
    fields = (
        "timezone",
        "current_difficulty",
        "preferences",
        "skill_levels",
        "behavioral_metrics",
        "onboarded_at",
    )
    # Computed by the skill model and analytics; editing them by hand would lie.
    readonly_fields = ("skill_levels", "behavioral_metrics", "onboarded_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    inlines = (LearnerProfileInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name", "role")}),
        (
            "Permissions",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": "Instructors need “staff status” to reach the admin; "
                "their rights come from their role, not from permissions.",
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "full_name", "role", "is_staff", "is_active", "date_joined")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> Any:
        # On add the profile is created by save_model; the inline edits it afterwards.
        return self.inlines if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change and obj.role == User.Role.INSTRUCTOR:
            obj.is_staff = True
        super().save_model(request, obj, form, change)
        LearnerProfile.objects.get_or_create(user=obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # After the profile inline is saved, in the admin's transaction: the learner's
        # dashboard shows the profile (time zone, difficulty).
        super().save_related(request, form, formsets, change)
        learners_changed([form.instance.pk])
