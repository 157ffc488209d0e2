"""Computed learner state (read-only) and trained model versions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import User
from insights.ml.registry import RegistryError, model_activate, model_rollback
from insights.ml.segments import segment_overview, served_segments
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    LearnerSkillState,
    LearningPathSnapshot,
    MLModel,
    Recommendation,
    RiskReview,
)
from insights.selectors import profile_of
from learning.models import Enrollment
from skillstudio.admin import ReadOnlyAdminMixin, ScopedModelAdmin, owned_by


@admin.register(LearnerSkillState)
class LearnerSkillStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "learner",
        "skill",
        "level",
        "state",
        "mastery",
        "evidence_count",
        "distinct_questions",
        "last_practiced_at",
    )
    list_filter = ("level", "skill")
    search_fields = ("learner__email", "skill__name", "skill__slug")
    list_select_related = ("learner", "skill")

    @admin.display(description="state now")
    def state(self, obj: LearnerSkillState) -> str:
        return obj.mastery_at(timezone.now()).label


@admin.register(LearningPathSnapshot)
class LearningPathSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("learner", "goal", "version", "is_active", "trigger", "iso_week", "created_at")
    list_filter = ("is_active", "trigger")
    search_fields = ("learner__email", "goal__title", "change_summary")
    list_select_related = ("learner", "goal")
    date_hierarchy = "created_at"


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("learner", "kind", "target", "status", "score", "reason", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("learner__email", "reason")
    list_select_related = ("learner", "lesson", "course", "assessment")
    date_hierarchy = "created_at"

    @admin.display(description="target")
    def target(self, obj: Recommendation) -> str:
        return obj.title


class SegmentFilter(admin.SimpleListFilter):
    """The learner's stored segment (insights.ml.segments), by the active model's names."""

    title = "segment"
    parameter_name = "segment"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        served = served_segments()
        return [(s.name, s.name) for s in served[1].segments] if served else []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        return queryset.filter(enrollment__learner__profile__segment__name=self.value())


def _segment_entry(learner: User) -> dict | None:
    profile = profile_of(learner)
    entry = profile.segment if profile else None
    return entry if isinstance(entry, dict) and entry.get("name") else None


@admin.register(DropoutRisk)
class DropoutRiskAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    # Instructors drill into the at-risk learners of their own courses; the nightly
    # scoring job (insights.ml.dropout) writes these rows and the learners' segments.
    owner_path = "enrollment__course__owner"
    instructor_actions = frozenset({"view"})
    list_display = ("learner", "course", "level", "probability", "top_factor", "segment")
    list_filter = ("level", SegmentFilter, ("enrollment__course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("enrollment__learner__email", "enrollment__course__title")
    list_select_related = ("enrollment__learner__profile", "enrollment__course")
    ordering = ("-probability", "enrollment_id")
    fields = (
        "learner",
        "course",
        "probability",
        "level",
        "reasons",
        "segment_detail",
        "features",
        "model",
        "scored_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DropoutRisk]:
        # Only the enrollments still running are at risk (as in the ML API's list).
        return (
            super()
            .get_queryset(request)
            .filter(enrollment__status=Enrollment.Status.ACTIVE)
            .select_related("enrollment__learner__profile", "enrollment__course", "model")
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # How the learners of the courses this user may see split into segments.
        learners = owned_by(
            Enrollment.objects.filter(status=Enrollment.Status.ACTIVE),
            owner_path="course__owner",
            user=request.user,
        ).values("learner_id")
        context = {**(extra_context or {}), "segments": segment_overview(learner_ids=learners)}
        return super().changelist_view(request, extra_context=context)

    @admin.display(ordering="enrollment__learner__email")
    def learner(self, obj: DropoutRisk) -> str:
        return str(obj.enrollment.learner)

    @admin.display(ordering="enrollment__course__title")
    def course(self, obj: DropoutRisk) -> str:
        return str(obj.enrollment.course)

    @admin.display(description="main reason")
    def top_factor(self, obj: DropoutRisk) -> str:
        return obj.factors[0]["text"] if obj.factors else ""

    @admin.display(description="reasons")
    def reasons(self, obj: DropoutRisk) -> str:
        if not obj.factors:
            return "-"
        items = format_html_join("", "<li>{}</li>", ((f["text"],) for f in obj.factors))
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="segment")
    def segment(self, obj: DropoutRisk) -> str:
        entry = _segment_entry(obj.enrollment.learner)
        return entry["name"] if entry else "-"

    @admin.display(description="segment")
    def segment_detail(self, obj: DropoutRisk) -> str:
        entry = _segment_entry(obj.enrollment.learner)
        if entry is None:
            return "Not assigned yet (segments are stored at training and nightly)."
        return format_html(
            "<strong>{}</strong>: {} (segments model v{}, assigned {})",
            entry["name"],
            entry.get("description", ""),
            entry.get("model_version", "?"),
            str(entry.get("assigned_at", ""))[:10],
        )


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "is_active", "trained_at", "metrics")
    list_filter = ("name", "is_active")
    search_fields = ("name", "notes")
    readonly_fields = ("trained_at", "training_window_start", "training_window_end", "is_active")
    actions = ("activate", "rollback")

    @admin.action(description="Activate selected version (deactivates its other versions)")
    def activate(self, request: HttpRequest, queryset: QuerySet[MLModel]) -> None:
        chosen = list(queryset)
        names = [model.name for model in chosen]
        if len(names) != len(set(names)):
            self.message_user(request, "Select at most one version per model name.", messages.ERROR)
            return
        try:
            with transaction.atomic():
                for model in chosen:
                    model_activate(name=model.name, version=model.version)
        except RegistryError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        activated = ", ".join(str(model.name) + f" v{model.version}" for model in chosen)
        self.message_user(request, f"Active now: {activated}.", messages.SUCCESS)

    @admin.action(description="Roll back: activate the previous version of the selected models")
    def rollback(self, request: HttpRequest, queryset: QuerySet[MLModel]) -> None:
        names = sorted(set(queryset.values_list("name", flat=True)))
        try:
            with transaction.atomic():
                restored = [model_rollback(name=name) for name in names]
        except RegistryError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        summary = ", ".join(f"{model.name} v{model.version}" for model in restored)
        self.message_user(request, f"Active now: {summary}.", messages.SUCCESS)


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    # Written from the at-risk page (/teach/); read back by evaluate_dropout_model.
    owner_path = "enrollment__course__owner"
    instructor_actions = frozenset({"view"})
    list_display = ("enrollment", "action", "level", "probability", "reviewer", "created_at")
    list_filter = ("action", "level")
    list_select_related = ("enrollment__learner", "enrollment__course", "reviewer")
    search_fields = ("enrollment__learner__email", "enrollment__course__title")


@admin.register(InstructorMessage)
class InstructorMessageAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    owner_path = "course__owner"
    instructor_actions = frozenset({"view"})
    list_display = ("learner", "course", "sender", "created_at", "read_at", "emailed_at")
    list_select_related = ("learner", "course", "sender")
    search_fields = ("learner__email", "course__title")
