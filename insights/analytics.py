"""Learning analytics (R-ANALYTICS): summary, engagement, struggling topics, streak, pace, insights.

Aggregation happens in SQL (window functions for sessions and streaks) so the number of
queries and the rows fetched stay bounded whatever the learner's history. Days and hours are
the learner's own, from their profile's time zone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from accounts.models import User
from assessments.models import AssessmentAttempt
from insights.ml.segments import segment_entry
from insights.models import LearningPathSnapshot
from insights.selectors import SkillScore, learner_timezone, recent_skill_scores
from learning.models import Enrollment, LearnerEvent, LearningGoal, LessonProgress

# Trend: the average quiz score of the later half of the window minus the earlier half;
# a difference of at least this many percentage points (either way) is a trend.
TREND_THRESHOLD = Decimal(5)
# Engagement: events further apart than this start a new study session.
SESSION_GAP = timedelta(minutes=30)
ENGAGEMENT_DAYS = 90
# Streaks look back at most a year: enough for any streak worth showing, bounded scan.
STREAK_LOOKBACK_DAYS = 366
# Pace: progress within this many points of the expected progress is on track.
PACE_TOLERANCE = 10
# Struggling topics: "needs_help" below this score, "needs_practice" up to the threshold.
NEEDS_HELP_BELOW = 50
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PACE_ORDER = {"behind": 0, "on_track": 1, "ahead": 2}


@dataclass(frozen=True)
class PerformanceSummary:
    """Figures over the last `days` days.

    completion_rate: share of lessons started in the window that are completed (0-1).
    study_hours: time inside study sessions built from events (see SESSION_GAP).
    trend_change: later-half minus earlier-half quiz average, in points (None without both).
    """

    days: int
    lessons_completed: int
    avg_quiz_score: float | None
    completion_rate: float
    study_hours: float
    current_streak: int
    performance_trend: str
    trend_change: float | None
    quizzes_taken: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EngagementPatterns:
    sessions: int
    avg_session_minutes: float
    peak_hours: list[int]
    peak_days: list[str]
    preferred_content_types: list[str]
    timezone: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StrugglingTopic:
    skill: str
    name: str
    avg_score: float
    answers: int
    difficulty: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LearningPace:
    """Progress along the goal's active path against the calendar (see `_pace`)."""

    goal_id: int
    status: str  # ahead | on_track | behind | unknown
    progress_percent: float | None
    expected_percent: float | None
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AIInsights:
    learning_pace: str
    performance_trend: str
    personalized_message: str
    strengths: list[str] = field(default_factory=list)
    areas_for_improvement: list[str] = field(default_factory=list)
    study_recommendation: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _trend(earlier: Decimal | None, later: Decimal | None) -> tuple[str, float | None]:
    if earlier is None or later is None:
        return "stable", None
    change = later - earlier
    if change >= TREND_THRESHOLD:
        return "improving", float(round(change, 1))
    if change <= -TREND_THRESHOLD:
        return "declining", float(round(change, 1))
    return "stable", float(round(change, 1))


def _sessions(learner: User, since: datetime, until: datetime) -> tuple[int, float]:
    """(session count, total seconds): events split where the gap exceeds SESSION_GAP."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH marked AS (
                SELECT occurred_at,
                       CASE WHEN occurred_at - LAG(occurred_at) OVER w <= %(gap)s
                            THEN 0 ELSE 1 END AS starts_session
                FROM learning_learnerevent
                WHERE learner_id = %(learner)s
                  AND occurred_at >= %(since)s AND occurred_at <= %(until)s
                WINDOW w AS (ORDER BY occurred_at)
            ), numbered AS (
                SELECT occurred_at, SUM(starts_session) OVER (ORDER BY occurred_at) AS session
                FROM marked
            ), sessions AS (
                SELECT EXTRACT(EPOCH FROM MAX(occurred_at) - MIN(occurred_at)) AS seconds
                FROM numbered GROUP BY session
            )
            SELECT COUNT(*), COALESCE(SUM(seconds), 0) FROM sessions
            """,
            {"gap": SESSION_GAP, "learner": learner.pk, "since": since, "until": until},
        )
        count, seconds = cursor.fetchone()
    return count, float(seconds)


def current_streak(*, learner: User, now: datetime) -> int:
    """Consecutive active days, in the learner's time zone, ending today or yesterday.

    Active = any event, lesson completion or quiz submission that day. A streak survives
    until the end of the day after its last active day (today may not have started yet).
    """
    zone = learner_timezone(learner)
    today = now.astimezone(zone).date()
    since = now - timedelta(days=STREAK_LOOKBACK_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH activity AS (
                SELECT occurred_at AS at FROM learning_learnerevent
                 WHERE learner_id = %(learner)s AND occurred_at BETWEEN %(since)s AND %(now)s
                UNION ALL
                SELECT completed_at FROM learning_lessonprogress
                 WHERE learner_id = %(learner)s AND completed_at BETWEEN %(since)s AND %(now)s
                UNION ALL
                SELECT submitted_at FROM assessments_assessmentattempt
                 WHERE learner_id = %(learner)s AND submitted_at BETWEEN %(since)s AND %(now)s
            ), days AS (
                SELECT DISTINCT (at AT TIME ZONE %(zone)s)::date AS day FROM activity
            ), islands AS (
                SELECT day, day - (ROW_NUMBER() OVER (ORDER BY day))::int AS island FROM days
            )
            SELECT MAX(day), COUNT(*) FROM islands GROUP BY island ORDER BY MAX(day) DESC LIMIT 1
            """,
            {"learner": learner.pk, "since": since, "now": now, "zone": zone.key},
        )
        row = cursor.fetchone()
    if row is None:
        return 0
    last_day, length = row
    return length if last_day >= today - timedelta(days=1) else 0


def performance_summary(*, learner: User, now: datetime, days: int = 30) -> PerformanceSummary:
    """Lessons, quizzes, study time and trend over the last `days` days (four queries)."""
    if days < 2:
        raise ValueError("The summary needs a window of at least 2 days.")
    since = now - timedelta(days=days)
    middle = now - timedelta(days=days / 2)
    lessons = LessonProgress.objects.filter(learner=learner).aggregate(
        completed=Count("id", filter=Q(completed_at__gte=since, completed_at__lte=now)),
        started=Count("id", filter=Q(started_at__gte=since, started_at__lte=now)),
        started_done=Count(
            "id",
            filter=Q(
                started_at__gte=since,
                started_at__lte=now,
                status=LessonProgress.Status.COMPLETED,
            ),
        ),
    )
    quizzes = AssessmentAttempt.objects.filter(
        learner=learner, submitted_at__gte=since, submitted_at__lte=now, score__isnull=False
    ).aggregate(
        count=Count("id"),
        average=Avg("score"),
        earlier=Avg("score", filter=Q(submitted_at__lt=middle)),
        later=Avg("score", filter=Q(submitted_at__gte=middle)),
    )
    trend, change = _trend(quizzes["earlier"], quizzes["later"])
    average = quizzes["average"]
    _, seconds = _sessions(learner, since, now)
    started = lessons["started"]
    return PerformanceSummary(
        days=days,
        lessons_completed=lessons["completed"],
        avg_quiz_score=None if average is None else float(round(average, 1)),
        completion_rate=round(lessons["started_done"] / started, 2) if started else 0.0,
        study_hours=round(seconds / 3600, 1),
        current_streak=current_streak(learner=learner, now=now),
        performance_trend=trend,
        trend_change=change,
        quizzes_taken=quizzes["count"],
    )


def _top(counts: dict, n: int) -> list:
    """Keys with the highest counts; ties resolved by the key so results are deterministic."""
    return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def engagement_patterns(*, learner: User, now: datetime) -> EngagementPatterns:
    """When and how the learner studies over the last 90 days, in their time zone."""
    zone = learner_timezone(learner)
    since = now - timedelta(days=ENGAGEMENT_DAYS)
    events = LearnerEvent.objects.filter(
        learner=learner, occurred_at__gte=since, occurred_at__lte=now
    )
    hours = dict(
        events.annotate(hour=ExtractHour("occurred_at", tzinfo=zone))
        .values("hour")
        .annotate(n=Count("event_id"))
        .values_list("hour", "n")
        .order_by()
    )
    days = dict(
        events.annotate(day=ExtractIsoWeekDay("occurred_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("event_id"))
        .values_list("day", "n")
        .order_by()
    )
    content = dict(
        LessonProgress.objects.filter(learner=learner, started_at__gte=since, started_at__lte=now)
        .values("lesson__content_type")
        .annotate(seconds=Sum("time_spent_seconds"))
        .filter(seconds__gt=0)
        .values_list("lesson__content_type", "seconds")
        .order_by()
    )
    count, seconds = _sessions(learner, since, now)
    return EngagementPatterns(
        sessions=count,
        avg_session_minutes=round(seconds / count / 60, 1) if count else 0.0,
        peak_hours=_top(hours, 3),
        peak_days=[WEEKDAYS[d - 1] for d in sorted(_top(days, 2))],
        preferred_content_types=_top(content, 2),
        timezone=zone.key,
    )


def topics_from_scores(scores: dict[str, SkillScore], threshold: float) -> list[StrugglingTopic]:
    weak = [s for s in scores.values() if s.percent < threshold]
    return [
        StrugglingTopic(
            skill=s.slug,
            name=s.name,
            avg_score=s.percent,
            answers=s.answered,
            difficulty="needs_help" if s.percent < NEEDS_HELP_BELOW else "needs_practice",
        )
        for s in sorted(weak, key=lambda s: (s.percent, s.slug))
    ]


def struggling_topics(*, learner: User, threshold: float = 60) -> list[StrugglingTopic]:
    """Skills whose recent quiz score (latest answers per skill) is under the threshold."""
    return topics_from_scores(recent_skill_scores(learner=learner), threshold)


def _pace(
    goal: LearningGoal,
    snapshot: dict | None,
    progress: dict[int, Decimal],
    now: datetime,
    zone: ZoneInfo,
) -> LearningPace:
    """Progress along the active path vs where the calendar says the learner should be.

    Progress = planned hours done (enrollment progress x course hours) / planned hours.
    Expected = share of the time to the deadline that has passed since the path was made,
    or, without a deadline, weeks passed x weekly hours / planned hours.
    """
    if snapshot is None:
        return LearningPace(goal.pk, "unknown", None, None, "No learning path yet - generate one")
    items = snapshot["items"]
    total = sum(Decimal(str(item["estimated_hours"])) for item in items)
    if not total:
        return LearningPace(goal.pk, "on_track", 100.0, 100.0, "Nothing left to study on this path")
    done = sum(
        Decimal(str(item["estimated_hours"])) * progress.get(item["id"], Decimal(0)) / 100
        for item in items
    )
    progress_percent = float(round(100 * done / total, 1))
    start = snapshot["created_at"]
    elapsed_days = max(0, (now - start).days)
    if goal.deadline:
        span = (goal.deadline - start.astimezone(zone).date()).days
        expected = 100.0 if span <= 0 else min(100.0, 100 * elapsed_days / span)
    else:
        expected = min(100.0, float(100 * Decimal(elapsed_days) / 7 * goal.weekly_hours / total))
    expected = round(expected, 1)
    if progress_percent >= expected + PACE_TOLERANCE:
        status = "ahead"
    elif progress_percent < expected - PACE_TOLERANCE:
        status = "behind"
    else:
        status = "on_track"
    reason = (
        f"{progress_percent:g}% of the planned {float(total):g} hours done; "
        f"{expected:g}% expected by now"
    )
    return LearningPace(goal.pk, status, progress_percent, expected, reason)


def goal_paces(
    *, learner: User, goals: list[LearningGoal], now: datetime
) -> dict[int, LearningPace]:
    """Pace of several goals of one learner in two queries."""
    snapshots = {
        row["goal_id"]: row
        for row in LearningPathSnapshot.objects.filter(
            learner=learner, goal_id__in=[g.pk for g in goals], is_active=True
        ).values("goal_id", "items", "created_at")
    }
    progress = {
        course_id: Decimal(100) if status == Enrollment.Status.COMPLETED else percent
        for course_id, status, percent in Enrollment.objects.filter(learner=learner).values_list(
            "course_id", "status", "progress_percent"
        )
    }
    zone = learner_timezone(learner)
    return {g.pk: _pace(g, snapshots.get(g.pk), progress, now, zone) for g in goals}


def learning_pace(*, goal: LearningGoal, now: datetime) -> LearningPace:
    return goal_paces(learner=goal.learner, goals=[goal], now=now)[goal.pk]


def overall_pace(paces: list[LearningPace]) -> str:
    """The slowest known pace across goals: one goal behind means the learner is behind."""
    known = [p.status for p in paces if p.status in PACE_ORDER]
    return min(known, key=PACE_ORDER.__getitem__) if known else "on_track"


def build_insights(
    *,
    summary: PerformanceSummary,
    topics: list[StrugglingTopic],
    patterns: EngagementPatterns,
    paces: list[LearningPace],
    segment: dict | None = None,
) -> AIInsights:
    """Message, strengths, areas and study tip from figures already computed.

    `segment` is the learner's stored segment (insights.ml.segments.segment_entry), if any.
    """
    streak = summary.current_streak
    strengths = []
    if summary.avg_quiz_score is not None and summary.avg_quiz_score >= 80:
        strengths.append(f"Strong quiz performance ({summary.avg_quiz_score:g}% average)")
    if streak >= 3:
        strengths.append(f"Excellent study discipline ({streak}-day streak)")
    if summary.completion_rate >= 0.8 and summary.lessons_completed:
        strengths.append(
            f"Finishes what they start ({summary.completion_rate:.0%} of started lessons completed)"
        )
    areas = [t.skill for t in topics]
    pace = overall_pace(paces)

    if areas:
        message = (
            "Consider reviewing recent topics to strengthen your foundation. Focus on "
            f"{', '.join(areas[:2])} - we've prepared revision content for you."
        )
    elif streak >= 3 and summary.performance_trend == "improving":
        message = (
            f"🔥 Amazing {streak}-day streak! Your performance is improving - "
            "you're mastering the material!"
        )
    elif streak >= 3:
        message = f"Great {streak}-day streak! Keep the rhythm going."
    elif summary.performance_trend == "declining":
        message = (
            f"Your quiz scores dropped {abs(summary.trend_change or 0):g} points recently - "
            "a short review session could help."
        )
    elif pace == "behind":
        message = "You're behind your goal's schedule - a few extra sessions this week will help."
    elif summary.lessons_completed:
        message = (
            f"You completed {summary.lessons_completed} lessons in the last {summary.days} days. "
            "Keep it up!"
        )
    else:
        message = "Start a lesson today to build your learning streak."

    if patterns.peak_days and patterns.peak_hours:
        tip = (
            f"You learn best on {', '.join(patterns.peak_days)} around "
            f"{patterns.peak_hours[0]:02d}:00. Schedule important lessons then!"
        )
    else:
        tip = "Study a little on most days: regular short sessions build lasting skills."
    if segment:
        tip = f"You study like our {segment['name']}: {segment['description']}. {tip}"
    return AIInsights(
        learning_pace=pace,
        performance_trend=summary.performance_trend,
        personalized_message=message,
        strengths=strengths,
        areas_for_improvement=areas,
        study_recommendation=tip,
    )


def active_goals(*, learner: User) -> list[LearningGoal]:
    return list(
        LearningGoal.objects.filter(learner=learner, status=LearningGoal.Status.ACTIVE)
        .select_related("learner__profile")
        .prefetch_related("target_skills__skill")
        .order_by("created_at", "id")
    )


def ai_insights(*, learner: User, now: datetime) -> AIInsights:
    goals = active_goals(learner=learner)
    return build_insights(
        summary=performance_summary(learner=learner, now=now),
        topics=struggling_topics(learner=learner),
        patterns=engagement_patterns(learner=learner, now=now),
        paces=list(goal_paces(learner=learner, goals=goals, now=now).values()),
        segment=segment_entry(learner=learner, now=now),
    )
