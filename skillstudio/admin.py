"""Role-based access for the Django admin, which is the instructors' authoring tool.

Instructors get their rights from their role, not from permission rows: an
active staff user with role=instructor may use the models that opt in, and
only sees rows they own (``owner_path`` leads from a row to its owner).
Superusers see and change everything. Everybody else (learners, staff without
a role) sees nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

ALL_ACTIONS = frozenset({"view", "add", "change", "delete"})

admin.site.site_header = "SkillStudio authoring"
admin.site.site_title = "SkillStudio admin"
admin.site.index_title = "Courses, assessments and learners"


def is_instructor(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and getattr(user, "role", None) == "instructor"
    )


def owned_by(queryset: QuerySet, *, owner_path: str, user: Any) -> QuerySet:
    """Narrow ``queryset`` to what ``user`` may touch in the admin."""
    if user.is_active and user.is_superuser:
        return queryset
    if is_instructor(user):
        return queryset.filter(**{owner_path: user})
    return queryset.none()


class InstructorAccessMixin:
    """For ModelAdmins: role-checked rights, rows scoped by owner.

    ``owner_path`` = None means a shared model (skills): instructors see every
    row. ``instructor_actions`` lists what instructors may do at all.
    """

    owner_path: str | None = None
    instructor_actions: frozenset[str] = ALL_ACTIONS

    def _instructor_may(self, request: HttpRequest, action: str, obj: Model | None) -> bool:
        user = request.user
        if user.is_active and user.is_superuser:
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
        if self.owner_path is None:
            return queryset if self._instructor_may(request, "view", None) else queryset.none()
        return owned_by(queryset, owner_path=self.owner_path, user=request.user)

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
        user = request.user
        return bool((user.is_active and user.is_superuser) or is_instructor(user))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_allows(request)


class ReadOnlyAdminMixin:
    """Computed data (skill states, paths, recommendations): superusers look, nobody edits
    by hand: the insights engine owns these rows."""

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
        if not request.user.is_superuser:
            exclude.append("owner")
        return exclude

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_list_filter(self, request: HttpRequest) -> Any:
        list_filter = list(super().get_list_filter(request))
        if request.user.is_superuser:
            list_filter.append(("owner", admin.RelatedOnlyFieldListFilter))
        return list_filter

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            users = get_user_model().objects
            kwargs["queryset"] = users.filter(role="instructor") | users.filter(is_superuser=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LearnerDataProtectedMixin:
    """Refuse to delete authoring rows that learners' records hang on.

    Deleting a course would cascade to its enrollments, a question to the
    answers given to it: learner history would silently vanish. The admin
    lists such rows as "protected" (for the delete page and the bulk action
    alike) and the instructor unpublishes instead.
    """

    def learner_records(self, obj: Model) -> str | None:
        """A description of the learner records hanging on ``obj``, or None."""
        raise NotImplementedError

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(  # type: ignore[misc]
            objs, request
        )
        held = [f"{obj}: {records}" for obj in objs if (records := self.learner_records(obj))]
        return deleted, model_count, perms_needed, [*protected, *held]
