"""Computed learner state (read-only) and trained model versions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from insights.models import LearnerSkillState, LearningPathSnapshot, MLModel, Recommendation
from skillstudio.admin import ReadOnlyAdminMixin


@admin.register(LearnerSkillState)
class LearnerSkillStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("learner", "skill", "level", "mastery", "evidence_count", "last_practiced_at")
    list_filter = ("level", "skill")
    search_fields = ("learner__email", "skill__name", "skill__slug")
    list_select_related = ("learner", "skill")


@admin.register(LearningPathSnapshot)
class LearningPathSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("learner", "goal", "version", "is_active", "trigger", "iso_week", "created_at")
    list_filter = ("is_active", "trigger")
    search_fields = ("learner__email", "goal__title", "change_summary")
    list_select_related = ("learner", "goal")
    date_hierarchy = "created_at"


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("learner", "kind", "status", "score", "reason", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("learner__email", "reason")
    list_select_related = ("learner",)
    date_hierarchy = "created_at"


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "is_active", "trained_at", "metrics")
    list_filter = ("name", "is_active")
    search_fields = ("name", "notes")
    readonly_fields = ("trained_at", "training_window_start", "training_window_end", "is_active")
    actions = ("activate",)

    @admin.action(description="Activate selected version (deactivates its other versions)")
    def activate(self, request: HttpRequest, queryset: QuerySet[MLModel]) -> None:
        chosen = list(queryset)
        names = [model.name for model in chosen]
        if len(names) != len(set(names)):
            self.message_user(request, "Select at most one version per model name.", messages.ERROR)
            return
        with transaction.atomic():
            for model in chosen:
                # Deactivate first: the partial unique index allows one active row per name.
                MLModel.objects.filter(name=model.name, is_active=True).exclude(pk=model.pk).update(
                    is_active=False
                )
                MLModel.objects.filter(pk=model.pk).update(is_active=True)
        activated = ", ".join(str(model.name) + f" v{model.version}" for model in chosen)
        self.message_user(request, f"Active now: {activated}.", messages.SUCCESS)
