"""Instructor insight pages (R-INSTR) under /teach/: they only translate requests into the
reads of insights.instructor and the writes of insights.services.

Scope: ``managed_courses`` / ``managed_assessments`` narrow every lookup, so another
instructor's course (or any course, for a learner) is a 404; the course list itself is a
403 for users who author nothing.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Course
from insights import instructor
from insights.models import RiskReview
from insights.services import instructor_message_send, risk_review_record
from skillstudio.access import can_author

RISK_ACTIONS = {
    "acknowledge": RiskReview.Action.ACKNOWLEDGED,
    "not-useful": RiskReview.Action.NOT_USEFUL,
    "message": RiskReview.Action.MESSAGED,
}
RISK_LEVELS = {
    "high": ("high",),
    "medium": ("high", "medium"),
    "all": ("high", "medium", "low"),
}


def _course(request: HttpRequest, course_id: int) -> Course:
    return get_object_or_404(instructor.managed_courses(user=request.user), pk=course_id)


@login_required
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    if not can_author(request.user):
        raise PermissionDenied("Only instructors and admins see course insights.")
    return render(
        request,
        "insights/instructor/course_list.html",
        {"courses": instructor.managed_courses(user=request.user)},
    )


@login_required
@require_GET
def course_overview(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    overview = instructor.course_overview(course=course, now=timezone.now())
    return render(
        request,
        "insights/instructor/course_overview.html",
        {
            "course": course,
            "overview": overview,
            "assessments": instructor.managed_assessments(user=request.user)
            .filter(course=course)
            .order_by("title"),
            "tab": "overview",
        },
    )


def _table_params(request: HttpRequest) -> tuple[str, bool, str, str] | None:
    sort = request.GET.get("sort", "name")
    show = request.GET.get("show", "all")
    if sort not in instructor.SORTS or show not in instructor.FILTERS:
        return None
    return sort, request.GET.get("dir") == "desc", show, request.GET.get("q", "")[:100]


@login_required
@require_GET
def learners(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    params = _table_params(request)
    if params is None:
        return HttpResponseBadRequest(
            f"sort is one of {', '.join(instructor.SORTS)}; "
            f"show is one of {', '.join(instructor.FILTERS)}."
        )
    sort, descending, show, query = params
    skills, rows = instructor.learner_rows(course=course, now=timezone.now())
    rows = instructor.sort_and_filter(
        rows, sort=sort, descending=descending, show=show, query=query
    )
    page = Paginator(rows, instructor.LEARNERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "course": course,
        "skills": skills,
        "page": page,
        "sort": sort,
        "descending": descending,
        "show": show,
        "query": query,
        "filters": instructor.FILTER_LABELS.items(),
        "tab": "learners",
    }
    template = "insights/instructor/learners.html"
    if request.htmx:
        template += "#table"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@login_required
@require_GET
def learners_csv(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    params = _table_params(request)
    if params is None:
        return HttpResponseBadRequest("Unknown sort or filter.")
    sort, descending, show, query = params
    skills, rows = instructor.learner_rows(course=course, now=timezone.now())
    rows = instructor.sort_and_filter(
        rows, sort=sort, descending=descending, show=show, query=query
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="course-{course.pk}-learners.csv"'
    writer = csv.writer(response)
    for line in instructor.csv_rows(skills=skills, rows=rows):
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in line])
    return response


@login_required
@require_GET
def at_risk(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    level = request.GET.get("level", "medium")
    if level not in RISK_LEVELS:
        return HttpResponseBadRequest(f"level is one of {', '.join(RISK_LEVELS)}.")
    rows = instructor.at_risk_rows(course=course, levels=RISK_LEVELS[level])
    return render(
        request,
        "insights/instructor/at_risk.html",
        {"course": course, "rows": rows, "level": level, "tab": "at_risk"},
    )


@login_required
@require_POST
def risk_action(
    request: HttpRequest, course_id: int, enrollment_id: int, action: str
) -> HttpResponse:
    course = _course(request, course_id)
    if action not in RISK_ACTIONS:
        return HttpResponseBadRequest("Unknown action.")
    risk = get_object_or_404(
        instructor.course_risks(course=course).select_related("enrollment"),
        enrollment_id=enrollment_id,
    )
    now = timezone.now()
    error = ""
    try:
        if action == "message":
            instructor_message_send(
                risk=risk, sender=request.user, body=request.POST.get("body", ""), now=now
            )
            notice = "Message sent: it is on the learner's dashboard and on its way by e-mail."
        else:
            risk_review_record(
                risk=risk, reviewer=request.user, action=RISK_ACTIONS[action], now=now
            )
            notice = "Recorded."
    except ValidationError as exc:
        error = " ".join(exc.messages)
        notice = ""
    if not request.htmx:
        if error:
            # A plain form post with bad input: the list again, the error on top, a 400.
            messages.error(request, error)
            rows = instructor.at_risk_rows(course=course, levels=RISK_LEVELS["all"])
            return render(
                request,
                "insights/instructor/at_risk.html",
                {"course": course, "rows": rows, "level": "all", "tab": "at_risk"},
                status=400,
            )
        messages.success(request, notice)
        return redirect("teach:at_risk", course_id=course.pk)
    # htmx swaps only 2xx answers: the row comes back with the notice or the error in it.
    row = next(
        r
        for r in instructor.at_risk_rows(course=course, levels=RISK_LEVELS["all"])
        if r.enrollment_id == risk.enrollment_id
    )
    return render(
        request,
        "insights/instructor/at_risk.html#risk_row",
        {"course": course, "row": row, "notice": notice, "error": error},
    )


@login_required
@require_GET
def learner_detail(request: HttpRequest, course_id: int, learner_id: int) -> HttpResponse:
    course = _course(request, course_id)
    enrollment = get_object_or_404(
        instructor.course_enrollments(course=course).select_related("learner", "course"),
        learner_id=learner_id,
    )
    detail = instructor.learner_detail(enrollment=enrollment, now=timezone.now())
    return render(
        request,
        "insights/instructor/learner_detail.html",
        {"course": course, "detail": detail, "tab": "learners"},
    )


@login_required
@require_GET
def item_analysis(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = get_object_or_404(
        instructor.managed_assessments(user=request.user).select_related("course"),
        pk=assessment_id,
    )
    return render(
        request,
        "insights/instructor/item_analysis.html",
        {"page": instructor.item_analysis(assessment=assessment)},
    )
