"""Struggle detection (R-STRUGGLE): five independent signals, each with its own numbers.

Any one signal is enough to flag the learner; every reason names the quiz or lesson and the
figures that tripped it, so an instructor (or the learner) can check it. Only content a
learner can open counts (a published course's lessons, quizzes open to learners): the
learner's support card links to what its first reason names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Window
from django.db.models.functions import Coalesce, RowNumber

from assessments.models import Assessment, AssessmentAttempt
from assessments.selectors import assessments_open_to_learners
from catalog.models import Course, Lesson
from learning.locks import lock_facts_for, lock_graph
from learning.models import LearnerEvent, LessonProgress
from learning.selectors import path_skips_by_learner

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
    # What the first reason naming a lesson or quiz names, so the learner's support card
    # links to where they can act: {"kind": "lesson" | "assessment", "id": …, "title": …};
    # empty when no reason names one (falling scores).
    target: dict = field(default_factory=dict)


class Noticed(NamedTuple):
    """One reason and the lesson or quiz it is about (None when it is about no one item)."""

    text: str
    target: dict | None = None


def _lesson(lesson_id: int, title: str) -> dict:
    return {"kind": "lesson", "id": lesson_id, "title": title}


def _pct(value) -> str:
    return f"{float(value):g}%"


Found = dict[int, list[Noticed]]


@dataclass(frozen=True)
class Scope:
    """Where the signals look: one lesson, one course (its lessons, and its quizzes whether
    tied to the course or to one of its lessons), or everywhere (neither). An instructor's
    course page asks about their course only: a learner struggling in another course is
    not struggling in theirs (QA walk, issue 13)."""

    lesson: Lesson | None = None
    course: Course | None = None

    def lessons(self, rows: QuerySet, field: str = "lesson") -> QuerySet:
        """``rows`` narrowed to those whose ``field`` (a lesson) is in scope."""
        if self.lesson is not None:
            return rows.filter(**{f"{field}_id": self.lesson.pk})
        if self.course is not None:
            return rows.filter(**{f"{field}__module__course_id": self.course.pk})
        return rows

    def attempts(self, rows: QuerySet) -> QuerySet:
        """Attempts narrowed to those of assessments in scope."""
        if self.lesson is not None:
            return rows.filter(assessment__lesson=self.lesson)
        if self.course is not None:
            return rows.filter(
                Q(assessment__course=self.course)
                | Q(assessment__lesson__module__course=self.course)
            )
        return rows


EVERYWHERE = Scope()


def _failed_attempts(learner_ids: list[int], now: datetime, scope: Scope) -> Found:
    attempts = scope.attempts(
        AssessmentAttempt.objects.filter(
            learner_id__in=learner_ids,
            submitted_at__gte=now - FAILED_WINDOW,
            submitted_at__lte=now,
            score__isnull=False,
            # Only quizzes the learner can still open: the card links to the quiz.
            assessment__in=assessments_open_to_learners().values("pk"),
        )
        .exclude(
            # A diagnostic, skill check or course challenge measures: a low score there is no
            # failure (Assessment.MEASURING_KINDS, as the quiz averages leave them out).
            assessment__kind__in=Assessment.MEASURING_KINDS
        )
        .filter(Q(passed=False) | Q(passed__isnull=True, score__lt=F("assessment__passing_score")))
    )
    rows = (
        attempts.values("learner_id", "assessment_id", "assessment__title")
        .annotate(failures=Count("id"), best=Max("score"))
        .filter(failures__gte=FAILED_ATTEMPTS)
        .order_by("learner_id", "assessment__title", "assessment_id")
    )
    found: Found = defaultdict(list)
    for row in rows:
        text = (
            f"Failed '{row['assessment__title']}' {row['failures']} times in the last "
            f"{FAILED_WINDOW.days} days (best score {_pct(row['best'])})"
        )
        target = {
            "kind": "assessment",
            "id": row["assessment_id"],
            "title": row["assessment__title"],
        }
        found[row["learner_id"]].append(Noticed(text, target))
    return found


def _time_over(learner_ids: list[int], now: datetime, scope: Scope) -> Found:
    progress = LessonProgress.objects.filter(
        learner_id__in=learner_ids,
        started_at__gte=now - TIME_WINDOW,
        started_at__lte=now,
        time_spent_seconds__gte=F("lesson__estimated_minutes") * 60 * TIME_OVER_FACTOR,
        lesson__module__course__status=Course.Status.PUBLISHED,
    )
    rows = (
        scope.lessons(progress)
        .order_by("learner_id", "lesson__title", "lesson_id")
        .values_list(
            "learner_id",
            "lesson_id",
            "lesson__title",
            "time_spent_seconds",
            "lesson__estimated_minutes",
        )
    )
    found: Found = defaultdict(list)
    for learner_id, lesson_id, title, seconds, minutes in rows:
        text = (
            f"Spent {seconds // 60} min on '{title}' - {seconds / 60 / minutes:.1f}x the "
            f"estimated {minutes} min"
        )
        found[learner_id].append(Noticed(text, _lesson(lesson_id, title)))
    return found


def _rewinds_and_pauses(learner_ids: list[int], now: datetime, scope: Scope) -> Found:
    events = LearnerEvent.objects.filter(
        learner_id__in=learner_ids,
        occurred_at__gte=now - REWIND_WINDOW,
        occurred_at__lte=now,
        event_type__in=[LearnerEvent.Type.VIDEO_SEEK, LearnerEvent.Type.VIDEO_PAUSE],
        lesson_id__isnull=False,
        lesson__module__course__status=Course.Status.PUBLISHED,
    )
    rows = (
        scope.lessons(events)
        .values("learner_id", "lesson_id", "lesson__title")
        .annotate(
            total=Count("event_id"),
            seeks=Count("event_id", filter=Q(event_type=LearnerEvent.Type.VIDEO_SEEK)),
        )
        .filter(total__gte=REWIND_PAUSE_EVENTS)
        .order_by("learner_id", "lesson__title", "lesson_id")
    )
    found: Found = defaultdict(list)
    for row in rows:
        text = (
            f"Rewound or paused '{row['lesson__title']}' {row['total']} times in the last "
            f"{REWIND_WINDOW.days} days ({row['seeks']} rewinds, "
            f"{row['total'] - row['seeks']} pauses)"
        )
        target = _lesson(row["lesson_id"], row["lesson__title"])
        found[row["learner_id"]].append(Noticed(text, target))
    return found


def _stalled(learner_ids: list[int], now: datetime, scope: Scope) -> Found:
    recent_activity = LearnerEvent.objects.filter(
        learner_id=OuterRef("learner_id"),
        lesson_id=OuterRef("lesson_id"),
        occurred_at__gte=now - STALL_AFTER,
        occurred_at__lte=now,
    )
    progress = LessonProgress.objects.filter(
        learner_id__in=learner_ids,
        status=LessonProgress.Status.IN_PROGRESS,
        started_at__lte=now - STALL_AFTER,
        lesson__module__course__status=Course.Status.PUBLISHED,
    ).filter(~Exists(recent_activity))
    rows = (
        scope.lessons(progress)
        .order_by("learner_id", "started_at", "lesson_id")
        .values_list("learner_id", "lesson_id", "lesson__title", "started_at")
    )
    rows = list(rows)
    skippable = _skippable_by_path(rows, now) if rows else set()
    found: Found = defaultdict(list)
    for learner_id, lesson_id, title, started in rows:
        if (learner_id, lesson_id) in skippable:
            continue  # the learner's path says to leave it: leaving it is no stall
        text = (
            f"Started '{title}' {(now - started).days} days ago with no activity on it in the "
            f"last {STALL_AFTER.days} days"
        )
        found[learner_id].append(Noticed(text, _lesson(lesson_id, title)))
    return found


def _skippable_by_path(rows: list[tuple], now: datetime) -> set[tuple[int, int]]:
    """(learner, lesson) pairs among ``rows`` that the learner's current path leaves out,
    while that still holds (``learning.selectors.PathSkip.holds``, as the course outline
    and the next-lesson card judge it). One query for the paths; the lock facts and
    graph only for learners whose stalled lessons their path lists."""
    listed = path_skips_by_learner(learner_ids=sorted({row[0] for row in rows}))
    candidates = [(row[0], row[1]) for row in rows if row[1] in listed[row[0]]]
    if not candidates:
        return set()
    facts = lock_facts_for(learner_ids={learner_id for learner_id, _ in candidates}, now=now)
    graph = lock_graph(
        course_ids=set(
            Lesson.objects.filter(pk__in={lesson_id for _, lesson_id in candidates}).values_list(
                "module__course_id", flat=True
            )
        ),
        transitive=False,
    )
    return {
        (learner_id, lesson_id)
        for learner_id, lesson_id in candidates
        if listed[learner_id][lesson_id].holds(lesson_id, graph, facts[learner_id])
    }


class DatedScore(NamedTuple):
    score: Decimal
    submitted_at: datetime
    # What was taken, for reasons that name it: the quiz, its lesson (if any) and course.
    title: str = ""
    lesson: str = ""
    course: str = ""

    @property
    def named(self) -> str:
        """E.g. “Joins quiz” (Inner joins, SQL and PostgreSQL) 40%."""
        where = ", ".join(part for part in (self.lesson, self.course) if part)
        return f"“{self.title}”{f' ({where})' if where else ''} {_pct(self.score)}"


def latest_dated_scores_for(
    *,
    learner_ids: list[int],
    now: datetime,
    count: int,
    window: timedelta = FALLING_WINDOW,
    scope: Scope = EVERYWHERE,
) -> dict[int, list[DatedScore]]:
    """Each learner's latest `count` quiz scores within `window` with their submission
    times, newest first (one query). Quizzes only: diagnostics, skill checks and course
    challenges measure a level (Assessment.MEASURING_KINDS), their scores are no quiz
    results, as in the quiz averages (insights.analytics.quiz_figures).

    Shared by the falling-scores signal and the difficulty advice, which read the same
    attempts when their windows agree; the advice also needs the times.
    """
    attempts = scope.attempts(
        AssessmentAttempt.objects.filter(
            learner_id__in=learner_ids,
            submitted_at__gte=now - window,
            submitted_at__lte=now,
            score__isnull=False,
        ).exclude(assessment__kind__in=Assessment.MEASURING_KINDS)
    )
    ranked = (
        attempts.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("learner_id")],
                order_by=[F("submitted_at").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=count)
        .order_by("learner_id", "position")
        .values_list(
            "learner_id",
            "score",
            "submitted_at",
            "assessment__title",
            "assessment__lesson__title",
            Coalesce("assessment__course__title", "assessment__lesson__module__course__title"),
        )
    )
    scores: dict[int, list[DatedScore]] = {learner_id: [] for learner_id in learner_ids}
    for learner_id, score, submitted_at, title, lesson, course in ranked:
        scores[learner_id].append(
            DatedScore(score, submitted_at, title, lesson or "", course or "")
        )
    return scores


def latest_scores_for(
    *,
    learner_ids: list[int],
    now: datetime,
    count: int,
    window: timedelta = FALLING_WINDOW,
    scope: Scope = EVERYWHERE,
) -> dict[int, list[Decimal]]:
    """Each learner's latest `count` quiz scores within `window`, newest first (one query)."""
    dated = latest_dated_scores_for(
        learner_ids=learner_ids, now=now, count=count, window=window, scope=scope
    )
    return {learner_id: scores_of(own) for learner_id, own in dated.items()}


def scores_of(dated: list[DatedScore]) -> list[Decimal]:
    """The scores alone, in the same order."""
    return [entry.score for entry in dated]


def falling_scores(newest_first: list[Decimal]) -> list[str]:
    """The falling-scores reason for a learner's latest scores (newest first), if any."""
    latest = newest_first[:FALLING_ATTEMPTS][::-1]
    if len(latest) < FALLING_ATTEMPTS:
        return []
    falling = all(a > b for a, b in pairwise(latest))
    if not falling or latest[0] - latest[-1] < FALLING_DROP:
        return []
    return ["Quiz scores falling: " + " → ".join(_pct(s) for s in latest)]


def _falling_scores(learner_ids: list[int], now: datetime, scope: Scope) -> Found:
    latest = latest_scores_for(
        learner_ids=learner_ids, now=now, count=FALLING_ATTEMPTS, scope=scope
    )
    return {
        learner_id: [Noticed(text) for text in falling_scores(scores)]
        for learner_id, scores in latest.items()
    }


SIGNALS = {
    "repeated_failures": _failed_attempts,
    "time_over_estimate": _time_over,
    "rewinds_pauses": _rewinds_and_pauses,
    "stalled_progress": _stalled,
    "falling_scores": _falling_scores,
}


def detect_struggle_for(
    *,
    learner_ids: list[int],
    now: datetime,
    lesson: Lesson | None = None,
    course: Course | None = None,
    latest_scores: dict[int, list[Decimal]] | None = None,
) -> dict[int, StruggleResult]:
    """Check every signal for each learner (or only their work on one lesson, or in one
    course: ``Scope``): one query per signal for any number of learners.

    A caller that already holds `latest_scores_for` (at least FALLING_ATTEMPTS per learner,
    same `now`, FALLING_WINDOW, everywhere) passes them to save the falling-scores query.
    """
    scope = Scope(lesson=lesson, course=course)
    found = {}
    for name, check in SIGNALS.items():
        if name == "falling_scores" and latest_scores is not None and scope == EVERYWHERE:
            found[name] = {
                learner_id: [Noticed(text) for text in falling_scores(latest_scores[learner_id])]
                for learner_id in learner_ids
            }
        else:
            found[name] = check(learner_ids, now, scope)
    results = {}
    for learner_id in learner_ids:
        reasons: list[str] = []
        signals: list[str] = []
        target: dict = {}
        for name in SIGNALS:
            if found[name].get(learner_id):
                signals.append(name)
                for noticed in found[name][learner_id]:
                    reasons.append(noticed.text)
                    target = target or dict(noticed.target or {})
        results[learner_id] = StruggleResult(bool(reasons), reasons, signals, target)
    return results
