"""Course authoring: course → modules → lessons, skills, prerequisites, publishing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html

from catalog.llm import provider_enabled
from catalog.models import Course, Lesson, Module, Skill
from catalog.services import (
    COURSE_FIELDS,
    LESSON_FIELDS,
    MODULE_FIELDS,
    SKILL_FIELDS,
    course_create,
    course_delete,
    course_delete_blocker,
    course_prerequisites_validate,
    course_publish,
    course_unpublish,
    course_update,
    courses_unpublish,
    lesson_create,
    lesson_delete,
    lesson_delete_blocker,
    lesson_prerequisites_validate,
    lesson_update,
    lesson_video_problem,
    module_create,
    module_delete,
    module_delete_blocker,
    module_update,
    skill_create,
    skill_delete,
    skill_update,
)
from catalog.templatetags.lesson_markdown import render_markdown
from catalog.tutor_drafts import lesson_questions_draft
from skillstudio.access import can_author, is_platform_admin
from skillstudio.admin import (
    InstructorInlineMixin,
    LearnerDataProtectedMixin,
    OwnerAssignedAdmin,
    PublishButtonsMixin,
    ScopedModelAdmin,
    ServiceWriteMixin,
    owned_by,
    protected_formset,
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


def _fields(form: forms.ModelForm, names: frozenset[str]) -> dict[str, Any]:
    """The form's values for the service's plain fields (relations are passed apart)."""
    return {name: value for name, value in form.cleaned_data.items() if name in names}


def _relation(form: forms.ModelForm, name: str) -> Any:
    """A many-to-many value from the form, or None (keep) when the form does not show it."""
    return form.cleaned_data.get(name)


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


MAX_PREVIEW_CHARS = 200_000


class MarkdownTextarea(forms.Textarea):
    """A textarea with a Preview button (static/js/markdown_preview.js)."""

    class Media:
        js = ("js/markdown_preview.js",)
        css = {"all": ("css/admin_authoring.css",)}

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {
                "data-markdown-preview": reverse_lazy("admin:catalog_lesson_markdown_preview"),
                **(attrs or {}),
            }
        )


def markdown_preview(request: HttpRequest) -> HttpResponse:
    """The Markdown of an authoring textarea as learners will see it (sanitised HTML)."""
    if not can_author(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    text = request.POST.get("text", "")
    if len(text) > MAX_PREVIEW_CHARS:
        return HttpResponseBadRequest("The text is too long to preview.")
    response = HttpResponse(render_markdown(text), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


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
        widgets = {"body": MarkdownTextarea(attrs={"rows": 20, "cols": 80})}

    def validate_prerequisites(self, prerequisites: QuerySet[Lesson]) -> None:
        lesson_prerequisites_validate(lesson=self.instance, prerequisites=prerequisites)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        module = cleaned.get("module")
        if module is not None:
            _check_video(self, module.course)
        return cleaned


def _check_video(form: forms.ModelForm, course: Course) -> None:
    problem = lesson_video_problem(
        content_type=form.cleaned_data.get("content_type", ""),
        video_url=form.cleaned_data.get("video_url", ""),
        course=course,
    )
    if problem:
        form.add_error("video_url" if "video_url" in form.fields else None, problem)


class LessonRowForm(forms.ModelForm):
    """A lesson row on its module's page; a video lesson carries its URL here."""

    video_url = forms.URLField(label="Video URL", required=False, assume_scheme="https")

    class Meta:
        model = Lesson
        fields = ("order", "title", "content_type", "video_url", "difficulty", "estimated_minutes")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.module_id is not None:
            _check_video(self, Course.objects.get(modules=self.instance.module_id))
        return cleaned


@admin.register(Skill)
class SkillAdmin(ServiceWriteMixin, ScopedModelAdmin):
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

    def save_with_service(self, request: HttpRequest, obj: Skill, form: Any, change: bool) -> Skill:
        fields = _fields(form, SKILL_FIELDS)
        if change:
            return skill_update(skill=obj, now=timezone.now(), **fields)
        return skill_create(now=timezone.now(), **fields)

    def delete_with_service(self, request: HttpRequest, obj: Skill) -> None:
        skill_delete(skill=obj, now=timezone.now())


class ModuleInline(InstructorInlineMixin, admin.TabularInline):
    model = Module
    formset = protected_formset(lambda module: module_delete_blocker(module=module))
    fields = ("order", "title")
    ordering = ("order",)
    extra = 0
    show_change_link = True


def _save_inline_rows(
    formset: Any,
    *,
    create: Any,
    update: Any,
    delete: Any,
    names: frozenset[str],
) -> None:
    """Store an inline formset's rows through the services, deletions first.

    Call ``formset.save(commit=False)`` first: it sorts the rows into new, changed and
    deleted ones without writing anything.
    """
    now = timezone.now()
    for row in formset.deleted_objects:
        delete(row, now)
    for row in formset.new_objects:
        create({name: getattr(row, name) for name in names}, now)
    for row, _changed in formset.changed_objects:
        update(row, {name: getattr(row, name) for name in names}, now)


@admin.register(Course)
class CourseAdmin(
    PublishButtonsMixin, ServiceWriteMixin, LearnerDataProtectedMixin, OwnerAssignedAdmin
):
    owner_path = COURSE_OWNER
    form = CourseForm
    # Publish buttons plus the links to the course's insights.
    change_form_template = "admin/catalog/course/change_form.html"
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

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if is_platform_admin(request.user):
            return self.fieldsets
        # Instructors own what they create; the owner field is excluded for them.
        first = (None, {"fields": ("title", "slug", "description")})
        return (first, *self.fieldsets[1:])

    def learner_records(self, obj: Course) -> str | None:
        return course_delete_blocker(course=obj)

    def save_with_service(
        self, request: HttpRequest, obj: Course, form: Any, change: bool
    ) -> Course:
        relations = {
            "skills": _relation(form, "skills"),
            "prerequisites": _relation(form, "prerequisites"),
        }
        fields = _fields(form, COURSE_FIELDS)
        now = timezone.now()
        if change:
            owner = form.cleaned_data.get("owner") if is_platform_admin(request.user) else None
            return course_update(course=obj, now=now, owner=owner, **relations, **fields)
        owner = self.owner_for(request, form)
        return course_create(owner=owner, now=now, **relations, **fields)

    def delete_with_service(self, request: HttpRequest, obj: Course) -> None:
        course_delete(course=obj, now=timezone.now())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        course = form.instance
        formset.save(commit=False)
        _save_inline_rows(
            formset,
            create=lambda fields, now: module_create(course=course, now=now, **fields),
            update=lambda row, fields, now: module_update(module=row, now=now, **fields),
            delete=lambda row, now: module_delete(module=row, now=now),
            names=MODULE_FIELDS,
        )

    @admin.display(description="modules", ordering="module_total")
    def module_count(self, obj: Course) -> int:
        return obj.module_total

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "prerequisites":
            kwargs["queryset"] = owned_by(
                Course.objects.all(), owner_path=COURSE_OWNER, user=request.user
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def publish_one(self, request: HttpRequest, obj: Course) -> bool:
        return course_publish(course=obj, now=timezone.now())

    def unpublish_one(self, request: HttpRequest, obj: Course) -> bool:
        return course_unpublish(course=obj, now=timezone.now())

    @admin.action(description="Publish selected courses")
    def publish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        published, refused = 0, 0
        now = timezone.now()
        for course in queryset.filter(status=Course.Status.DRAFT).order_by("title", "pk"):
            try:
                with transaction.atomic():
                    published += course_publish(course=course, now=now)
            except ValidationError as error:
                refused += 1
                self.message_user(
                    request,
                    f"“{course}” was not published. " + " ".join(error.messages),
                    messages.ERROR,
                )
        # A success line only for what happened: never "Published 0" under a refusal.
        if published:
            self.message_user(request, f"Published {published} course(s).", messages.SUCCESS)
        elif not refused:
            self.message_user(request, "The selected courses were already published.")

    @admin.action(description="Unpublish selected courses (back to draft)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        changed = courses_unpublish(courses=queryset, now=timezone.now())
        if changed:
            self.message_user(request, f"Unpublished {changed} course(s).", messages.SUCCESS)
        else:
            self.message_user(request, "The selected courses were already drafts.")


class LessonInline(InstructorInlineMixin, admin.TabularInline):
    model = Lesson
    form = LessonRowForm
    formset = protected_formset(lambda lesson: lesson_delete_blocker(lesson=lesson))
    fields = ("order", "title", "content_type", "video_url", "difficulty", "estimated_minutes")
    ordering = ("order",)
    extra = 0
    show_change_link = True


class ModuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Module) -> str:
        return f"{obj.course.title}: {obj}"


@admin.register(Module)
class ModuleAdmin(ServiceWriteMixin, LearnerDataProtectedMixin, ScopedModelAdmin):
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
        return module_delete_blocker(module=obj)

    def save_with_service(
        self, request: HttpRequest, obj: Module, form: Any, change: bool
    ) -> Module:
        fields = _fields(form, MODULE_FIELDS)
        course = form.cleaned_data.get("course")
        if change:
            return module_update(module=obj, now=timezone.now(), course=course, **fields)
        return module_create(course=course, now=timezone.now(), **fields)

    def delete_with_service(self, request: HttpRequest, obj: Module) -> None:
        module_delete(module=obj, now=timezone.now())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        module = form.instance
        formset.save(commit=False)
        _save_inline_rows(
            formset,
            create=lambda fields, now: lesson_create(module=module, now=now, **fields),
            update=lambda row, fields, now: lesson_update(lesson=row, now=now, **fields),
            delete=lambda row, now: lesson_delete(lesson=row, now=now),
            names=frozenset(LessonInline.fields) & LESSON_FIELDS,
        )

    @admin.display(description="lessons", ordering="lesson_total")
    def lesson_count(self, obj: Module) -> int:
        return obj.lesson_total

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "course":
            kwargs["queryset"] = owned_by(
                Course.objects.all(), owner_path=COURSE_OWNER, user=request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Lesson)
class LessonAdmin(ServiceWriteMixin, LearnerDataProtectedMixin, ScopedModelAdmin):
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
    actions = ("draft_practice_questions",)
    change_form_template = "admin/catalog/lesson/change_form.html"
    # Each lesson is one provider call made while the admin waits.
    DRAFT_BATCH = 3

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not provider_enabled():
            actions.pop("draft_practice_questions", None)
        return actions

    @admin.action(
        description="Draft practice questions with the tutor (saved unpublished)",
        permissions=["change"],
    )
    def draft_practice_questions(self, request: HttpRequest, queryset: QuerySet[Lesson]) -> None:
        if not provider_enabled():
            self.message_user(request, "The tutor is not configured.", messages.ERROR)
            return
        lessons = list(queryset.select_related("module__course__owner")[: self.DRAFT_BATCH + 1])
        if len(lessons) > self.DRAFT_BATCH:
            self.message_user(
                request, f"Select at most {self.DRAFT_BATCH} lessons at a time.", messages.ERROR
            )
            return
        for lesson in lessons:
            self._draft_one(request, lesson)

    def _draft_one(self, request: HttpRequest, lesson: Lesson) -> Any:
        """Draft one lesson's questions; the message says what happened. The draft, or None."""
        try:
            assessment = lesson_questions_draft(lesson=lesson, now=timezone.now())
        except ValidationError as error:
            self.message_user(
                request,
                f"“{lesson}”: no questions drafted. {' '.join(error.messages)}",
                messages.ERROR,
            )
            return None
        url = reverse("admin:assessments_assessment_change", args=[assessment.pk])
        self.message_user(
            request,
            format_html(
                '“{}”: {} draft questions saved in <a href="{}">{}</a>, unpublished. '
                "Review them there before publishing.",
                lesson,
                assessment.questions.count(),
                url,
                assessment,
            ),
            messages.SUCCESS,
        )
        return assessment

    def draft_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "Draft practice questions" button (POST): on success the
        draft quiz's admin page, where the questions are reviewed."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        lesson = self.get_object(request, unquote(object_id))
        if lesson is None or not provider_enabled():
            raise Http404
        if not self.has_change_permission(request, lesson):
            raise PermissionDenied
        assessment = self._draft_one(request, lesson)
        if assessment is None:
            return redirect("admin:catalog_lesson_change", lesson.pk)
        return redirect("admin:assessments_assessment_change", assessment.pk)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "markdown-preview/",
                self.admin_site.admin_view(markdown_preview),
                name="catalog_lesson_markdown_preview",
            ),
            path(
                "<path:object_id>/draft-questions/",
                self.admin_site.admin_view(self.draft_view),
                name="catalog_lesson_draft_questions",
            ),
            *super().get_urls(),
        ]

    def learner_records(self, obj: Lesson) -> str | None:
        return lesson_delete_blocker(lesson=obj)

    def save_with_service(
        self, request: HttpRequest, obj: Lesson, form: Any, change: bool
    ) -> Lesson:
        relations = {
            "skills": _relation(form, "skills"),
            "prerequisites": _relation(form, "prerequisites"),
        }
        fields = _fields(form, LESSON_FIELDS)
        module = form.cleaned_data.get("module")
        if change:
            return lesson_update(
                lesson=obj, now=timezone.now(), module=module, **relations, **fields
            )
        return lesson_create(module=module, now=timezone.now(), **relations, **fields)

    def delete_with_service(self, request: HttpRequest, obj: Lesson) -> None:
        lesson_delete(lesson=obj, now=timezone.now())

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
