"""Users (email login, no username) with their learner profile. Superusers only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ErasureRequest, LearnerProfile, User
from accounts.privacy import user_erase
from accounts.services import profile_problems, profile_update
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


PROFILE_FIELDS = ("timezone", "current_difficulty", "preferences")


class LearnerProfileForm(forms.ModelForm):
    """The profile fields an admin may set; the rules are ``profile_update``'s."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        values = {name: cleaned[name] for name in PROFILE_FIELDS if name in cleaned}
        for name, problems in profile_problems(**values).items():
            # Nested preference problems ("preferences.study_days.0") go on their field.
            field = name.split(".", 1)[0]
            for problem in problems:
                self.add_error(field, f"{name}: {problem}" if field != name else problem)
        return cleaned


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
        "profiling_opt_out",
    )
    # Computed by the skill model and analytics; editing them by hand would lie. The opt-out
    # is the learner's own choice (their privacy page).
    readonly_fields = ("skill_levels", "behavioral_metrics", "onboarded_at", "profiling_opt_out")


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
        if not change and obj.role in (User.Role.INSTRUCTOR, User.Role.ADMIN):
            obj.is_staff = True
        super().save_model(request, obj, form, change)
        LearnerProfile.objects.get_or_create(user=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not LearnerProfile:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # sorts the rows for the change message; writes nothing
        for profile_form in formset.forms:
            if profile_form.instance.pk is None or not profile_form.has_changed():
                continue
            # The stored row, not the form's instance (which already holds the new values):
            # profile_update compares them to notice a difficulty change.
            profile_update(
                profile=LearnerProfile.objects.select_related("user").get(
                    pk=profile_form.instance.pk
                ),
                now=timezone.now(),
                **{
                    name: profile_form.cleaned_data[name]
                    for name in PROFILE_FIELDS
                    if name in profile_form.changed_data
                },
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The account itself (name, role) has no service yet: its change still moves the
        # learner's data version on here (profile_update does it for the profile).
        super().save_related(request, form, formsets, change)
        learners_changed([form.instance.pk])


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    """Pending erasures with their due date; "erase now" processes one before its grace ends."""

    list_display = ("__str__", "requested_at", "due_at", "processed_at")
    list_filter = (("processed_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("user", "requested_at", "due_at", "processed_at")
    actions = ("erase_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Erase these accounts now", permissions=["delete"])
    def erase_now(self, request: HttpRequest, queryset: Any) -> None:
        erased = 0
        for erasure in queryset.filter(processed_at__isnull=True, user__isnull=False):
            try:
                user_erase(user=erasure.user, now=timezone.now())
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
                continue
            erased += 1
        self.message_user(request, f"{erased} account(s) erased.", messages.SUCCESS)
