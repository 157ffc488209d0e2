"""Prediction endpoints; include under /api/v1/ml/ (skillstudio.api_urls)."""

from __future__ import annotations

from django.urls import path

from insights import ml_api

app_name = "ml"

urlpatterns = [
    path("at-risk", ml_api.AtRiskListView.as_view(), name="at-risk-list"),
    path("at-risk/not-scored", ml_api.NotScoredListView.as_view(), name="at-risk-not-scored"),
    path("at-risk/<int:enrollment_id>", ml_api.AtRiskDetailView.as_view(), name="at-risk-detail"),
    path("my-risks", ml_api.OwnRiskListView.as_view(), name="my-risk-list"),
    path("my-risks/<int:enrollment_id>", ml_api.OwnRiskDetailView.as_view(), name="my-risk-detail"),
    path(
        "courses/<int:course_id>/similar",
        ml_api.SimilarCoursesView.as_view(),
        name="similar-courses",
    ),
    path("recommended-lessons", ml_api.LessonsLikeYoursView.as_view(), name="lessons-like-yours"),
    path("segments", ml_api.SegmentOverviewView.as_view(), name="segments"),
    path("recommended-courses", ml_api.CoursesLikeYoursView.as_view(), name="courses-like-yours"),
]
