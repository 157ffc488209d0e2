from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import User
from accounts.services import profile_update
from assessments.models import Assessment
from assessments.selectors import (
    ADAPTIVE_ATTEMPT_SESSION_KEY,
    adaptive_attempt_in_progress,
    assessments_visible_to,
)
from catalog.models import Skill
from catalog.search import lessons_related
from catalog.selectors import lessons_visible_to
from catalog.tutor_tips import study_tip_for
from insights.analytics import figure_definitions
from insights.dashboard import CACHE_HEADER, cached_learner_dashboard
from insights.models import RecommendationCard
from insights.selectors import unread_instructor_messages
from learning.forms import GoalForm
from learning.models import Enrollment, LessonProgress
from learning.selectors import CourseOutline, LessonOutline, course_outline, goals_for
from learning.services import (
    goal_abandon,
    goal_achieve,
    goal_create,
    goal_update,
    lesson_check_can_study,
    lesson_complete,
    lesson_start,
    lesson_study_time,
)
from skillstudio.data_versions import learner_kind_versions
from skillstudio.forms import attach_service_errors

DASHBOARD_RECOMMENDATIONS = 6


@login_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # The learner's data versions, read once for the dashboard and the messages (None
    # with Redis down: each then does without the cache).
    versions = learner_kind_versions([request.user.pk])
    kind_versions = versions[request.user.pk] if versions else None
    # A read: recommendations are refreshed by the writes that change them (sign-up,
    # goals, diagnostics, lessons, quizzes, paths) through the outbox, never here.
    data, hit = cached_learner_dashboard(learner=request.user, now=now, kind_versions=kind_versions)
    recommendations = [
        RecommendationCard.from_dict(card)
        for card in data["recommendations"][:DASHBOARD_RECOMMENDATIONS]
    ]
    response = render(
        request,
        "learning/dashboard.html",
        {
            "dash": data,
            "recommendations": recommendations,
            "figure_definitions": figure_definitions(days=data["performance_summary"]["days"]),
            # Not cached with the rest: a message must show up on the next visit.
            "instructor_messages": unread_instructor_messages(
                learner=request.user, kind_versions=kind_versions
            ),
            # Written off the request path by the tutor (catalog.tutor_tips); None without one.
            "study_tip": study_tip_for(learner=request.user),
            "attempt_in_progress": _attempt_left_half_way(request),
        },
    )
    response[CACHE_HEADER] = "hit" if hit else "miss"
    return response


def _attempt_left_half_way(request: HttpRequest):
    """The diagnostic (or check) this learner started from a page and left half-way: the
    first thing to come back to. Read only when the session remembers one, so a warm
    dashboard stays at its user query; the attempt page forgets it once finished (a
    GET writes nothing, not even the session)."""
    attempt_id = request.session.get(ADAPTIVE_ATTEMPT_SESSION_KEY)
    if attempt_id is None:
        return None
    return adaptive_attempt_in_progress(learner=request.user, attempt_id=attempt_id)


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request: HttpRequest) -> HttpResponse:
    """A new goal. For a new learner it is step 1 of 2, then the diagnostic; a learner who
    already finished onboarding just adds the goal and goes to its path."""
    profile = request.user.profile
    first_goal = profile.onboarded_at is None
    skills = list(Skill.objects.order_by("name"))
    form = GoalForm(request.POST or None, skills=skills, current_levels=profile.skill_levels)
    if request.method == "POST" and form.is_valid():
        try:
            now = timezone.now()
            with transaction.atomic():
                goal = goal_create(
                    learner=request.user,
                    title=form.cleaned_data["title"],
                    target_levels=form.target_levels(),
                    weekly_hours=form.cleaned_data["weekly_hours"],
                    deadline=form.cleaned_data["deadline"],
                    now=now,
                )
                if first_goal:
                    profile_update(profile=profile, now=now, onboarded=True)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, f"Goal “{goal.title}” saved.")
            diagnostic = (
                _diagnostic_for(user=request.user, skill_slugs=list(form.target_levels()))
                if first_goal
                else None
            )
            if diagnostic is None:
                return redirect("insights:path", goal_id=goal.pk)
            return redirect("assessments:detail", assessment_id=diagnostic.pk)
    return render(
        request,
        "learning/onboarding.html",
        {"form": form, "first_goal": first_goal},
        status=400 if form.errors else 200,
    )


def _diagnostic_for(*, user: User, skill_slugs: list[str]) -> Assessment | None:
    """The open diagnostic with the most questions on the goal's skills."""
    return (
        assessments_visible_to(user=user)
        .filter(kind=Assessment.Kind.DIAGNOSTIC, questions__skill__slug__in=skill_slugs)
        .annotate(matching=Count("questions"))
        .order_by("-matching", "title")
        .first()
    )


def _neighbours(
    outline: CourseOutline, lesson_id: int
) -> tuple[LessonOutline | None, LessonOutline | None, LessonOutline | None]:
    items = [item for module in outline.modules for item in module.lessons]
    for index, item in enumerate(items):
        if item.lesson.pk == lesson_id:
            previous = items[index - 1] if index else None
            following = items[index + 1] if index + 1 < len(items) else None
            return item, previous, following
    return None, None, None


@login_required
@require_GET
def lesson_detail(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
    course = lesson.module.course
    outline = course_outline(learner=request.user, course=course, path_skips=True)
    item, previous, following = _neighbours(outline, lesson.pk)
    # A read: opening a lesson records nothing (a cross-site link must not enroll anyone).
    # The page offers starting it, and enrolling in its course, as explicit POSTs.
    enrolled = outline.enrollment is not None and outline.enrollment.status in (
        Enrollment.Status.ACTIVE,
        Enrollment.Status.COMPLETED,
    )
    quizzes = assessments_visible_to(user=request.user).filter(lesson=lesson).order_by("title")
    return render(
        request,
        "learning/lesson_detail.html",
        {
            "lesson": lesson,
            "course": course,
            "item": item,
            "enrolled": enrolled,
            "can_start": bool(
                item
                and not item.locked
                and course.is_published
                and item.status == LessonProgress.Status.NOT_STARTED
            ),
            "previous": previous,
            "following": following,
            "quizzes": quizzes,
            "events_url": reverse("api-v1:event-batch"),
            "related": lessons_related(lesson=lesson, learner=request.user),
        },
    )


def _back_to(request: HttpRequest, default: str) -> str:
    """The page a goal action was posted from (same site only), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def goal_abandon_view(request: HttpRequest, goal_id: int) -> HttpResponse:
    """Stop pursuing a goal; its path versions stay readable."""
    goal = get_object_or_404(goals_for(user=request.user), pk=goal_id)
    goal_abandon(goal=goal, now=timezone.now())
    messages.success(request, f"Goal “{goal.title}” abandoned; its paths stay as history.")
    return redirect(_back_to(request, reverse("insights:path", args=[goal.pk])))


@login_required
@require_POST
def goal_achieve_view(request: HttpRequest, goal_id: int) -> HttpResponse:
    """The learner marks a goal as reached."""
    goal = get_object_or_404(goals_for(user=request.user), pk=goal_id)
    goal_achieve(goal=goal, now=timezone.now())
    messages.success(request, f"Goal “{goal.title}” marked as achieved. Well done!")
    return redirect(_back_to(request, reverse("accounts:account")))


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, goal_id: int) -> HttpResponse:
    """Change a goal's title, target levels, weekly hours and deadline."""
    goal = get_object_or_404(goals_for(user=request.user), pk=goal_id)
    skills = list(Skill.objects.order_by("name"))
    targets = {target.skill_id: target.target_level for target in goal.target_skills.all()}
    initial = {
        "title": goal.title,
        "weekly_hours": goal.weekly_hours,
        "deadline": goal.deadline,
        **{
            GoalForm.skill_field_name(skill): str(targets[skill.pk])
            for skill in skills
            if skill.pk in targets
        },
    }
    form = GoalForm(
        request.POST or None,
        skills=skills,
        current_levels=request.user.profile.skill_levels,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            goal_update(
                goal=goal,
                now=timezone.now(),
                title=form.cleaned_data["title"],
                target_levels=form.target_levels(),
                weekly_hours=form.cleaned_data["weekly_hours"],
                deadline=form.cleaned_data["deadline"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, f"Goal “{goal.title}” updated.")
            return redirect("accounts:account")
    return render(
        request,
        "learning/goal_edit.html",
        {"form": form, "goal": goal},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def lesson_begin(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Start the lesson, enrolling in its course first when the learner is not yet."""
    lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
    try:
        lesson_start(learner=request.user, lesson=lesson, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(lesson)


@login_required
@require_POST
def lesson_mark_complete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Complete a lesson; well under its estimated time, first ask whether it was skimmed."""
    lesson = get_object_or_404(lessons_visible_to(user=request.user), pk=lesson_id)
    now = timezone.now()
    try:
        lesson_check_can_study(learner=request.user, lesson=lesson, now=now)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(lesson)
    study = lesson_study_time(learner=request.user, lesson=lesson, now=now)
    already = LessonProgress.objects.filter(
        learner=request.user, lesson=lesson, status=LessonProgress.Status.COMPLETED
    ).exists()
    if study.skimmed and not already and request.POST.get("confirm_skim") != "1":
        return render(
            request,
            "learning/lesson_confirm_skim.html",
            {"lesson": lesson, "study": study, "minutes_open": study.seconds // 60},
        )
    try:
        progress = lesson_complete(learner=request.user, lesson=lesson, now=now)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(lesson)
    if progress.skimmed:
        messages.success(request, f"“{lesson.title}” marked as skimmed. Come back to it anytime.")
    else:
        messages.success(request, f"“{lesson.title}” completed.")
    # Where "Continue" leads: past the lessons the learner's path lets them skip.
    outline = course_outline(
        learner=request.user, course=lesson.module.course, now=now, path_skips=True
    )
    following = outline.next_lesson
    return redirect(following.lesson if following else lesson.module.course)
