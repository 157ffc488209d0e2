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
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import AuthRateThrottle
from catalog.llm import provider_enabled
from catalog.models import Course, Difficulty, Lesson, Module
from catalog.search import catalog_search, lessons_related
from catalog.selectors import courses_visible_to, lessons_visible_to, skills_list
from catalog.serializers import (
    AskAnswerSerializer,
    AskQuerySerializer,
    CourseOutlineSerializer,
    CourseSerializer,
    LessonSerializer,
    ModuleSerializer,
    RelatedLessonSerializer,
    SearchQuerySerializer,
    SearchResultsSerializer,
    SkillSerializer,
    TutorAnswerSerializer,
    TutorQuestionSerializer,
)
from catalog.services import (
    course_create,
    course_delete,
    course_publish,
    course_unpublish,
    course_update,
    lesson_create,
    lesson_delete,
    lesson_update,
    module_create,
    module_delete,
    module_update,
)
from catalog.tutor import TutorRateLimited, course_passages, tutor_answer
from learning.selectors import course_outline, lesson_ids_readable_by
from skillstudio.access import can_author, can_manage_course


class CanAuthorOrReadOnly(permissions.BasePermission):
    """Anyone may read; writing needs an instructor or admin who can edit the course."""

    message = "Only the course's instructor (or an admin) can change it."

    def has_permission(self, request: Request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_author(request.user)

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_manage_course(request.user, view.course_of(obj))


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

    @staticmethod
    def _apply_status(*, course: Course, status: str | None, now) -> None:
        # The API's writable "status" is the admin's publish / unpublish actions.
        if status == Course.Status.PUBLISHED:
            course_publish(course=course, now=now)
        elif status == Course.Status.DRAFT:
            course_unpublish(course=course, now=now)

    def perform_create(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        status, now = fields.pop("status", None), timezone.now()
        with transaction.atomic():
            course = course_create(owner=self.request.user, now=now, **fields)
            self._apply_status(course=course, status=status, now=now)
        serializer.instance = course

    def perform_update(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        status, now = fields.pop("status", None), timezone.now()
        with transaction.atomic():
            course = course_update(course=serializer.instance, now=now, **fields)
            self._apply_status(course=course, status=status, now=now)
        serializer.instance = course

    def perform_destroy(self, instance: Course) -> None:
        # Learner records forbid it: a 400 in the error shape, with the service's message.
        course_delete(course=instance, now=timezone.now())

    @extend_schema(responses=CourseOutlineSerializer)
    @action(detail=True, methods=["get"], permission_classes=[permissions.AllowAny])
    def outline(self, request: Request, pk: str | None = None) -> Response:
        """Modules and lessons in order with the caller's status, locks and blockers."""
        course = self.get_object()
        outline = course_outline(learner=request.user, course=course, path_skips=True)
        return Response(CourseOutlineSerializer(outline, context={"request": request}).data)


class CatalogSearchView(generics.GenericAPIView):
    """Published courses and lessons ranked for a query (full text, trigrams, embeddings)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = SearchResultsSerializer
    pagination_class = None

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchResultsSerializer)
    def get(self, request: Request) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        skill = data.get("skill")
        results = catalog_search(
            q=data["q"],
            skill=skill.slug if skill else "",
            difficulty=data.get("difficulty", ""),
            page=data["page"],
        )
        return Response(SearchResultsSerializer(results).data)


class RelatedLessonsView(generics.GenericAPIView):
    """Published lessons related to this one (a shared skill, or a lesson it builds on or
    that builds on it) that the caller can open now, outside its module, with why."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = RelatedLessonSerializer
    pagination_class = None
    queryset = Lesson.objects.none()  # for the schema; get() reads through the selectors

    @extend_schema(responses=RelatedLessonSerializer(many=True))
    def get(self, request: Request, lesson_id: int) -> Response:
        lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
        related = lessons_related(lesson=lesson, learner=request.user)
        return Response(RelatedLessonSerializer(related, many=True).data)


class TutorRateThrottle(AuthRateThrottle):
    """Per-user limit on questions (scope "tutor"); fails open when Redis is down."""


class LessonAskView(generics.GenericAPIView):
    """Passages of the lesson's course that cover a question, from lessons the caller can
    open. Retrieval only: nothing is generated and nothing leaves the server."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AskAnswerSerializer
    pagination_class = None
    queryset = Lesson.objects.none()  # for the schema; get() reads through the selectors
    throttle_classes = [TutorRateThrottle]
    throttle_scope = "tutor"

    @extend_schema(parameters=[AskQuerySerializer], responses=AskAnswerSerializer)
    def get(self, request: Request, lesson_id: int) -> Response:
        lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
        params = AskQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        passages = course_passages(
            lesson=lesson, learner=request.user, question=params.validated_data["question"]
        )
        return Response(AskAnswerSerializer({"mode": "retrieval", "passages": passages}).data)


class LessonTutorView(generics.GenericAPIView):
    """A generated answer grounded in the course's passages the caller can open (only the
    question and those passages are sent to the provider). 404 while no provider is
    configured; 429 past ``TUTOR_RATE_LIMIT``; a provider failure gives the passages alone
    with ``problem`` saying why."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TutorQuestionSerializer
    pagination_class = None
    queryset = Lesson.objects.none()  # for the schema; post() reads through the selectors

    @extend_schema(request=TutorQuestionSerializer, responses=TutorAnswerSerializer)
    def post(self, request: Request, lesson_id: int) -> Response:
        if not provider_enabled():
            raise NotFound("The tutor is not configured on this site.")
        lesson = get_object_or_404(
            lessons_visible_to(user=request.user).select_related("module__course"), pk=lesson_id
        )
        params = TutorQuestionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            answer = tutor_answer(
                lesson=lesson,
                learner=request.user,
                question=params.validated_data["question"],
                now=timezone.now(),
            )
        except TutorRateLimited as limited:
            raise Throttled(wait=limited.retry_after, detail=str(limited)) from limited
        return Response(TutorAnswerSerializer(answer).data)


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
        if request.method not in permissions.SAFE_METHODS and not can_manage_course(
            request.user, self.get_course()
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
        serializer.instance = module_create(
            course=self.get_course(), now=timezone.now(), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = module_update(
            module=serializer.instance, now=timezone.now(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Module) -> None:
        module_delete(module=instance, now=timezone.now())


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

    def perform_create(self, serializer) -> None:
        serializer.instance = lesson_create(
            module=self.get_module(), now=timezone.now(), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = lesson_update(
            lesson=serializer.instance, now=timezone.now(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Lesson) -> None:
        lesson_delete(lesson=instance, now=timezone.now())
