"""API doors onto the predictive models (mounted under /api/v1/ml/ by skillstudio.api_urls).

Instructors read dropout risks for their own courses only (others' are a 404); a learner
reads their own risk factors; course suggestions come from the collaborative filter.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, views
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Course
from insights.ml.cf import courses_like_yours, lessons_like_yours, similar_courses
from insights.ml.segments import segment_overview
from insights.ml.selectors import (
    NOT_SCORED_OPTED_OUT,
    learners_of_instructor,
    risks_for_instructor,
    risks_for_learner,
    unscored_opted_out_for_instructor,
)
from insights.models import DropoutRisk
from skillstudio.access import can_author


class FactorSerializer(serializers.Serializer):
    factor = serializers.CharField()
    text = serializers.CharField()
    weight = serializers.FloatField()


class AtRiskSerializer(serializers.ModelSerializer):
    enrollment_id = serializers.IntegerField()
    learner_id = serializers.IntegerField(source="enrollment.learner_id")
    learner_name = serializers.CharField(source="enrollment.learner.display_name")
    course_id = serializers.IntegerField(source="enrollment.course_id")
    course_title = serializers.CharField(source="enrollment.course.title")
    factors = FactorSerializer(many=True)
    model_version = serializers.IntegerField(source="model.version", allow_null=True)

    class Meta:
        model = DropoutRisk
        fields = (
            "enrollment_id",
            "learner_id",
            "learner_name",
            "course_id",
            "course_title",
            "probability",
            "level",
            "factors",
            "scored_at",
            "model_version",
        )


class AtRiskDetailSerializer(AtRiskSerializer):
    features = serializers.DictField(child=serializers.FloatField())

    class Meta(AtRiskSerializer.Meta):
        fields = (*AtRiskSerializer.Meta.fields, "features")


class OwnRiskSerializer(serializers.ModelSerializer):
    enrollment_id = serializers.IntegerField()
    course_id = serializers.IntegerField(source="enrollment.course_id")
    course_title = serializers.CharField(source="enrollment.course.title")
    factors = FactorSerializer(many=True)

    class Meta:
        model = DropoutRisk
        fields = ("enrollment_id", "course_id", "course_title", "level", "factors", "scored_at")


class CourseSuggestionSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class SegmentCountSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    learners = serializers.IntegerField()


LEVEL = OpenApiParameter(
    "level", str, OpenApiParameter.QUERY, enum=DropoutRisk.Level.values, description="Filter."
)
COURSE = OpenApiParameter("course", int, OpenApiParameter.QUERY, description="One of your courses.")


def _instructor_risks(request: Request):
    user = request.user
    if not can_author(user):
        raise PermissionDenied("Only instructors see at-risk learners.")
    return risks_for_instructor(user=user)


class AtRiskListView(generics.ListAPIView):
    """Learners at risk of dropping out of your courses, riskiest first, with the reasons."""

    serializer_class = AtRiskSerializer
    filter_backends: list = []

    @extend_schema(parameters=[LEVEL, COURSE])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        risks = _instructor_risks(self.request).order_by("-probability", "enrollment_id")
        level = self.request.query_params.get("level")
        if level is not None:
            if level not in DropoutRisk.Level.values:
                raise serializers.ValidationError(
                    {"level": f"Use one of: {', '.join(DropoutRisk.Level.values)}."}
                )
            risks = risks.filter(level=level)
        course = self.request.query_params.get("course")
        if course is not None:
            if not course.isdigit():
                raise serializers.ValidationError({"course": "A course id is a number."})
            risks = risks.filter(enrollment__course_id=int(course))
        return risks


class NotScoredSerializer(serializers.Serializer):
    enrollment_id = serializers.IntegerField(source="pk")
    learner_id = serializers.IntegerField()
    learner_name = serializers.CharField(source="learner.display_name")
    course_id = serializers.IntegerField()
    course_title = serializers.CharField(source="course.title")
    status = serializers.SerializerMethodField()

    def get_status(self, enrollment) -> str:
        return NOT_SCORED_OPTED_OUT


class NotScoredListView(generics.ListAPIView):
    """Learners in your courses who are not scored because they opted out of profiling."""

    serializer_class = NotScoredSerializer
    filter_backends: list = []

    def get_queryset(self):
        user = self.request.user
        if not can_author(user):
            raise PermissionDenied("Only instructors see at-risk learners.")
        return unscored_opted_out_for_instructor(user=user).order_by("course_id", "pk")


class AtRiskDetailView(views.APIView):
    """One learner's dropout risk in one of your courses, with every feature behind it."""

    @extend_schema(responses=AtRiskDetailSerializer)
    def get(self, request: Request, enrollment_id: int) -> Response:
        risk = get_object_or_404(_instructor_risks(request), enrollment_id=enrollment_id)
        return Response(AtRiskDetailSerializer(risk).data)


class OwnRiskListView(generics.ListAPIView):
    """Your courses where you might be losing momentum, with what the model noticed."""

    serializer_class = OwnRiskSerializer
    filter_backends: list = []

    def get_queryset(self):
        return risks_for_learner(user=self.request.user).order_by("-probability", "enrollment_id")


class OwnRiskDetailView(views.APIView):
    @extend_schema(responses=OwnRiskSerializer)
    def get(self, request: Request, enrollment_id: int) -> Response:
        """Your risk factors for one of your enrollments (404 for anyone else's)."""
        risk = get_object_or_404(risks_for_learner(user=request.user), enrollment_id=enrollment_id)
        return Response(OwnRiskSerializer(risk).data)


class SimilarCoursesView(views.APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CourseSuggestionSerializer(many=True))
    def get(self, request: Request, course_id: int) -> Response:
        """Published courses most often taken by the learners of this (published) course."""
        course = get_object_or_404(Course.objects.published(), pk=course_id)
        suggestions = similar_courses(course=course)
        return Response(CourseSuggestionSerializer(suggestions, many=True).data)


class CoursesLikeYoursView(views.APIView):
    @extend_schema(responses=CourseSuggestionSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Courses learners like you went on to take, each with its reason."""
        suggestions = courses_like_yours(learner=request.user)
        return Response(CourseSuggestionSerializer(suggestions, many=True).data)


class LessonsLikeYoursView(views.APIView):
    @extend_schema(responses=CourseSuggestionSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Lessons learners like you studied next (title = lesson, course_id = its course)."""
        suggestions = lessons_like_yours(learner=request.user)
        return Response(CourseSuggestionSerializer(suggestions, many=True).data)


class SegmentOverviewView(views.APIView):
    @extend_schema(responses=SegmentCountSerializer(many=True))
    def get(self, request: Request) -> Response:
        """How the learners of your courses split into segments (empty until trained)."""
        user = request.user
        if not can_author(user):
            raise PermissionDenied("Only instructors see learner segments.")
        overview = segment_overview(learner_ids=learners_of_instructor(user=user))
        return Response(SegmentCountSerializer(overview, many=True).data)
