"""AI endpoints with the seed report's paths and shapes.

Thin doors onto insights.dashboard, insights.services and insights.paths;
every object is looked up among the caller's own (another learner's is a 404), or for
admins among every learner's; acting on a recommendation stays the learner's own act.
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, views
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import reachable_by
from catalog.tutor_tips import study_tip_for
from insights.dashboard import CACHE_HEADER, cached_learner_dashboard
from insights.models import LearningPathSnapshot, Recommendation
from insights.paths import PathError, path_payload
from insights.selectors import recommendations_open, with_card_targets
from insights.serializers import (
    DashboardSerializer,
    GoalQuerySerializer,
    LearningPathSerializer,
    PathVersionSerializer,
    RecommendationActionSerializer,
    RecommendationSerializer,
)
from insights.services import learning_path_generate, recommendation_act
from learning.models import LearningGoal
from learning.selectors import goals_reachable_by

GOAL_ID = OpenApiParameter(
    "goal_id",
    int,
    OpenApiParameter.QUERY,
    required=True,
    description="One of your goals (any learner's, for admins).",
)


def _goal_from(request: Request, data) -> LearningGoal:
    serializer = GoalQuerySerializer(data=data)
    serializer.is_valid(raise_exception=True)
    goals = goals_reachable_by(user=request.user).prefetch_related(None)
    return get_object_or_404(goals, pk=serializer.validated_data["goal_id"])


class DashboardView(views.APIView):
    @extend_schema(responses=DashboardSerializer)
    def get(self, request: Request) -> Response:
        """Performance summary, goals, next lessons, revision, struggling topics, AI insights."""
        data, hit = cached_learner_dashboard(learner=request.user, now=timezone.now())
        # Only with a tutor provider and once one was written (catalog.tutor_tips).
        if tip := study_tip_for(learner=request.user):
            data = {**data, "study_tip": tip.as_dict()}
        return Response(data, headers={CACHE_HEADER: "hit" if hit else "miss"})


class RecommendationListView(generics.ListAPIView):
    """The caller's active recommendations, best first.

    A read: the writes that change them (sign-up, goals, diagnostics, lessons, quizzes,
    paths) defer a refresh through the outbox, and the weekly job keeps them current.
    """

    serializer_class = RecommendationSerializer
    filter_backends: list = []

    def get_queryset(self):
        learner, now = self.request.user, timezone.now()
        return (
            # Only cards whose link the learner can open (content may have been unpublished
            # since the card was written).
            with_card_targets(
                recommendations_open(
                    Recommendation.objects.filter(
                        learner=learner, status=Recommendation.Status.ACTIVE
                    )
                )
                # Past its expiry a row is as good as expired, even before the weekly job
                # marks it.
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            ).order_by("-score", "id")
        )


class RecommendationActionView(views.APIView):
    @extend_schema(request=RecommendationActionSerializer, responses=RecommendationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """Record what the learner did with a recommendation: accepted, skipped or ignored."""
        recommendation = get_object_or_404(
            reachable_by(Recommendation.objects.all(), user=request.user), pk=pk
        )
        if recommendation.learner_id != request.user.pk:
            raise PermissionDenied("Only the learner it was made for can act on a recommendation.")
        serializer = RecommendationActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            recommendation = recommendation_act(
                recommendation=recommendation,
                action=serializer.validated_data["action"],
                now=timezone.now(),
            )
        except ValueError as exc:
            raise ValidationError({"action": str(exc)}) from exc
        return Response(RecommendationSerializer(recommendation).data)


class LearningPathView(views.APIView):
    @extend_schema(parameters=[GOAL_ID], responses=LearningPathSerializer)
    def get(self, request: Request) -> Response:
        """The goal's current (active) learning path."""
        goal = _goal_from(request, request.query_params)
        snapshot = LearningPathSnapshot.objects.filter(goal=goal, is_active=True).first()
        if snapshot is None:
            raise NotFound("No learning path for this goal yet: POST ai/generate-learning-path.")
        return Response(path_payload(snapshot))


class GenerateLearningPathView(views.APIView):
    @extend_schema(
        request=GoalQuerySerializer,
        responses={201: LearningPathSerializer, 200: LearningPathSerializer},
    )
    def post(self, request: Request) -> Response:
        """Plan the goal's path from the learner's skill gaps and store it as a new version.

        When the plan would not change, nothing is written: 200 with the current version,
        ``metadata.created`` false and ``metadata.message`` saying so (201 and true when a
        new version was stored).
        """
        goal = _goal_from(request, request.data)
        try:
            result = learning_path_generate(goal=goal, now=timezone.now())
        except PathError as exc:
            raise ValidationError({"goal_id": str(exc)}) from exc
        payload = path_payload(result.snapshot)
        payload["metadata"] |= {"created": result.created, "message": result.message}
        return Response(payload, status=201 if result.created else 200)


class LearningPathHistoryView(generics.ListAPIView):
    """Every version of the goal's path, newest first, with what changed each time."""

    serializer_class = PathVersionSerializer

    @extend_schema(parameters=[GOAL_ID])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LearningPathSnapshot.objects.none()
        goal = _goal_from(self.request, self.request.query_params)
        return LearningPathSnapshot.objects.filter(goal=goal).order_by("-version")
