from __future__ import annotations

from django.urls import path

from insights import instructor_views as views

app_name = "teach"

urlpatterns = [
    path("", views.course_list, name="courses"),
    path("courses/<int:course_id>/", views.course_overview, name="course"),
    path("courses/<int:course_id>/learners/", views.learners, name="learners"),
    path("courses/<int:course_id>/learners.csv", views.learners_csv, name="learners_csv"),
    path(
        "courses/<int:course_id>/learners/<int:learner_id>/",
        views.learner_detail,
        name="learner",
    ),
    path("courses/<int:course_id>/at-risk/", views.at_risk, name="at_risk"),
    path(
        "courses/<int:course_id>/at-risk/<int:enrollment_id>/<slug:action>/",
        views.risk_action,
        name="risk_action",
    ),
    path(
        "assessments/<int:assessment_id>/item-analysis/",
        views.item_analysis,
        name="item_analysis",
    ),
]
