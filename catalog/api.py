"""Catalog API: skills, courses (with outline), nested modules and lessons.

Published courses are readable by everyone, anonymous clients included;
drafts only by their owner and admins. Writes need the owner instructor or an
admin: a visible course someone may not change is a 403, an invisible one 404.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Course, Difficulty, Lesson, Module
from catalog.selectors import (
    can_edit_course,
    course_learner_count,
    courses_visible_to,
    lesson_progress_count,
    skills_list,
)
from catalog.serializers import (
    CourseOutlineSerializer,
    CourseSerializer,
    LessonSerializer,
    ModuleSerializer,
    SkillSerializer,
)
from catalog.services import course_prerequisites_set, lesson_prerequisites_set
from learning.selectors import course_outline, lesson_ids_readable_by


class CanAuthorOrReadOnly(permissions.BasePermission):
    """Anyone may read; writing needs an instructor or admin who can edit the course."""

    message = "Only the course's instructor (or an admin) can change it."

    def has_permission(self, request: Request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return bool(user.is_authenticated and (user.is_instructor or user.is_platform_admin))

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_edit_course(user=request.user, course=view.course_of(obj))


class SkillListView(generics.ListAPIView):
    """The skill vocabulary shared by courses, lessons, questions and goals."""

    serializer_class = SkillSerializer
    permission_classes = [permissions.AllowAny]
    search_fields = ["slug", "name"]
    ordering_fields = ["name", "slug"]

    def get_queryset(self):
        return skills_list()


class CourseFilter(filters.FilterSet):
    skill = filters.CharFilter(method="filter_skill", help_text="Skill slug the course teaches.")
    difficulty = filters.ChoiceFilter(choices=Difficulty.choices)
    status = filters.ChoiceFilter(choices=Course.Status.choices)
    owner = filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Course
        fields = ["skill", "difficulty", "status", "owner"]

    def filter_skill(self, queryset, name: str, value: str):
        return queryset.filter(
            pk__in=Course.skills.through.objects.filter(skill__slug=value).values("course_id")
        )


class CourseViewSet(viewsets.ModelViewSet):
    serializer_class = CourseSerializer
    permission_classes = [CanAuthorOrReadOnly]
    filterset_class = CourseFilter
    search_fields = ["title", "description"]
    ordering_fields = ["title", "created_at", "estimated_hours", "difficulty"]

    def get_queryset(self):
        return courses_visible_to(user=self.request.user)

    @staticmethod
    def course_of(obj: Course) -> Course:
        return obj

    def _save(self, serializer, **extra) -> None:
        status = serializer.validated_data.get("status")
        instance = serializer.instance
        if status == Course.Status.PUBLISHED and (instance is None or not instance.published_at):
            extra["published_at"] = timezone.now()
        prerequisites = serializer.validated_data.pop("prerequisites", None)
        with transaction.atomic():
            course = serializer.save(**extra)
            if prerequisites is not None:
                # Rejects a cycle with a 400 naming it; nothing is saved then.
                course_prerequisites_set(course=course, prerequisites=prerequisites)

    def perform_create(self, serializer) -> None:
        self._save(serializer, owner=self.request.user)

    def perform_update(self, serializer) -> None:
        self._save(serializer)

    def perform_destroy(self, instance: Course) -> None:
        learners = course_learner_count(course=instance)
        if learners:
            raise ValidationError(
                f"{learners} learner(s) are enrolled in “{instance.title}”: "
                "set it back to draft instead of deleting it."
            )
        instance.delete()

    @extend_schema(responses=CourseOutlineSerializer)
    @action(detail=True, methods=["get"], permission_classes=[permissions.AllowAny])
    def outline(self, request: Request, pk: str | None = None) -> Response:
        """Modules and lessons in order with the caller's status, locks and blockers."""
        course = self.get_object()
        outline = course_outline(learner=request.user, course=course)
        return Response(CourseOutlineSerializer(outline, context={"request": request}).data)


def _refuse_if_studied(lessons, *, what: str) -> None:
    records = lesson_progress_count(lessons=lessons)
    if records:
        raise ValidationError(
            f"{what} has {records} learner progress record(s): edit it instead of deleting it."
        )


class CourseChildMixin:
    """Resolves the parent course from the URL (404 when the caller cannot see it)."""

    permission_classes = [CanAuthorOrReadOnly]

    def get_course(self) -> Course:
        if not hasattr(self, "_course"):
            # The parent alone: its skills/prerequisites are not part of these responses.
            visible = courses_visible_to(user=self.request.user).prefetch_related(None)
            self._course = get_object_or_404(visible, pk=self.kwargs["course_id"])
        return self._course

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Writes need the parent course to be the caller's, checked before any lookup.
        if request.method not in permissions.SAFE_METHODS and not can_edit_course(
            user=request.user, course=self.get_course()
        ):
            self.permission_denied(request, message=CanAuthorOrReadOnly.message)


class ModuleViewSet(CourseChildMixin, viewsets.ModelViewSet):
    serializer_class = ModuleSerializer

    @staticmethod
    def course_of(obj: Module) -> Course:
        return obj.course

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Module.objects.none()
        return (
            Module.objects.filter(course=self.get_course())
            .select_related("course")
            .prefetch_related(Prefetch("lessons", queryset=Lesson.objects.order_by("order")))
            .order_by("order")
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["course"] = self.get_course()
        return context

    def perform_create(self, serializer) -> None:
        serializer.save(course=self.get_course())

    def perform_destroy(self, instance: Module) -> None:
        _refuse_if_studied(Lesson.objects.filter(module=instance), what=f"“{instance.title}”")
        instance.delete()


class LessonViewSet(CourseChildMixin, viewsets.ModelViewSet):
    serializer_class = LessonSerializer

    @staticmethod
    def course_of(obj: Lesson) -> Course:
        return obj.module.course

    def get_module(self) -> Module:
        if not hasattr(self, "_module"):
            self._module = get_object_or_404(
                Module.objects.select_related("course"),
                pk=self.kwargs["module_id"],
                course=self.get_course(),
            )
        return self._module

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lesson.objects.none()
        return (
            Lesson.objects.filter(module=self.get_module())
            .select_related("module__course")
            .prefetch_related("skills", Prefetch("prerequisites", queryset=Lesson.objects.all()))
            .order_by("order")
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["module"] = self.get_module()
            context["readable_ids"] = lesson_ids_readable_by(
                user=self.request.user, course=self.get_course()
            )
        return context

    def _save(self, serializer, **extra) -> None:
        prerequisites = serializer.validated_data.pop("prerequisites", None)
        with transaction.atomic():
            lesson = serializer.save(**extra)
            if prerequisites is not None:
                lesson_prerequisites_set(lesson=lesson, prerequisites=prerequisites)

    def perform_create(self, serializer) -> None:
        self._save(serializer, module=self.get_module())

    def perform_update(self, serializer) -> None:
        self._save(serializer)

    def perform_destroy(self, instance: Lesson) -> None:
        _refuse_if_studied(Lesson.objects.filter(pk=instance.pk), what=f"“{instance.title}”")
        instance.delete()
