"""Role-based access for the Django admin, which is the instructors' authoring tool.

The rules are skillstudio.access's, shared with the API: instructors get their rights
from their role, not from permission rows, may use the models that opt in, and only see
rows they own (``owner_path`` leads from a row to its owner). Platform admins (superuser
or role "admin") see and change everything. Everybody else sees nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path

from skillstudio import schedules  # noqa: F401  (periodic jobs shown in words)
from skillstudio.access import can_author, is_instructor, is_platform_admin, owner_scoped

ALL_ACTIONS = frozenset({"view", "add", "change", "delete"})

admin.site.site_header = "SkillStudio authoring"
admin.site.site_title = "SkillStudio admin"
admin.site.index_title = "Courses, assessments and learners"


def owned_by(queryset: QuerySet, *, owner_path: str, user: Any) -> QuerySet:
    """Narrow ``queryset`` to what ``user`` may touch (skillstudio.access.owner_scoped)."""
    return owner_scoped(queryset, owner_path=owner_path, user=user)


class InstructorAccessMixin:
    """For ModelAdmins: role-checked rights, rows scoped by owner.

    ``owner_path`` = None means a shared model (skills): instructors see every
    row. ``instructor_actions`` lists what instructors may do at all.
    """

    owner_path: str | None = None
    instructor_actions: frozenset[str] = ALL_ACTIONS

    def _instructor_may(self, request: HttpRequest, action: str, obj: Model | None) -> bool:
        user = request.user
        if is_platform_admin(user):
            return True
        if not is_instructor(user) or action not in self.instructor_actions:
            return False
        return obj is None or self.owner_path is None or self.is_owned(obj, user)

    def is_owned(self, obj: Model, user: Any) -> bool:
        owner: Any = obj
        for attribute in (self.owner_path or "").split("__"):
            owner = getattr(owner, attribute, None)
            if owner is None:
                return False
        return owner == user

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Model:
        # Someone else's row is a 404, exactly like a missing one (Django's
        # default redirects to the index with "doesn't exist" instead).
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404("No such object.")
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if not self._instructor_may(request, "view", None):
            return queryset.none()
        return owner_scoped(queryset, owner_path=self.owner_path, user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._instructor_may(request, "view", None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._instructor_may(request, "view", obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._instructor_may(request, "add", None)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._instructor_may(request, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._instructor_may(request, "delete", obj)


class InstructorInlineMixin:
    """For inlines: the parent admin already checked ownership of ``obj`` (the parent)."""

    def _role_allows(self, request: HttpRequest) -> bool:
        return can_author(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)


class ReadOnlyAdminMixin:
    """Computed data (skill states, paths, recommendations): admins look, nobody edits
    by hand: the insights engine owns these rows.

    Platform admins (skillstudio.access) look at every row, whatever Django permission
    rows they hold; a scoped admin still shows instructors their own rows.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ScopedModelAdmin(InstructorAccessMixin, admin.ModelAdmin):
    pass


class OwnerAssignedAdmin(ScopedModelAdmin):
    """Instructors never pick an owner: they own what they create."""

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not is_platform_admin(request.user):
            exclude.append("owner")
        return exclude

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def owner_for(self, request: HttpRequest, form: Any) -> Any:
        """Who owns the row the form creates (or moves to): admins pick, instructors own."""
        if is_platform_admin(request.user):
            return form.cleaned_data.get("owner") or request.user
        return request.user

    def get_list_filter(self, request: HttpRequest) -> Any:
        list_filter = list(super().get_list_filter(request))
        if is_platform_admin(request.user):
            list_filter.append(("owner", admin.RelatedOnlyFieldListFilter))
        return list_filter

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            users = get_user_model().objects
            # Whoever may author (skillstudio.access.can_author), active or not.
            kwargs["queryset"] = users.filter(
                Q(role__in=["instructor", "admin"]) | Q(is_superuser=True)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LearnerDataProtectedMixin:
    """Refuse to delete authoring rows that learners' records hang on.

    Deleting a course would cascade to its enrollments, a question to the
    answers given to it: learner history would silently vanish. The rule lives
    in the app's services (``<entity>_delete_blocker`` / ``<entity>_delete``);
    the admin lists the blocker as "protected" (for the delete page and the
    bulk action alike) and the instructor unpublishes instead.
    """

    def learner_records(self, obj: Model) -> str | None:
        """Why ``obj`` cannot be deleted (the service's blocker), or None."""
        raise NotImplementedError

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(  # type: ignore[misc]
            objs, request
        )
        held = [records for obj in objs if (records := self.learner_records(obj))]
        return deleted, model_count, perms_needed, [*protected, *held]


class ServiceWriteMixin:
    """For ModelAdmins whose writes belong to a service (STYLE §3): the admin translates.

    ``save_with_service`` stores the form through the service (relations included, so
    ``save_related`` only saves the inlines, through ``save_formset``) and returns the
    saved row; ``delete_with_service`` deletes one row. The bulk delete action calls it
    per row in one transaction.
    """

    def save_with_service(
        self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool
    ) -> Model:
        raise NotImplementedError

    def delete_with_service(self, request: HttpRequest, obj: Model) -> None:
        raise NotImplementedError

    def save_model(
        self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool
    ) -> None:
        saved = self.save_with_service(request, obj, form, change)
        if saved is not obj:
            # The admin goes on with its own instance (inlines, log entry, redirect).
            obj.pk = saved.pk
            obj._state.adding = False
            obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)  # type: ignore[attr-defined]

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.delete_with_service(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_with_service(request, obj)


class ProtectedInlineFormSet(BaseInlineFormSet):
    """An inline formset refusing to delete rows the service's ``delete_blocker`` names."""

    delete_blocker: Any = None

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.delete_blocker is None:
            return
        blockers = [
            blocker
            for form in self.deleted_forms
            if form.instance.pk is not None and (blocker := self.delete_blocker(form.instance))
        ]
        if blockers:
            raise forms.ValidationError(blockers)


def protected_formset(blocker: Any) -> type[ProtectedInlineFormSet]:
    """A ProtectedInlineFormSet whose rows are checked by ``blocker(instance)``."""
    return type(
        "ProtectedInlineFormSet",
        (ProtectedInlineFormSet,),
        {"delete_blocker": staticmethod(blocker)},
    )


class PublishButtonsMixin:
    """Publish / unpublish buttons on a change page: one POST, one clear message.

    ``publish_one`` / ``unpublish_one`` call the app's service and return whether anything
    changed; a refused publish raises the service's ValidationError, shown as the only
    message (never next to a success).
    """

    change_form_template = "admin/publish_change_form.html"

    def publish_one(self, request: HttpRequest, obj: Model) -> bool:
        raise NotImplementedError

    def unpublish_one(self, request: HttpRequest, obj: Model) -> bool:
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.publish_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<path:object_id>/publish/",
                view,
                {"publish": True},
                name=f"{name}_publish",
            ),
            path(
                "<path:object_id>/unpublish/",
                view,
                {"publish": False},
                name=f"{name}_unpublish",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def publish_view(self, request: HttpRequest, object_id: str, publish: bool) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        opts = self.opts  # type: ignore[attr-defined]
        change_page = redirect(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        try:
            with transaction.atomic():
                if publish:
                    changed = self.publish_one(request, obj)
                else:
                    changed = self.unpublish_one(request, obj)
        except ValidationError as error:
            self.message_user(  # type: ignore[attr-defined]
                request, f"“{obj}” was not published. " + " ".join(error.messages), messages.ERROR
            )
            return change_page
        if publish:
            text = f"“{obj}” is published: learners can see it." if changed else None
        else:
            text = f"“{obj}” is unpublished: learners no longer see it." if changed else None
        if text is None:
            state = "published" if publish else "unpublished"
            self.message_user(request, f"“{obj}” was already {state}.", messages.INFO)  # type: ignore[attr-defined]
        else:
            self.message_user(request, text, messages.SUCCESS)  # type: ignore[attr-defined]
        return change_page
