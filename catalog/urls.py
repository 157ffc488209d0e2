from __future__ import annotations

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.course_list, name="course_list"),
    path("lessons/<int:lesson_id>/ask/", views.lesson_ask, name="lesson_ask"),
    path("lessons/<int:lesson_id>/tutor/", views.lesson_tutor, name="lesson_tutor"),
    path("<slug:slug>/", views.course_detail, name="course_detail"),
    path("<slug:slug>/enroll/", views.course_enroll, name="course_enroll"),
    path("<slug:slug>/leave/", views.course_leave, name="course_leave"),
]
