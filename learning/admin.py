"""Learner activity in the admin: read-only, written by the learning services.

LearnerEvent is not registered: its composite primary key (event_id,
occurred_at), which the monthly partitioning requires, is not supported by
Django 5.2's admin. Operators query events through the API or SQL instead.
"""

from __future__ import annotations

from django.contrib import admin

from learning.models import Enrollment, GoalSkill, LearningGoal, LessonProgress
from skillstudio.admin import InstructorInlineMixin, ReadOnlyAdminMixin, ScopedModelAdmin


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    # Instructors follow who takes their courses and how far they got.
    owner_path = "course__owner"
    instructor_actions = frozenset({"view"})
    list_display = (
        "learner",
        "course",
        "status",
        "progress_percent",
        "enrolled_at",
        "completed_at",
    )
    list_filter = ("status", ("course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("learner__email", "learner__full_name", "course__title")
    list_select_related = ("learner", "course")
    date_hierarchy = "enrolled_at"


@admin.register(LessonProgress)
class LessonProgressAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    owner_path = "lesson__module__course__owner"
    instructor_actions = frozenset({"view"})
    list_display = ("learner", "lesson", "status", "time_spent_seconds", "completed_at")
    list_filter = ("status", ("lesson__module__course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("learner__email", "lesson__title")
    list_select_related = ("learner", "lesson")


class GoalSkillInline(InstructorInlineMixin, admin.TabularInline):
    model = GoalSkill
    fields = ("skill", "target_level")
    readonly_fields = fields
    extra = 0


@admin.register(LearningGoal)
class LearningGoalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Goals are personal: only superusers see them, nobody edits them here.
    inlines = (GoalSkillInline,)
    list_display = ("title", "learner", "status", "weekly_hours", "deadline", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "learner__email")
    list_select_related = ("learner",)
