from __future__ import annotations

from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("<int:assessment_id>/", views.assessment_detail, name="detail"),
    path("<int:assessment_id>/start/", views.assessment_start, name="start"),
    path("attempts/<int:attempt_id>/", views.attempt_detail, name="attempt"),
]
