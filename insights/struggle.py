"""Struggle detection (R-STRUGGLE): five independent signals, each with its own numbers.

Any one signal is enough to flag the learner; every reason names the quiz or lesson and the
figures that tripped it, so an instructor (or the learner) can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from django.db.models import Count, Exists, F, Max, OuterRef, Q

from accounts.models import User
from assessments.models import AssessmentAttempt
from catalog.models import Lesson
from learning.models import LearnerEvent, LessonProgress

# Failing the same quiz this many times within the window counts as repeated failure.
FAILED_ATTEMPTS = 2
FAILED_WINDOW = timedelta(days=14)
# Time on a lesson at or above this multiple of its estimate is "far over".
TIME_OVER_FACTOR = 2
TIME_WINDOW = timedelta(days=30)
# Pauses plus seeks on one lesson's video within the window.
REWIND_PAUSE_EVENTS = 10
REWIND_WINDOW = timedelta(days=7)
# A lesson started this long ago, unfinished and untouched since, has stalled.
STALL_AFTER = timedelta(days=7)
# The latest three quiz scores each lower than the one before, by this much in total.
FALLING_ATTEMPTS = 3
FALLING_DROP = 10
FALLING_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class StruggleResult:
    is_struggling: bool
    reasons: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)


def _pct(value) -> str:
    return f"{float(value):g}%"


def _failed_attempts(learner: User, now: datetime, lesson: Lesson | None) -> list[str]:
    attempts = AssessmentAttempt.objects.filter(
        learner=learner,
        submitted_at__gte=now - FAILED_WINDOW,
        submitted_at__lte=now,
        score__isnull=False,
    ).filter(Q(passed=False) | Q(passed__isnull=True, score__lt=F("assessment__passing_score")))
    if lesson is not None:
        attempts = attempts.filter(assessment__lesson=lesson)
    rows = (
        attempts.values("assessment_id", "assessment__title")
        .annotate(failures=Count("id"), best=Max("score"))
        .filter(failures__gte=FAILED_ATTEMPTS)
        .order_by("assessment__title", "assessment_id")
    )
    return [
        f"Failed '{row['assessment__title']}' {row['failures']} times in the last "
        f"{FAILED_WINDOW.days} days (best score {_pct(row['best'])})"
        for row in rows
    ]


def _time_over(learner: User, now: datetime, lesson: Lesson | None) -> list[str]:
    progress = LessonProgress.objects.filter(
        learner=learner,
        started_at__gte=now - TIME_WINDOW,
        started_at__lte=now,
        time_spent_seconds__gte=F("lesson__estimated_minutes") * 60 * TIME_OVER_FACTOR,
    )
    if lesson is not None:
        progress = progress.filter(lesson=lesson)
    rows = progress.order_by("lesson__title", "lesson_id").values_list(
        "lesson__title", "time_spent_seconds", "lesson__estimated_minutes"
    )
    return [
        f"Spent {seconds // 60} min on '{title}' - {seconds / 60 / minutes:.1f}x the "
        f"estimated {minutes} min"
        for title, seconds, minutes in rows
    ]


def _rewinds_and_pauses(learner: User, now: datetime, lesson: Lesson | None) -> list[str]:
    events = LearnerEvent.objects.filter(
        learner=learner,
        occurred_at__gte=now - REWIND_WINDOW,
        occurred_at__lte=now,
        event_type__in=[LearnerEvent.Type.VIDEO_SEEK, LearnerEvent.Type.VIDEO_PAUSE],
        lesson_id__isnull=False,
    )
    if lesson is not None:
        events = events.filter(lesson_id=lesson.pk)
    rows = (
        events.values("lesson_id", "lesson__title")
        .annotate(
            total=Count("event_id"),
            seeks=Count("event_id", filter=Q(event_type=LearnerEvent.Type.VIDEO_SEEK)),
        )
        .filter(total__gte=REWIND_PAUSE_EVENTS)
        .order_by("lesson__title", "lesson_id")
    )
    return [
        f"Rewound or paused '{row['lesson__title']}' {row['total']} times in the last "
        f"{REWIND_WINDOW.days} days ({row['seeks']} rewinds, {row['total'] - row['seeks']} pauses)"
        for row in rows
    ]


def _stalled(learner: User, now: datetime, lesson: Lesson | None) -> list[str]:
    recent_activity = LearnerEvent.objects.filter(
        learner=learner,
        lesson_id=OuterRef("lesson_id"),
        occurred_at__gte=now - STALL_AFTER,
        occurred_at__lte=now,
    )
    progress = LessonProgress.objects.filter(
        learner=learner,
        status=LessonProgress.Status.IN_PROGRESS,
        started_at__lte=now - STALL_AFTER,
    ).filter(~Exists(recent_activity))
    if lesson is not None:
        progress = progress.filter(lesson=lesson)
    rows = progress.order_by("started_at", "lesson_id").values_list("lesson__title", "started_at")
    return [
        f"Started '{title}' {(now - started).days} days ago with no activity on it in the last "
        f"{STALL_AFTER.days} days"
        for title, started in rows
    ]


def _falling_scores(learner: User, now: datetime, lesson: Lesson | None) -> list[str]:
    attempts = AssessmentAttempt.objects.filter(
        learner=learner,
        submitted_at__gte=now - FALLING_WINDOW,
        submitted_at__lte=now,
        score__isnull=False,
    )
    if lesson is not None:
        attempts = attempts.filter(assessment__lesson=lesson)
    latest = list(
        attempts.order_by("-submitted_at", "-id").values_list("score", flat=True)[:FALLING_ATTEMPTS]
    )[::-1]
    if len(latest) < FALLING_ATTEMPTS:
        return []
    falling = all(a > b for a, b in pairwise(latest))
    if not falling or latest[0] - latest[-1] < FALLING_DROP:
        return []
    return ["Quiz scores falling: " + " → ".join(_pct(s) for s in latest)]


SIGNALS = {
    "repeated_failures": _failed_attempts,
    "time_over_estimate": _time_over,
    "rewinds_pauses": _rewinds_and_pauses,
    "stalled_progress": _stalled,
    "falling_scores": _falling_scores,
}


def detect_struggle(
    *, learner: User, now: datetime, lesson: Lesson | None = None
) -> StruggleResult:
    """Check every signal for the learner (or only their work on one lesson)."""
    reasons: list[str] = []
    signals: list[str] = []
    for name, check in SIGNALS.items():
        found = check(learner, now, lesson)
        if found:
            signals.append(name)
            reasons.extend(found)
    return StruggleResult(bool(reasons), reasons, signals)
