"""Course authoring: course → modules → lessons, skills, prerequisites, publishing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from catalog.models import Course, Lesson, Module, Skill
from catalog.search import course_embedding_defer, lesson_embedding_defer
from catalog.services import (
    course_prerequisites_validate,
    courses_publish,
    courses_unpublish,
    lesson_prerequisites_validate,
)
from learning.models import LessonProgress
from skillstudio.admin import (
    InstructorInlineMixin,
    LearnerDataProtectedMixin,
    OwnerAssignedAdmin,
    ScopedModelAdmin,
    owned_by,
)

COURSE_OWNER = "owner"
MODULE_OWNER = "course__owner"
LESSON_OWNER = "module__course__owner"


class PrerequisiteCycleForm(forms.ModelForm):
    """Rejects prerequisites that would make the item require itself."""

    def validate_prerequisites(self, prerequisites: QuerySet) -> None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "prerequisites" in cleaned:
            try:
                self.validate_prerequisites(cleaned["prerequisites"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class CourseForm(PrerequisiteCycleForm):
    class Meta:
        model = Course
        fields = (
            "title",
            "slug",
            "description",
            "owner",
            "difficulty",
            "estimated_hours",
            "skills",
            "prerequisites",
        )

    def validate_prerequisites(self, prerequisites: QuerySet[Course]) -> None:
        course_prerequisites_validate(course=self.instance, prerequisites=prerequisites)


class LessonForm(PrerequisiteCycleForm):
    # https: lesson videos are embedded in https pages.
    video_url = forms.URLField(label="Video URL", required=False, assume_scheme="https")

    class Meta:
        model = Lesson
        fields = (
            "module",
            "order",
            "title",
            "content_type",
            "body",
            "video_url",
            "difficulty",
            "estimated_minutes",
            "skills",
            "prerequisites",
        )

    def validate_prerequisites(self, prerequisites: QuerySet[Lesson]) -> None:
        lesson_prerequisites_validate(lesson=self.instance, prerequisites=prerequisites)


@admin.register(Skill)
class SkillAdmin(ScopedModelAdmin):
    # Skills are the shared vocabulary: every instructor uses and extends it,
    # but deleting one would strip it from other instructors' content.
    owner_path = None
    instructor_actions = frozenset({"view", "add", "change"})
    list_display = ("name", "slug", "course_count", "updated_at")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return super().get_queryset(request).annotate(course_total=Count("courses", distinct=True))

    @admin.display(description="courses", ordering="course_total")
    def course_count(self, obj: Skill) -> int:
        return obj.course_total


class ModuleInline(InstructorInlineMixin, admin.TabularInline):
    model = Module
    fields = ("order", "title")
    ordering = ("order",)
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(LearnerDataProtectedMixin, OwnerAssignedAdmin):
    owner_path = COURSE_OWNER
    form = CourseForm
    inlines = (ModuleInline,)
    list_display = (
        "title",
        "status",
        "difficulty",
        "estimated_hours",
        "module_count",
        "owner",
        "published_at",
    )
    list_filter = ("status", "difficulty", "skills")
    search_fields = ("title", "slug", "description", "skills__name")
    list_select_related = ("owner",)
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("skills", "prerequisites")
    readonly_fields = ("status", "published_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "owner")}),
        ("Level and scope", {"fields": ("difficulty", "estimated_hours", "skills")}),
        ("Prerequisites", {"fields": ("prerequisites",)}),
        ("Publishing", {"fields": ("status", "published_at", "created_at", "updated_at")}),
    )
    actions = ("publish", "unpublish")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(module_total=Count("modules"))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        course_embedding_defer(course_id=form.instance.pk)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return self.fieldsets
        # Instructors own what they create; the owner field is excluded for them.
        first = (None, {"fields": ("title", "slug", "description")})
        return (first, *self.fieldsets[1:])

    def learner_records(self, obj: Course) -> str | None:
        count = obj.enrollments.count()
        return f"{count} learner enrollment(s); unpublish it instead" if count else None

    @admin.display(description="modules", ordering="module_total")
    def module_count(self, obj: Course) -> int:
        return obj.module_total

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "prerequisites":
            kwargs["queryset"] = owned_by(
                Course.objects.all(), owner_path=COURSE_OWNER, user=request.user
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.action(description="Publish selected courses")
    def publish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        changed = courses_publish(courses=queryset, now=timezone.now())
        self.message_user(request, f"Published {changed} course(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected courses (back to draft)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        changed = courses_unpublish(courses=queryset, now=timezone.now())
        self.message_user(request, f"Unpublished {changed} course(s).", messages.SUCCESS)


class LessonInline(InstructorInlineMixin, admin.TabularInline):
    model = Lesson
    fields = ("order", "title", "content_type", "difficulty", "estimated_minutes")
    ordering = ("order",)
    extra = 0
    show_change_link = True


class ModuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Module) -> str:
        return f"{obj.course.title}: {obj}"


@admin.register(Module)
class ModuleAdmin(LearnerDataProtectedMixin, ScopedModelAdmin):
    owner_path = MODULE_OWNER
    inlines = (LessonInline,)
    list_display = ("title", "course", "order", "lesson_count")
    list_filter = (("course", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("title", "course__title")
    list_select_related = ("course",)
    ordering = ("course__title", "order")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Module]:
        return super().get_queryset(request).annotate(lesson_total=Count("lessons"))

    def learner_records(self, obj: Module) -> str | None:
        count = LessonProgress.objects.filter(lesson__module=obj).count()
        return f"{count} learner lesson progress record(s)" if count else None

    @admin.display(description="lessons", ordering="lesson_total")
    def lesson_count(self, obj: Module) -> int:
        return obj.lesson_total

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for lesson in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
            lesson_embedding_defer(lesson_id=lesson.pk)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "course":
            kwargs["queryset"] = owned_by(
                Course.objects.all(), owner_path=COURSE_OWNER, user=request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Lesson)
class LessonAdmin(LearnerDataProtectedMixin, ScopedModelAdmin):
    owner_path = LESSON_OWNER
    form = LessonForm
    list_display = (
        "title",
        "module",
        "course_title",
        "order",
        "content_type",
        "difficulty",
        "estimated_minutes",
    )
    list_filter = (
        "content_type",
        "difficulty",
        ("module__course", admin.RelatedOnlyFieldListFilter),
        "skills",
    )
    search_fields = ("title", "body", "module__title", "module__course__title")
    list_select_related = ("module__course",)
    ordering = ("module__course__title", "module__order", "order")
    autocomplete_fields = ("skills", "prerequisites")
    fieldsets = (
        (None, {"fields": ("module", "order", "title", "content_type")}),
        ("Content", {"fields": ("body", "video_url")}),
        ("Level", {"fields": ("difficulty", "estimated_minutes", "skills", "prerequisites")}),
    )

    def learner_records(self, obj: Lesson) -> str | None:
        count = obj.progress.count()
        return f"{count} learner lesson progress record(s)" if count else None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # After the skills are saved; the lead moves this into catalog's lesson services.
        lesson_embedding_defer(lesson_id=form.instance.pk)

    @admin.display(description="course", ordering="module__course__title")
    def course_title(self, obj: Lesson) -> str:
        return obj.module.course.title

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "module":
            kwargs["queryset"] = owned_by(
                Module.objects.select_related("course"), owner_path=MODULE_OWNER, user=request.user
            ).order_by("course__title", "order")
            kwargs["form_class"] = ModuleChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "prerequisites":
            kwargs["queryset"] = owned_by(
                Lesson.objects.all(), owner_path=LESSON_OWNER, user=request.user
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
