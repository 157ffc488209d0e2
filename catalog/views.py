from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from catalog.forms import AskForm, CatalogFilterForm
from catalog.llm import provider_enabled
from catalog.models import Course
from catalog.search import catalog_search
from catalog.selectors import (
    course_prerequisites_shown,
    courses_published,
    courses_visible_to,
    lessons_visible_to,
)
from catalog.tutor import TutorRateLimited, course_passages, tutor_answer
from learning.selectors import (
    course_outline,
    course_tested_out,
    enrollments_for,
    last_failed_challenge,
    next_path_course,
)
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
    """The catalog: every published course, or with a query, courses and lessons ranked."""
    form = CatalogFilterForm(request.GET)
    kwargs = form.search_kwargs()
    enrollments = (
        {e.course_id: e for e in enrollments_for(user=request.user)}
        if request.user.is_authenticated
        else {}
    )
    rows, results = [], None
    if kwargs.get("q"):
        results = catalog_search(**kwargs, page=request.GET.get("page", 1))
    else:
        courses = list(courses_published(**kwargs))
        rows = [(course, enrollments.get(course.pk)) for course in courses]
    template = "catalog/course_list.html"
    if request.htmx:
        template += "#results"
    context = {"form": form, "rows": rows, "results": results, "enrollments": enrollments}
    return render(request, template, context)


@require_GET
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(courses_visible_to(user=request.user), slug=slug)
    outline = course_outline(learner=request.user, course=course, path_skips=True)
    assessments = (
        assessments_visible_to(user=request.user)
        .filter(course=course, kind__in=QUIZ_KINDS)
        .order_by("title")
    )
    tested_out = course_tested_out(learner=request.user, course=course, now=timezone.now())
    return render(
        request,
        "catalog/course_detail.html",
        {
            "course": course,
            "outline": outline,
            "assessments": assessments,
            "tested_out": tested_out,
            "failed_challenge": None
            if tested_out
            else last_failed_challenge(learner=request.user, course=course),
            "prerequisites": course_prerequisites_shown(user=request.user, course=course),
            # Only needed when the course holds nothing more to take.
            "next_course": None
            if outline.next_lesson or not outline.enrollment
            else next_path_course(learner=request.user, course=course),
        },
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
@require_GET
@vary_on_headers("HX-Request")
def lesson_ask(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Passages of the lesson's course that cover the learner's question (no LLM)."""
    lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
    form = AskForm(request.GET)
    passages = (
        course_passages(lesson=lesson, learner=request.user, question=form.cleaned_data["question"])
        if form.is_valid()
        else []
    )
    template = "catalog/lesson_ask.html"
    if request.htmx:
        template += "#answer"
    return render(request, template, {"lesson": lesson, "form": form, "passages": passages})


@login_required
@require_POST
def lesson_tutor(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """A generated answer from the course's passages (catalog.tutor); 404 without a provider."""
    if not provider_enabled():
        raise Http404("The tutor is not configured.")
    lesson = get_object_or_404(
        lessons_visible_to(user=request.user).select_related("module__course"), pk=lesson_id
    )
    form = AskForm(request.POST)
    context: dict = {"lesson": lesson, "form": form, "passages": [], "tutor": True}
    status, retry_after = 200, 0
    if form.is_valid():
        try:
            context["answer"] = tutor_answer(
                lesson=lesson,
                learner=request.user,
                question=form.cleaned_data["question"],
                now=timezone.now(),
            )
        except TutorRateLimited as limited:
            context["limited"] = str(limited)
            status, retry_after = 429, limited.retry_after
    template = "catalog/lesson_ask.html"
    if request.htmx:
        template += "#answer"
    response = render(request, template, context, status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after)
    return response


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
