from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from catalog.forms import CatalogFilterForm
from catalog.models import Course
from catalog.selectors import courses_published, courses_visible_to
from learning.selectors import course_outline, enrollments_for
from learning.services import enrollment_create, enrollment_drop

# Diagnostics are offered by onboarding, not listed as a course's quizzes.
QUIZ_KINDS = (Assessment.Kind.QUIZ, Assessment.Kind.EXAM)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    courses = courses_published()[:6]
    return render(request, "catalog/home.html", {"courses": courses})


@require_GET
@vary_on_headers("HX-Request")
def course_list(request: HttpRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET)
    courses = list(courses_published(**form.search_kwargs()))
    enrollments = (
        {e.course_id: e for e in enrollments_for(user=request.user)}
        if request.user.is_authenticated
        else {}
    )
    rows = [(course, enrollments.get(course.pk)) for course in courses]
    template = "catalog/course_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"form": form, "rows": rows})


@require_GET
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(courses_visible_to(user=request.user), slug=slug)
    outline = course_outline(learner=request.user, course=course)
    assessments = (
        assessments_visible_to(user=request.user)
        .filter(course=course, kind__in=QUIZ_KINDS)
        .order_by("title")
    )
    return render(
        request,
        "catalog/course_detail.html",
        {"course": course, "outline": outline, "assessments": assessments},
    )


@login_required
@require_POST
def course_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.published(), slug=slug)
    try:
        enrollment_create(learner=request.user, course=course, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You are enrolled in “{course.title}”.")
    return redirect(course)


@login_required
@require_POST
def course_leave(request: HttpRequest, slug: str) -> HttpResponse:
    """Unenroll; the progress stays, so enrolling again resumes where the learner was."""
    enrollment = get_object_or_404(
        enrollments_for(user=request.user).select_related("course"), course__slug=slug
    )
    try:
        enrollment_drop(enrollment=enrollment, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You left “{enrollment.course.title}”; your progress is kept.")
    return redirect(enrollment.course)
