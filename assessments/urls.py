from __future__ import annotations

from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("<int:assessment_id>/", views.assessment_detail, name="detail"),
    path("<int:assessment_id>/start/", views.assessment_start, name="start"),
    path("attempts/<int:attempt_id>/", views.attempt_detail, name="attempt"),
    path("skill-check/<slug:skill_slug>/", views.skill_check_begin, name="skill_check"),
    path(
        "course-challenge/<int:course_id>/", views.course_challenge_begin, name="course_challenge"
    ),
]
