from __future__ import annotations

import math
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from insights import charts
from insights.dashboard import cached_learner_dashboard
from insights.mastery import states_explained
from insights.models import LearningPathSnapshot, Recommendation
from insights.paths import PathError, path_payload
from insights.progress import activity_per_day, goal_targets, quiz_scores, skill_rows
from insights.selectors import (
    learner_messages,
    learner_timezone,
    message_card,
    skips_no_longer_shown,
    targets_to_confirm,
)
from insights.services import (
    RecommendationUnavailable,
    instructor_message_read,
    learning_path_generate,
    recommendation_act,
)
from learning.selectors import goals_for

RECOMMENDATION_ACTIONS = {"accept": "accepted", "skip": "skipped"}


@login_required
@require_GET
def path_list(request: HttpRequest) -> HttpResponse:
    goals = list(goals_for(user=request.user).order_by("-created_at"))
    if len(goals) == 1:
        return redirect("insights:path", goal_id=goals[0].pk)
    active = {
        s.goal_id: s
        for s in LearningPathSnapshot.objects.filter(learner=request.user, is_active=True)
    }
    return render(
        request,
        "insights/path_list.html",
        {"rows": [(goal, active.get(goal.pk)) for goal in goals]},
    )


def _timeline(items: list[dict], weekly_hours: float) -> list[dict]:
    """Each path item with the study weeks it spans at the goal's weekly hours.

    Items follow one another in study hours: week n holds hours (n-1)*weekly .. n*weekly,
    and an item spans every week its hours fall in, so the range is never shorter than its
    hours at the weekly pace (QA walk: "Week 1 · 7 h" at 5 h/week; it spans weeks 1-2). A
    week two items share is in both ranges, and the later one says so
    (``shares_week_with``: "Week 2-3 · 6 h · week 2 shared with A") rather than one range
    silently taking the week; the last item ends in the path's last week,
    ceil(total / weekly), as the page's "Estimated weeks" says.
    """
    rows = []
    hours_before = 0.0
    total = sum(float(item.get("estimated_hours") or 0) for item in items)
    last_week = max(math.ceil(round(total / weekly_hours, 9)), 1)
    previous: dict | None = None
    for item in items:
        hours = float(item.get("estimated_hours") or 0)
        # Rounded first: 0.1 + 0.2 hours must not spill into a week of their own; an item
        # of no hours left at the very end sits in the last week, not one past it.
        start = min(math.floor(round(hours_before / weekly_hours, 9)) + 1, last_week)
        end = max(start, math.ceil(round((hours_before + hours) / weekly_hours, 9)))
        hours_before += hours
        done_at = datetime.fromisoformat(item["done_at"]) if item.get("done_at") else None
        shared = previous["title"] if previous and previous["week_end"] == start else ""
        previous = {
            **item,
            "week_start": start,
            "week_end": end,
            "shares_week_with": shared,
            "done_at": done_at,
        }
        rows.append(previous)
    return rows


@login_required
@require_GET
def path_detail(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_object_or_404(goals_for(user=request.user), pk=goal_id)
    versions = list(
        LearningPathSnapshot.objects.filter(learner=request.user, goal=goal).order_by("-version")
    )
    active = next((v for v in versions if v.is_active), None)
    payload = path_payload(active) if active else None
    timeline = _timeline(payload["learning_path"], float(goal.weekly_hours)) if payload else []
    now = timezone.now()
    [(_, targets)] = goal_targets(learner=request.user, goals=[goal], now=now)
    faded = skips_no_longer_shown(learner=request.user, items=timeline, now=now)
    for row in timeline:
        row["skips_faded"] = faded.get(row["id"], "")
    return render(
        request,
        "insights/path_detail.html",
        {
            "goal": goal,
            "active": active,
            "payload": payload,
            "timeline": timeline,
            "versions": versions,
            "to_confirm": targets_to_confirm(goal=goal, now=now),
            # A target whose skill check a course below already suggests, with what it
            # spares: one button for it, there (walk14: two for the same check).
            "checks_below": {
                check["skill"]
                for item in timeline
                if item.get("available") and not item.get("done")
                for check in item.get("skill_checks", [])
            },
            # Reached by state (insights.mastery), as the dashboard's goal card decides it:
            # the page then offers to mark the goal achieved (learning:goal_achieve).
            "all_targets_reached": bool(targets) and all(t.reached for t in targets),
            # The reasons show levels beside states: the same legend as the progress page.
            "states_explained": states_explained(),
            # Times on the page in the learner's own zone, labelled with it.
            "zone": learner_timezone(request.user),
        },
    )


@login_required
@require_POST
def path_generate(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_object_or_404(goals_for(user=request.user), pk=goal_id)
    try:
        result = learning_path_generate(goal=goal, now=timezone.now())
    except PathError as error:
        messages.error(request, str(error))
    else:
        (messages.success if result.created else messages.info)(request, result.message)
    return redirect("insights:path", goal_id=goal.pk)


@login_required
@require_POST
def recommendation_action(
    request: HttpRequest, recommendation_id: int, action: str
) -> HttpResponse:
    """Accept or skip a dashboard card; HTMX swaps the card, plain POSTs go back or onward."""
    recommendation = get_object_or_404(
        Recommendation.objects.filter(learner=request.user).select_related(
            "lesson", "course", "assessment"
        ),
        pk=recommendation_id,
    )
    if action not in RECOMMENDATION_ACTIONS:
        return HttpResponse("Unknown action: use accept or skip.", status=400)
    error, gone = "", False
    try:
        recommendation = recommendation_act(
            recommendation=recommendation,
            action=RECOMMENDATION_ACTIONS[action],
            now=timezone.now(),
        )
    except ValueError as exc:
        # Already acted on (another tab, a double click): show its real state and why;
        # content taken down since: the card loses its link and buttons.
        error, gone = str(exc), isinstance(exc, RecommendationUnavailable)
        recommendation.refresh_from_db()
    if request.htmx:
        response = render(
            request,
            "learning/dashboard.html#recommendation",
            {"rec": recommendation, "error": error, "gone": gone},
        )
        if gone:
            # The page's other panels may link into the same unpublished content: send
            # them again, read as the dashboard reads them, to swap in out of band.
            response.content += _dashboard_panels(request)
        return response
    if error:
        messages.error(request, error)
    elif recommendation.status == Recommendation.Status.ACCEPTED:
        target = recommendation.get_absolute_url()
        if target:
            return redirect(target)
    return redirect("learning:dashboard")


# The dashboard panels that link to lessons, refreshed with a refused Accept.
LESSON_PANELS = ("next_lessons", "revision")


def _dashboard_panels(request: HttpRequest) -> bytes:
    data, _ = cached_learner_dashboard(learner=request.user, now=timezone.now())
    return b"".join(
        render_to_string(
            f"learning/dashboard.html#{panel}", {"dash": data, "oob": True}, request=request
        ).encode()
        for panel in LESSON_PANELS
    )


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    activity = activity_per_day(learner=request.user, now=now)
    scores = quiz_scores(learner=request.user)
    skills = skill_rows(learner=request.user, now=now)
    zone = learner_timezone(request.user)  # quiz dates as the learner's calendar has them
    return render(
        request,
        "insights/progress.html",
        {
            "activity": activity,
            "activity_chart": charts.bar_chart([(f"{d:%d %b}", n) for d, n in activity]),
            "activity_total": sum(n for _, n in activity),
            "scores": scores,
            "score_chart": charts.line_chart(
                [(f"{s.submitted_at.astimezone(zone):%d %b}", s.score) for s in scores]
            ),
            "skills": skills,
            "states_explained": states_explained(),
            "skill_chart": charts.level_chart(
                [(s.name, s.level, s.target) for s in skills if s.level is not None]
            ),
        },
    )


@login_required
@require_POST
def message_read(request: HttpRequest, message_id: int) -> HttpResponse:
    """Mark an instructor's message read: HTMX swaps the message, plain POSTs go back."""
    message = get_object_or_404(
        learner_messages(user=request.user).select_related("sender", "course"), pk=message_id
    )
    message = instructor_message_read(message=message, now=timezone.now())
    if request.htmx:
        return render(
            request,
            "insights/_instructor_messages.html#message",
            {"message": message_card(message)},
        )
    messages.success(request, "Marked as read.")
    return redirect("learning:dashboard")
