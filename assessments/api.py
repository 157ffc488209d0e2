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
from rest_framework.exceptions import PermissionDenied, ValidationError
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
    AdaptiveProgressSerializer,
    AssessmentDetailSerializer,
    AssessmentSerializer,
    AttemptAnswerSerializer,
    AttemptDetailSerializer,
    AttemptSerializer,
    AttemptStartSerializer,
    AttemptSubmitSerializer,
    CourseChallengeStartSerializer,
    QuestionSerializer,
    SkillCheckStartSerializer,
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
        if self.action == "answer":
            return AttemptAnswerSerializer
        if self.action == "skill_check":
            return SkillCheckStartSerializer
        if self.action == "course_challenge":
            return CourseChallengeStartSerializer
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
            attempt=attempt,
            responses=serializer.validated_data["responses"],
            now=timezone.now(),
            allow_unanswered=serializer.validated_data["allow_unanswered"],
        )
        return Response(AttemptDetailSerializer(attempt).data)

    @extend_schema(request=AttemptAnswerSerializer, responses=AttemptDetailSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Answer the question an adaptive attempt is asking; the response carries the next
        one (adaptive.current_question), or the result once every skill is measured.

        Answering a question that is no longer the current one is a 400 that names it.
        """
        attempt = self.get_object()
        if attempt.learner_id != request.user.pk:
            raise PermissionDenied("Only the learner who started this attempt can answer it.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.attempt_answer(
            attempt=attempt,
            question_id=serializer.validated_data["question"],
            response=serializer.validated_data["response"],
            now=timezone.now(),
        )
        return Response(AttemptDetailSerializer(attempt).data)

    @extend_schema(responses=AdaptiveProgressSerializer)
    @action(detail=True, methods=["get"], url_path="next-question")
    def next_question(self, request: Request, pk: str | None = None) -> Response:
        """Progress and the question to answer next (current_question null once finished)."""
        attempt = self.get_object()
        state = services.attempt_adaptive_state(attempt=attempt)
        if state is None:
            raise ValidationError(
                {"attempt": "This attempt is answered all at once: see its questions."}
            )
        return Response(AdaptiveProgressSerializer(state).data)

    @extend_schema(request=SkillCheckStartSerializer, responses={201: AttemptDetailSerializer})
    @action(detail=False, methods=["post"], url_path="skill-check")
    def skill_check(self, request: Request) -> Response:
        """Start (or resume) a short adaptive check of one skill."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.skill_check_start(
            learner=request.user, skill=serializer.validated_data["skill"], now=timezone.now()
        )
        return Response(AttemptDetailSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CourseChallengeStartSerializer, responses={201: AttemptDetailSerializer})
    @action(detail=False, methods=["post"], url_path="course-challenge")
    def course_challenge(self, request: Request) -> Response:
        """Start (or resume) the challenge that tests the learner out of a course."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.course_challenge_start(
            learner=request.user, course=serializer.validated_data["course"], now=timezone.now()
        )
        return Response(AttemptDetailSerializer(attempt).data, status=status.HTTP_201_CREATED)
