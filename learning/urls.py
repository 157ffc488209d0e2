from __future__ import annotations

from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("goals/new/", views.onboarding, name="goal_new"),
    path("goals/<int:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/abandon/", views.goal_abandon_view, name="goal_abandon"),
    path("goals/<int:goal_id>/achieve/", views.goal_achieve_view, name="goal_achieve"),
    path("lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path("lessons/<int:lesson_id>/start/", views.lesson_begin, name="lesson_start"),
    path("lessons/<int:lesson_id>/complete/", views.lesson_mark_complete, name="lesson_complete"),
]
