"""Assessment API: assessments and questions (authoring), attempts (taking them).

Learners read published assessments with key-free questions; the answer key
(choices' is_correct, numeric answers, accepted texts) is served only on the
questions endpoint, to the assessment's owner and admins, and in an attempt's
review once it is submitted.
"""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.filters import IdFilter, LearnerFilterSet
from assessments import services
from assessments.models import Assessment, AssessmentAttempt, Question
from assessments.selectors import (
    assessments_editable_by,
    assessments_visible_to,
    attempts_reachable_by,
    questions_editable_by,
)
from assessments.serializers import (
    AssessmentDetailSerializer,
    AssessmentSerializer,
    AttemptDetailSerializer,
    AttemptSerializer,
    AttemptStartSerializer,
    AttemptSubmitSerializer,
    QuestionSerializer,
)
from skillstudio.access import can_author


class IsAuthorOrReadOnly(permissions.BasePermission):
    """Signed-in users read; instructors and admins write what they own."""

    message = "Only the assessment's instructor (or an admin) can change it."

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_author(user)

    def has_object_permission(self, request: Request, view, obj: Assessment) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return assessments_editable_by(user=request.user).filter(pk=obj.pk).exists()


class AssessmentFilter(filters.FilterSet):
    course = IdFilter(field_name="course_id")
    lesson = IdFilter(field_name="lesson_id")

    class Meta:
        model = Assessment
        fields = ["kind", "is_published"]


class AssessmentViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthorOrReadOnly]
    filterset_class = AssessmentFilter
    search_fields = ["title", "description"]
    ordering_fields = ["title", "created_at"]

    def get_queryset(self):
        # Explicit order: Meta.ordering is dropped from GROUP BY queries.
        return (
            assessments_visible_to(user=self.request.user)
            .annotate(question_count=Count("questions"))
            .order_by("title", "id")
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AssessmentDetailSerializer
        return AssessmentSerializer

    def perform_create(self, serializer) -> None:
        serializer.instance = services.assessment_create(
            owner=self.request.user, now=timezone.now(), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.assessment_update(
            assessment=serializer.instance, now=timezone.now(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Assessment) -> None:
        # Learner attempts forbid it: a 400 in the error shape, with the service's message.
        services.assessment_delete(assessment=instance, now=timezone.now())


class QuestionViewSet(viewsets.ModelViewSet):
    """Questions with their answer key, for the assessment's owner and admins."""

    serializer_class = QuestionSerializer
    permission_classes = [permissions.IsAuthenticated]
    ordering_fields = ["order"]

    def get_assessment(self) -> Assessment:
        if not hasattr(self, "_assessment"):
            self._assessment = get_object_or_404(
                assessments_editable_by(user=self.request.user), pk=self.kwargs["assessment_id"]
            )
        return self._assessment

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Question.objects.none()
        return (
            questions_editable_by(user=self.request.user)
            .filter(assessment=self.get_assessment())
            .order_by("order")
        )

    def perform_create(self, serializer) -> None:
        serializer.instance = services.question_create(
            assessment=self.get_assessment(), now=timezone.now(), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        serializer.instance = services.question_update(
            question=serializer.instance, now=timezone.now(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Question) -> None:
        services.question_delete(question=instance, now=timezone.now())


class AttemptFilter(LearnerFilterSet):
    assessment = IdFilter(field_name="assessment_id")

    class Meta:
        model = AssessmentAttempt
        fields = ["assessment"]


class AttemptViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The learner's attempts: start one, submit answers, read graded results (admins read all)."""

    filterset_class = AttemptFilter
    ordering_fields = ["started_at", "submitted_at", "score"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AssessmentAttempt.objects.none()
        return attempts_reachable_by(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return AttemptSerializer
        if self.action == "create":
            return AttemptStartSerializer
        if self.action == "submit":
            return AttemptSubmitSerializer
        return AttemptDetailSerializer

    @extend_schema(request=AttemptStartSerializer, responses={201: AttemptDetailSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Start an attempt, or get back the open one for that assessment."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.attempt_start(
            learner=request.user,
            assessment=serializer.validated_data["assessment"],
            now=timezone.now(),
        )
        return Response(AttemptDetailSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AttemptSubmitSerializer, responses=AttemptDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Grade the answers: score, pass/fail, skill breakdown and explanations.

        Submitting an attempt that is already submitted returns its result unchanged.
        """
        attempt = self.get_object()
        if attempt.learner_id != request.user.pk:
            # Admins may read any attempt; answering it stays the learner's own act.
            raise PermissionDenied("Only the learner who started this attempt can submit it.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.attempt_submit(
            attempt=attempt, responses=serializer.validated_data["responses"], now=timezone.now()
        )
        return Response(AttemptDetailSerializer(attempt).data)
