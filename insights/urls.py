from __future__ import annotations

from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("paths/", views.path_list, name="paths"),
    path("paths/<int:goal_id>/", views.path_detail, name="path"),
    path("paths/<int:goal_id>/generate/", views.path_generate, name="path_generate"),
    path("progress/", views.progress, name="progress"),
    path("messages/<int:message_id>/read/", views.message_read, name="message_read"),
    path(
        "recommendations/<int:recommendation_id>/<slug:action>/",
        views.recommendation_action,
        name="recommendation_action",
    ),
]
