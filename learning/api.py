"""Learning API: goals, enrollments, lesson progress and the event batch.

Every queryset comes from a ``*_reachable_by(user=…)`` selector, so another learner's
object is a 404, while admins reach every learner's (and can filter by ``learner``).
Writes go through learning.services.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, views, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.filters import IdFilter, LearnerFilterSet
from catalog.models import Lesson
from catalog.selectors import lessons_visible_to
from learning import services
from learning.events import ingest_events
from learning.models import Enrollment, LearningGoal, LessonProgress
from learning.selectors import (
    enrollments_reachable_by,
    goals_reachable_by,
    progress_reachable_by,
)
from learning.serializers import (
    EnrollmentSerializer,
    EventBatchDocSerializer,
    EventBatchSerializer,
    GoalCreateSerializer,
    GoalSerializer,
    IngestResultSerializer,
    LessonProgressSerializer,
    PositionSerializer,
)
from skillstudio.parsers import ItemwiseJSONParser


class GoalFilter(LearnerFilterSet):
    class Meta:
        model = LearningGoal
        fields = ["status"]


class GoalViewSet(viewsets.ModelViewSet):
    """The learner's goals: target skills with levels, weekly hours, deadline."""

    serializer_class = GoalSerializer
    filterset_class = GoalFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "deadline", "title"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LearningGoal.objects.none()
        return goals_reachable_by(user=self.request.user)

    def _respond(self, goal: LearningGoal, code: int) -> Response:
        goal = goals_reachable_by(user=self.request.user).get(pk=goal.pk)
        return Response(GoalSerializer(goal).data, status=code)

    @extend_schema(request=GoalCreateSerializer, responses={201: GoalSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = GoalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        goal = services.goal_create(
            learner=request.user, now=timezone.now(), **serializer.validated_data
        )
        return self._respond(goal, status.HTTP_201_CREATED)

    @extend_schema(request=GoalSerializer, responses={200: GoalSerializer})
    def update(self, request: Request, *args, **kwargs) -> Response:
        goal = self.get_object()
        serializer = self.get_serializer(
            goal, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        services.goal_update(goal=goal, now=timezone.now(), **serializer.validated_data)
        return self._respond(goal, status.HTTP_200_OK)

    def perform_destroy(self, instance: LearningGoal) -> None:
        services.goal_delete(goal=instance, now=timezone.now())

    @extend_schema(request=None, responses=GoalSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request: Request, pk: str | None = None) -> Response:
        """Stop pursuing the goal (status abandoned); its path versions stay as history."""
        goal = services.goal_abandon(goal=self.get_object(), now=timezone.now())
        return self._respond(goal, status.HTTP_200_OK)

    @extend_schema(request=None, responses=GoalSerializer)
    @action(detail=True, methods=["post"])
    def achieve(self, request: Request, pk: str | None = None) -> Response:
        """Mark the goal as reached (status achieved); doing it twice changes nothing."""
        goal = services.goal_achieve(goal=self.get_object(), now=timezone.now())
        return self._respond(goal, status.HTTP_200_OK)


class EnrollmentFilter(LearnerFilterSet):
    course = IdFilter(field_name="course_id")

    class Meta:
        model = Enrollment
        fields = ["status", "course"]


class EnrollmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Enroll in a published course (idempotent) and unenroll (DELETE keeps progress)."""

    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter
    ordering_fields = ["enrolled_at", "progress_percent"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return enrollments_reachable_by(user=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrollment = services.enrollment_create(
            learner=request.user, course=serializer.validated_data["course"], now=timezone.now()
        )
        return Response(self.get_serializer(enrollment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Enrollment) -> None:
        services.enrollment_drop(enrollment=instance, now=timezone.now())


class ProgressFilter(LearnerFilterSet):
    course = IdFilter(field_name="lesson__module__course_id")

    class Meta:
        model = LessonProgress
        fields = ["status", "course", "lesson"]


class LessonProgressViewSet(viewsets.ReadOnlyModelViewSet):
    """The learner's progress per lesson."""

    serializer_class = LessonProgressSerializer
    filterset_class = ProgressFilter
    ordering_fields = ["updated_at", "started_at", "completed_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LessonProgress.objects.none()
        return progress_reachable_by(user=self.request.user)


class LessonActionView(views.APIView):
    """Base for POST learning/lessons/{lesson_id}/<action>: the lesson must be visible."""

    def get_lesson(self, lesson_id: int) -> Lesson:
        # The actions read the lesson and its course; its skills and prerequisites come from
        # the lock rule's own graph, so the selector's prefetches would be read for nothing.
        lessons = lessons_visible_to(user=self.request.user).prefetch_related(None)
        return get_object_or_404(lessons, pk=lesson_id)

    def respond(self, progress: LessonProgress, lesson: Lesson) -> Response:
        # The service's row is current (saved or refreshed in its transaction), and it is the
        # caller's own row of the lesson the request named: no need to read it again.
        progress.lesson = lesson
        return Response(LessonProgressSerializer(progress).data)


class LessonStartView(LessonActionView):
    @extend_schema(request=None, responses=LessonProgressSerializer)
    def post(self, request: Request, lesson_id: int) -> Response:
        """Mark the lesson in progress (enrolls in its course when needed)."""
        lesson = self.get_lesson(lesson_id)
        progress = services.lesson_start(learner=request.user, lesson=lesson, now=timezone.now())
        return self.respond(progress, lesson)


class LessonCompleteView(LessonActionView):
    @extend_schema(request=None, responses=LessonProgressSerializer)
    def post(self, request: Request, lesson_id: int) -> Response:
        """Mark the lesson completed; the course's progress % follows.

        Completed well under the lesson's estimated time, it is recorded as skimmed
        (``skimmed: true``, weaker evidence): a client should ask the learner first, as
        the web page does.
        """
        lesson = self.get_lesson(lesson_id)
        progress = services.lesson_complete(learner=request.user, lesson=lesson, now=timezone.now())
        return self.respond(progress, lesson)


class LessonPositionView(LessonActionView):
    @extend_schema(request=PositionSerializer, responses=LessonProgressSerializer)
    def post(self, request: Request, lesson_id: int) -> Response:
        """Save the video position and add the seconds studied since the last update."""
        lesson = self.get_lesson(lesson_id)
        serializer = PositionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.lesson_position_update(
            learner=request.user, lesson=lesson, now=timezone.now(), **serializer.validated_data
        )
        return self.respond(progress, lesson)


class EventBatchView(views.APIView):
    # Each event is validated on its own (learning.events): odd values in one
    # must not refuse the whole batch at parse time.
    parser_classes = [ItemwiseJSONParser]

    @extend_schema(request=EventBatchDocSerializer, responses=IngestResultSerializer)
    def post(self, request: Request) -> Response:
        """Ingest up to 500 events: valid ones stored, duplicates acknowledged, errors by index.

        A body that is not ``{"events": [...]}`` with 1-500 items is a 400 and
        stores nothing.
        """
        serializer = EventBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = ingest_events(
            learner=request.user, events=serializer.validated_data["events"], now=timezone.now()
        )
        return Response(IngestResultSerializer(result).data)
