"""Learning analytics (R-ANALYTICS): summary, engagement, struggling topics, streak, pace, insights.

Aggregation happens in SQL (window functions for sessions and streaks) so the number of
queries and the rows fetched stay bounded whatever the learner's history. Days and hours are
the learner's own, from their profile's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, Count, Q, QuerySet
from django.template.defaultfilters import pluralize

from accounts.models import User
from assessments.models import Assessment, AssessmentAttempt
from insights.mastery import answers_text
from insights.models import LearningPathSnapshot
from insights.path_progress import (
    PathProgress,
    finished_earlier_for,
    lessons_done_by,
    path_progress,
)
from insights.paths import left_out_lesson_ids
from insights.rules import STRUGGLING_MIN_ANSWERS, SUMMARY_DAYS
from insights.selectors import SkillScore, learner_timezone
from learning.models import Enrollment, LearningGoal, LessonProgress
from learning.rollups import activity_intervals_sql
from learning.selectors import EnrollmentRow, enrollments_by_learner

# Trend: the average quiz score of the later half of the window minus the earlier half;
# a difference of at least this many percentage points (either way) is a trend.
TREND_THRESHOLD = Decimal(5)
# Engagement: events further apart than this start a new study session.
SESSION_GAP = timedelta(minutes=30)
ENGAGEMENT_DAYS = 90
# Streaks look back at most a year: enough for any streak worth showing, bounded scan.
STREAK_LOOKBACK_DAYS = 366
# The streak counts study days: a lesson opened or completed, or questions answered to
# practise (quizzes, exams, skill checks, course challenges: recalling is studying). The
# diagnostic is not study: it places a new learner, shows no feedback on the answers, and
# a "1 day" streak after it alone (QA walk, issue 13) claims study that did not happen;
# the average quiz score leaves it out for the same reason.
STREAK_SKIPS_KIND = Assessment.Kind.DIAGNOSTIC
# A lesson completed as skimmed (learning.services.SKIM_SHARE) is weaker evidence: it counts
# this much of a completion in the completion rate.
SKIMMED_WEIGHT = 0.5
# Pace: progress within this many points of the expected progress is on track.
PACE_TOLERANCE = 10
# Struggling topics: "needs_help" below this score, "needs_practice" up to the threshold.
NEEDS_HELP_BELOW = 50
# The insights message sends no one to a skill check on a skill a diagnostic, skill check
# or course challenge measured this recently: a new check draws on the same bank with
# nothing studied in between and says again what the learner was just told (QA walk, issue
# 13: suggested right after the diagnostic). A week, the path's re-plan rhythm: past it the
# learner has likely studied, and a check measures something new.
RECENTLY_MEASURED = timedelta(days=7)


@dataclass(frozen=True)
class FigureDefinition:
    """How one dashboard figure is computed, in words a learner can check."""

    key: str
    label: str
    definition: str


def figure_definitions(*, days: int = SUMMARY_DAYS) -> list[FigureDefinition]:
    """The one definition of each dashboard figure (shown in "How is this computed?").

    Built from the same constants the computations use, so the words cannot drift from
    the numbers: performance_summaries computes the first five, _pace the last.
    """
    gap = int(SESSION_GAP.total_seconds() // 60)
    return [
        FigureDefinition(
            "lessons_completed",
            "Lessons completed",
            f"Lessons you marked complete in the last {days} days (skimmed ones included).",
        ),
        FigureDefinition(
            "avg_quiz_score",
            "Average quiz score",
            f"The mean score of the quizzes and exams you submitted in the last {days} days. "
            "Diagnostics measure where you start and are not counted.",
        ),
        FigureDefinition(
            "completion_rate",
            # What it is a rate of, in the label itself (QA walk: "completion rate" of what?).
            "Started lessons completed",
            f"Of the lessons you started in the last {days} days, the share you have "
            f"completed since; a lesson marked as skimmed counts {SKIMMED_WEIGHT:g} of one.",
        ),
        FigureDefinition(
            "study_hours",
            "Time studied",
            f"Time between your first and last activity (opening lessons, reading, video, "
            f"answering) in each study session of the last {days} days; a pause of more than "
            f"{gap} minutes ends a session. When the lesson player reported more time in the "
            "lessons you worked on in these days, that time instead. Under an hour it is "
            "shown in minutes. Time spent offline is not seen.",
        ),
        FigureDefinition(
            "current_streak",
            "Study streak",
            "Days in a row, in your time zone, on which you studied (opened or completed a "
            "lesson, or submitted a quiz, exam, skill check or course challenge), ending "
            "today or yesterday. The diagnostic only places you: it does not count.",
        ),
        FigureDefinition(
            "pace",
            "Goal pace",
            "Hours done of your path's hours, as the path page's “Done” shows them: each "
            "course counts its hours on the path times the share of the minutes of the lessons "
            "the path asks for that you completed (lessons it leaves out count in neither), and "
            "a course you finished for the goal still counts after a re-plan leaves it out. "
            "Against how much the calendar expects by now (time passed towards the deadline, "
            "or your weekly hours since the path was made). Within "
            f"{PACE_TOLERANCE} points is on track. This counts material, not time studied.",
        ),
    ]


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PACE_ORDER = {"behind": 0, "on_track": 1, "ahead": 2}
# "You learn best on ..." only once the habit is visible: at least this many study
# sessions on at least this many different days (in the learner's zone) in the window.
ADVICE_MIN_SESSIONS = 5
ADVICE_MIN_DAYS = 3


@dataclass(frozen=True)
class PerformanceSummary:
    """Figures over the last `days` days.

    completion_rate: share of lessons started in the window that are completed (0-1).
    study_hours / study_minutes: time inside study sessions built from events (see
    SESSION_GAP), or the lesson player's reported time in the window when that is more.
    trend_change: later-half minus earlier-half quiz average, in points (None without both).
    """

    days: int
    lessons_completed: int
    avg_quiz_score: float | None
    completion_rate: float
    study_hours: float
    # The same time in whole minutes: 10 minutes of study is not "0.2 h" (nor "0 h").
    study_minutes: int
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
    active_days: int = 0  # distinct local dates with study events in the window

    @property
    def enough_for_advice(self) -> bool:
        return self.sessions >= ADVICE_MIN_SESSIONS and self.active_days >= ADVICE_MIN_DAYS

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
class NextStep:
    """Where the insights message sends a learner about a weak topic: an open revision
    lesson of theirs ("lesson", followed by a link), a skill check in the topic
    ("skill_check", started by a POST to ``url``) or, when an adaptive assessment has just
    measured it, the catalogue's courses teaching it ("courses", a link)."""

    kind: str
    skill: str
    title: str
    url: str

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
    # What the message points at (NextStep.as_dict()), None when it points at nothing.
    next_step: dict | None = None

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


SessionTotals = dict[int, tuple[int, float]]


# Study sessions, event histograms and streaks all read the learner's activity rows
# (learning.rollups): each is a part of one query over one ``activity`` CTE, so a caller
# that needs several (the dashboard) gets them in one round trip (``activity_figures``),
# and one that needs one runs its part alone. Every part's rows have the same columns:
# (part, learner_id, a, b, d, n, x); which mean what is the part's own business.


@dataclass(frozen=True)
class _Part:
    name: str
    since: datetime  # the part reads the activity from here (a cut: no row straddles it)
    ctes: list[str]
    select: str
    params: dict
    cuts: tuple[datetime, ...] = ()
    zones: bool = False  # the part reads the learners' time zones (the ``zones`` CTE)


def _sessions_part(starts: list[datetime]) -> _Part:
    """Per window start (``a``: its index) and learner: sessions (``n``) and seconds (``x``).

    Events are split into sessions where the gap exceeds SESSION_GAP. The events of a shorter
    window are a suffix of the longest window's, so one pass serves every window: an event
    starts a session of window `since` when its predecessor is older than `since` or more
    than SESSION_GAP before it. The events come as quarter-hour rollups
    (learning.rollups), whose inner gaps are shorter than SESSION_GAP: the same sessions.
    """
    params: dict = {"sess_gap": SESSION_GAP, "sess_since": starts[0]}
    marks, groups = [], []
    for index, since in enumerate(starts):
        params[f"sess_since{index}"] = since
        marks.append(
            f"SUM(CASE WHEN prev >= %(sess_since{index})s AND occurred_at - prev <= %(sess_gap)s "
            f"THEN 0 ELSE 1 END) OVER w AS session{index}"
        )
        groups.append(
            f"SELECT 'sessions' AS part, learner_id, {index} AS a, NULL::int AS b, "  # noqa: S608
            "NULL::date AS d, COUNT(*) AS n, COALESCE(SUM(seconds), 0)::float8 AS x FROM ("
            "SELECT learner_id, EXTRACT(EPOCH FROM MAX(last_at) - MIN(occurred_at)) AS seconds"
            f" FROM numbered WHERE occurred_at >= %(sess_since{index})s"
            f" GROUP BY learner_id, session{index}) AS s{index} GROUP BY learner_id"
        )
    ctes = [
        """marked AS (
            SELECT learner_id, first_at AS occurred_at, last_at, LAG(last_at) OVER w AS prev
            FROM activity WHERE first_at >= %(sess_since)s
            WINDOW w AS (PARTITION BY learner_id ORDER BY first_at)
        )""",
        f"""numbered AS (
            SELECT learner_id, occurred_at, last_at, {", ".join(marks)}
            FROM marked
            WINDOW w AS (PARTITION BY learner_id ORDER BY occurred_at)
        )""",  # noqa: S608 - only placeholders and fixed column names are interpolated
    ]
    return _Part("sessions", starts[0], ctes, " UNION ALL ".join(groups), params, tuple(starts))


def _histograms_part(since: datetime) -> _Part:
    """Events by local hour (``a``), ISO weekday (``b``) and date (``d``): ``n`` each."""
    ctes = [
        """local AS (
            SELECT e.learner_id, e.events,
                   EXTRACT(HOUR FROM e.first_at AT TIME ZONE zones.zone)::int AS hour,
                   EXTRACT(ISODOW FROM e.first_at AT TIME ZONE zones.zone)::int AS day,
                   (e.first_at AT TIME ZONE zones.zone)::date AS date
            FROM activity AS e JOIN zones ON zones.learner_id = e.learner_id
            WHERE e.first_at >= %(hist_since)s
        )"""
    ]
    select = """
        SELECT 'histograms' AS part, learner_id, hour AS a, day AS b, date AS d,
               SUM(events)::bigint AS n, NULL::float8 AS x
        FROM local
        GROUP BY GROUPING SETS ((learner_id, hour), (learner_id, day), (learner_id, date))
    """
    return _Part("histograms", since, ctes, select, {"hist_since": since}, zones=True)


def _streaks_part(since: datetime) -> _Part:
    """The learner's latest run of consecutive local study days: its last day (``d``) and
    length (``n``). A study day has an event (the lesson pages and player send them), a
    lesson completion or a submitted assessment other than a diagnostic
    (``STREAK_SKIPS_KIND``)."""
    ctes = [
        """streak_activity AS (
            SELECT learner_id, first_at AS at FROM activity WHERE first_at >= %(streak_since)s
            UNION ALL
            SELECT learner_id, completed_at FROM learning_lessonprogress
             WHERE learner_id = ANY(%(ids)s)
               AND completed_at BETWEEN %(streak_since)s AND %(act_until)s
            UNION ALL
            SELECT attempt.learner_id, attempt.submitted_at
              FROM assessments_assessmentattempt AS attempt
              JOIN assessments_assessment AS assessment ON assessment.id = attempt.assessment_id
             WHERE attempt.learner_id = ANY(%(ids)s)
               AND attempt.submitted_at BETWEEN %(streak_since)s AND %(act_until)s
               AND assessment.kind <> %(streak_skips_kind)s
        )""",
        """days AS (
            SELECT DISTINCT streak_activity.learner_id, (at AT TIME ZONE zones.zone)::date AS day
            FROM streak_activity JOIN zones ON zones.learner_id = streak_activity.learner_id
        )""",
        """islands AS (
            SELECT learner_id, day,
                   day - (ROW_NUMBER() OVER (PARTITION BY learner_id ORDER BY day))::int AS island
            FROM days
        )""",
    ]
    select = """
        SELECT DISTINCT ON (learner_id) 'streak' AS part, learner_id, NULL::int AS a,
               NULL::int AS b, MAX(day) AS d, COUNT(*) AS n, NULL::float8 AS x
        FROM islands GROUP BY learner_id, island ORDER BY learner_id, MAX(day) DESC
    """
    params = {"streak_since": since, "streak_skips_kind": STREAK_SKIPS_KIND}
    return _Part("streak", since, ctes, select, params, zones=True)


def _activity_rows(
    *, ids: list[int], zones: list[str] | None, until: datetime, parts: list[_Part]
) -> dict[str, list[tuple]]:
    """Every part's rows (without the part column), from one query over the activity rows
    of the widest window, cut at every part's window start."""
    since = min(part.since for part in parts)
    cuts = sorted({part.since for part in parts} | {cut for part in parts for cut in part.cuts})
    activity, params = activity_intervals_sql(ids_param="ids", since=since, until=until, cuts=cuts)
    params["ids"] = ids
    ctes = [f"activity AS ({activity})"]
    if any(part.zones for part in parts):
        if zones is None:
            raise ValueError("These figures need the learners' time zones.")
        params["zones"] = zones
        ctes.insert(
            0,
            "zones AS (SELECT * FROM unnest(%(ids)s::bigint[], %(zones)s::text[])"
            " AS z(learner_id, zone))",
        )
    for part in parts:
        ctes += part.ctes
        params.update(part.params)
    selects = " UNION ALL ".join(
        f"SELECT * FROM ({part.select}) AS {part.name}_rows"  # noqa: S608 - constant SQL
        for part in parts
    )
    rows: dict[str, list[tuple]] = {part.name: [] for part in parts}
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {selects}", params)
        for name, *row in cursor.fetchall():
            rows[name].append(tuple(row))
    return rows


def _sessions_from(rows: list[tuple], starts: list[datetime], ids: list[int]):
    totals: dict[datetime, SessionTotals] = {
        since: dict.fromkeys(ids, (0, 0.0)) for since in starts
    }
    for learner_id, index, _, _, count, seconds in rows:
        totals[starts[index]][learner_id] = (count, float(seconds))
    return totals


def session_totals(
    *, learner_ids: list[int], windows: list[datetime], until: datetime
) -> dict[datetime, SessionTotals]:
    """Per window start and learner: (session count, total seconds), in one query
    (``_sessions_part``)."""
    starts = sorted(set(windows))
    part = _sessions_part(starts)
    rows = _activity_rows(ids=learner_ids, zones=None, until=until, parts=[part])
    return _sessions_from(rows["sessions"], starts, learner_ids)


def _zones(learners: list[User]) -> list[str]:
    """Each learner's time zone name, in the order of the learners."""
    return [learner_timezone(learner).key for learner in learners]


def _streaks_from(rows: list[tuple], learners: list[User], now: datetime) -> dict[int, int]:
    """A streak survives until the end of the day after its last active day (today may
    not have started yet)."""
    runs = {learner_id: (last_day, length) for learner_id, _, _, last_day, length, _ in rows}
    streaks = {}
    for learner in learners:
        today = now.astimezone(learner_timezone(learner)).date()
        last_day, length = runs.get(learner.pk, (None, 0))
        streaks[learner.pk] = (
            length if last_day is not None and last_day >= today - timedelta(days=1) else 0
        )
    return streaks


def current_streaks(*, learners: list[User], now: datetime) -> dict[int, int]:
    """Consecutive active days, in each learner's time zone, ending today or yesterday.

    Study day = any event, lesson completion or non-diagnostic assessment submission that
    day (``STREAK_SKIPS_KIND``). A streak survives
    until the end of the day after its last active day (today may not have started yet).
    One query for any number of learners.
    """
    part = _streaks_part(now - timedelta(days=STREAK_LOOKBACK_DAYS))
    rows = _activity_rows(
        ids=[learner.pk for learner in learners], zones=_zones(learners), until=now, parts=[part]
    )
    return _streaks_from(rows["streak"], learners, now)


def current_streak(*, learner: User, now: datetime) -> int:
    """One learner's streak (see `current_streaks`)."""
    return current_streaks(learners=[learner], now=now)[learner.pk]


NO_LESSONS = {
    "completed": 0,
    "started": 0,
    "started_done": 0,
    "started_skimmed": 0,
    "reported": 0,
}
NO_QUIZZES = {"count": 0, "average": None, "earlier": None, "later": None}


# ``lesson_figures``' one statement: the learners' lesson progress by lesson content type.
# Written out rather than built by the ORM: it runs on every dashboard read after a lesson
# action, and compiling its six filtered aggregates cost more CPU than the query itself.
_LESSON_FIGURES_SQL = """
    SELECT learner_id, content_type,
           COUNT(*) FILTER (WHERE completed_at BETWEEN %(since)s AND %(now)s),
           COUNT(*) FILTER (WHERE started),
           COUNT(*) FILTER (WHERE started AND status = %(completed)s),
           COUNT(*) FILTER (WHERE started AND status = %(completed)s AND skimmed),
           COALESCE(
               SUM(time_spent_seconds) FILTER (WHERE updated_at BETWEEN %(since)s AND %(now)s),
               0
           ),
           SUM(time_spent_seconds) FILTER (
               WHERE started_at BETWEEN %(content_since)s AND %(now)s
           )
      FROM (
          SELECT progress.learner_id, lesson.content_type, progress.completed_at,
                 progress.started_at, progress.updated_at, progress.status, progress.skimmed,
                 progress.time_spent_seconds,
                 progress.started_at BETWEEN %(since)s AND %(now)s AS started
            FROM learning_lessonprogress AS progress
            JOIN catalog_lesson AS lesson ON lesson.id = progress.lesson_id
           WHERE progress.learner_id = ANY(%(ids)s)
      ) AS progress
     GROUP BY 1, 2
"""


def lesson_figures(
    *, learner_ids: list[int], now: datetime, days: int, content_days: int = ENGAGEMENT_DAYS
) -> tuple[dict[int, dict], dict[int, dict[str, int]]]:
    """Per learner, in one query over their lesson progress:

    - lessons completed and started in the last ``days`` days, and how many of those
      started are completed (and skimmed), and the seconds the lesson player reported
      (``lesson_position_update``) in lessons worked on in the window (``reported``, the
      study time of a learner whose player reports positions but who sends no events);
      learners without progress are left out;
    - study seconds per lesson content type in lessons started in the last
      ``content_days`` days (types with none left out).
    """
    params = {
        "ids": list(learner_ids),
        "since": now - timedelta(days=days),
        "content_since": now - timedelta(days=content_days),
        "now": now,
        "completed": LessonProgress.Status.COMPLETED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LESSON_FIGURES_SQL, params)
        rows = cursor.fetchall()
    counts: dict[int, dict] = {}
    content: dict[int, dict[str, int]] = {learner_id: {} for learner_id in learner_ids}
    for learner_id, content_type, *figures, seconds in rows:
        own = counts.setdefault(learner_id, {"learner_id": learner_id, **NO_LESSONS})
        for key, value in zip(NO_LESSONS, figures, strict=True):
            own[key] += value
        if seconds:
            content[learner_id][content_type] = seconds
    return counts, content


def quiz_figures(*, learner_ids: list[int], now: datetime, days: int) -> dict[int, dict]:
    """Per learner with scored quizzes in the last ``days`` days: how many, their average
    and the averages of the window's earlier and later halves. One query."""
    since = now - timedelta(days=days)
    middle = now - timedelta(days=days / 2)
    return {
        row["learner_id"]: row
        for row in AssessmentAttempt.objects.filter(
            learner_id__in=learner_ids,
            submitted_at__gte=since,
            submitted_at__lte=now,
            score__isnull=False,
        )
        # Diagnostics, skill checks and course challenges measure a level: no quiz result.
        .exclude(assessment__kind__in=Assessment.MEASURING_KINDS)
        .values("learner_id")
        .annotate(
            count=Count("id"),
            average=Avg("score"),
            earlier=Avg("score", filter=Q(submitted_at__lt=middle)),
            later=Avg("score", filter=Q(submitted_at__gte=middle)),
        )
        .order_by()
    }


def summary_from(
    *, days: int, lesson: dict, quiz: dict, seconds: float, streak: int
) -> PerformanceSummary:
    """The summary from figures already gathered (``lesson_figures``, ``quiz_figures``, the
    window's session seconds and the streak)."""
    trend, change = _trend(quiz["earlier"], quiz["later"])
    average = quiz["average"]
    started = lesson["started"]
    # Events and the player's reports often cover the same minutes: the larger, not the
    # sum. (.get: a cached section from before "reported" existed, for its last minutes.)
    seconds = max(seconds, lesson.get("reported", 0))
    return PerformanceSummary(
        days=days,
        lessons_completed=lesson["completed"],
        avg_quiz_score=None if average is None else float(round(average, 1)),
        completion_rate=round(_studied(lesson) / started, 2) if started else 0.0,
        study_hours=round(seconds / 3600, 1),
        study_minutes=round(seconds / 60),
        current_streak=streak,
        performance_trend=trend,
        trend_change=change,
        quizzes_taken=quiz["count"],
    )


def performance_summaries(
    *,
    learners: list[User],
    now: datetime,
    days: int = SUMMARY_DAYS,
    sessions: SessionTotals | None = None,
    streaks: dict[int, int] | None = None,
) -> dict[int, PerformanceSummary]:
    """Lessons, quizzes, study time and trend over the last `days` days, per learner.

    Four queries for any number of learners; one fewer for each of the learners'
    `session_totals` for the same window and `current_streaks` the caller passes.
    """
    if days < 2:
        raise ValueError("The summary needs a window of at least 2 days.")
    since = now - timedelta(days=days)
    ids = [learner.pk for learner in learners]
    lessons = lesson_figures(learner_ids=ids, now=now, days=days)[0]
    quizzes = quiz_figures(learner_ids=ids, now=now, days=days)
    if sessions is None:
        sessions = session_totals(learner_ids=ids, windows=[since], until=now)[since]
    if streaks is None:
        streaks = current_streaks(learners=learners, now=now)
    return {
        learner_id: summary_from(
            days=days,
            lesson=lessons.get(learner_id, NO_LESSONS),
            quiz=quizzes.get(learner_id, NO_QUIZZES),
            seconds=sessions[learner_id][1],
            streak=streaks[learner_id],
        )
        for learner_id in ids
    }


def _studied(lesson: dict) -> float:
    """Completed lessons with a skimmed one counting SKIMMED_WEIGHT of a full study."""
    skimmed = lesson["started_skimmed"]
    return lesson["started_done"] - skimmed + SKIMMED_WEIGHT * skimmed


def performance_summary(
    *,
    learner: User,
    now: datetime,
    days: int = SUMMARY_DAYS,
    sessions: tuple[int, float] | None = None,
) -> PerformanceSummary:
    """One learner's summary (see `performance_summaries`); `sessions` from the caller's
    `session_totals` for the same window saves a query."""
    own = None if sessions is None else {learner.pk: sessions}
    return performance_summaries(learners=[learner], now=now, days=days, sessions=own)[learner.pk]


def _top(counts: dict, n: int) -> list:
    """Keys with the highest counts; ties resolved by the key so results are deterministic."""
    return [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


@dataclass(frozen=True)
class EventHistograms:
    """Events per local hour and per ISO weekday, and the number of local dates with events."""

    hours: dict[int, int]
    days: dict[int, int]
    active_days: int


def _histograms_from(rows: list[tuple], ids: list[int]) -> dict[int, EventHistograms]:
    hours: dict[int, dict[int, int]] = {learner_id: {} for learner_id in ids}
    weekdays: dict[int, dict[int, int]] = {learner_id: {} for learner_id in ids}
    dates: dict[int, int] = dict.fromkeys(ids, 0)
    for learner_id, hour, day, date, count, _ in rows:
        if hour is not None:
            hours[learner_id][hour] = count
        elif day is not None:
            weekdays[learner_id][day] = count
        elif date is not None:
            dates[learner_id] += 1
    return {
        learner_id: EventHistograms(hours[learner_id], weekdays[learner_id], dates[learner_id])
        for learner_id in ids
    }


def event_histograms(
    *, learners: list[User], now: datetime, days: int = ENGAGEMENT_DAYS
) -> dict[int, EventHistograms]:
    """Each learner's events over the last ``days`` days by local hour, weekday and date,
    in their own zone: one grouping-sets query for any number of learners."""
    ids = [learner.pk for learner in learners]
    part = _histograms_part(now - timedelta(days=days))
    rows = _activity_rows(ids=ids, zones=_zones(learners), until=now, parts=[part])
    return _histograms_from(rows["histograms"], ids)


@dataclass
class ActivityFigures:
    """What ``activity_figures`` read: None for what was not asked."""

    sessions: dict[datetime, SessionTotals] | None = None
    histograms: dict[int, EventHistograms] | None = None
    streaks: dict[int, int] | None = None


def activity_figures(
    *,
    learners: list[User],
    now: datetime,
    session_windows: list[datetime] | None = None,
    histograms: bool = False,
    streaks: bool = False,
) -> ActivityFigures:
    """Any of ``session_totals`` (over ``session_windows``, until ``now``),
    ``event_histograms`` (ENGAGEMENT_DAYS) and ``current_streaks`` of these learners, the
    same figures in one query instead of one each."""
    ids = [learner.pk for learner in learners]
    starts = sorted(set(session_windows or []))
    parts = []
    if starts:
        parts.append(_sessions_part(starts))
    if histograms:
        parts.append(_histograms_part(now - timedelta(days=ENGAGEMENT_DAYS)))
    if streaks:
        parts.append(_streaks_part(now - timedelta(days=STREAK_LOOKBACK_DAYS)))
    if not parts:
        return ActivityFigures()
    rows = _activity_rows(ids=ids, zones=_zones(learners), until=now, parts=parts)
    return ActivityFigures(
        sessions=_sessions_from(rows["sessions"], starts, ids) if starts else None,
        histograms=_histograms_from(rows["histograms"], ids) if histograms else None,
        streaks=_streaks_from(rows["streak"], learners, now) if streaks else None,
    )


def patterns_from(
    *,
    sessions: tuple[int, float],
    histograms: EventHistograms,
    content: dict[str, int],
    timezone: str,
) -> EngagementPatterns:
    """Engagement patterns from figures already gathered (``session_totals`` over
    ENGAGEMENT_DAYS, ``event_histograms``, ``lesson_figures``)."""
    count, seconds = sessions
    return EngagementPatterns(
        sessions=count,
        avg_session_minutes=round(seconds / count / 60, 1) if count else 0.0,
        peak_hours=_top(histograms.hours, 3),
        peak_days=[WEEKDAYS[d - 1] for d in sorted(_top(histograms.days, 2))],
        preferred_content_types=_top(content, 2),
        timezone=timezone,
        active_days=histograms.active_days,
    )


def engagement_patterns_for(
    *,
    learners: list[User],
    now: datetime,
    sessions: SessionTotals | None = None,
    histograms: dict[int, EventHistograms] | None = None,
) -> dict[int, EngagementPatterns]:
    """When and how each learner studies over the last 90 days, in their own time zone.

    Three queries for any number of learners, one fewer for each of the caller's
    `session_totals` for the same window and `event_histograms` it passes.
    """
    since = now - timedelta(days=ENGAGEMENT_DAYS)
    ids = [learner.pk for learner in learners]
    if histograms is None:
        histograms = event_histograms(learners=learners, now=now)
    content = lesson_figures(learner_ids=ids, now=now, days=ENGAGEMENT_DAYS)[1]
    if sessions is None:
        sessions = session_totals(learner_ids=ids, windows=[since], until=now)[since]
    return {
        learner.pk: patterns_from(
            sessions=sessions[learner.pk],
            histograms=histograms[learner.pk],
            content=content[learner.pk],
            timezone=learner_timezone(learner).key,
        )
        for learner in learners
    }


def summaries_and_patterns(
    *, learners: list[User], now: datetime, summary_days: int = SUMMARY_DAYS
) -> tuple[dict[int, PerformanceSummary], dict[int, EngagementPatterns]]:
    """Performance summaries and engagement patterns per learner, their study sessions
    (both windows), event histograms and streaks read in one query over the activity rows
    (``activity_figures``; the weekly job needs both)."""
    summary_since = now - timedelta(days=summary_days)
    engagement_since = now - timedelta(days=ENGAGEMENT_DAYS)
    activity = activity_figures(
        learners=learners,
        now=now,
        session_windows=[summary_since, engagement_since],
        histograms=True,
        streaks=True,
    )
    summaries = performance_summaries(
        learners=learners,
        now=now,
        days=summary_days,
        sessions=activity.sessions[summary_since],
        streaks=activity.streaks,
    )
    patterns = engagement_patterns_for(
        learners=learners,
        now=now,
        sessions=activity.sessions[engagement_since],
        histograms=activity.histograms,
    )
    return summaries, patterns


def engagement_patterns(
    *, learner: User, now: datetime, sessions: tuple[int, float] | None = None
) -> EngagementPatterns:
    """One learner's engagement patterns (see `engagement_patterns_for`); `sessions` as for
    `performance_summary`, over the last ENGAGEMENT_DAYS."""
    own = None if sessions is None else {learner.pk: sessions}
    return engagement_patterns_for(learners=[learner], now=now, sessions=own)[learner.pk]


def topics_from_scores(
    scores: dict[str, SkillScore], threshold: float, *, shown: Collection[str] = ()
) -> list[StrugglingTopic]:
    """Skills whose recent quiz score is below ``threshold`` on at least
    ``STRUGGLING_MIN_ANSWERS`` answers, except those in ``shown`` (proficient or mastered
    now, ``insights.selectors.shown_skills``): a skill check or course challenge passed
    after a poor quiz settles the question."""
    weak = [
        s
        for s in scores.values()
        if s.percent < threshold and s.answered >= STRUGGLING_MIN_ANSWERS and s.slug not in shown
    ]
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


def _pace(
    goal: LearningGoal,
    snapshot: dict | None,
    progress: PathProgress | None,
    now: datetime,
    zone: ZoneInfo,
) -> LearningPace:
    """Progress along the goal's path vs where the calendar says the learner should be.

    Progress: hours done of the path's hours (insights.path_progress, as the path page
    shows it). Expected: the hours finished for the goal before this version of the path
    was planned, plus this version's planned hours times the share of the time to the
    deadline passed since it was planned (without a deadline, weeks passed x weekly hours,
    at most all of them), of the path's hours.
    """
    if snapshot is None or progress is None:
        return LearningPace(
            goal.pk,
            "unknown",
            None,
            None,
            "No learning path yet: plan one from the goal's path page",
        )
    items = snapshot["items"]
    total = progress.total_hours
    if not total:
        return LearningPace(goal.pk, "on_track", 100.0, 100.0, "Nothing left to study on this path")
    planned = sum((Decimal(str(item["estimated_hours"])) for item in items), Decimal(0))
    start = snapshot["created_at"]
    elapsed_days = max(0, (now - start).days)
    if goal.deadline:
        span = (goal.deadline - start.astimezone(zone).date()).days
        passed = Decimal(1) if span <= 0 else min(Decimal(1), Decimal(elapsed_days) / span)
    else:
        week_hours = Decimal(elapsed_days) / 7 * goal.weekly_hours
        passed = min(Decimal(1), week_hours / planned) if planned else Decimal(1)
    expected = float(round(100 * (total - planned + planned * passed) / total, 1))
    progress_percent = progress.percent
    if progress_percent >= expected + PACE_TOLERANCE:
        status = "ahead"
    elif progress_percent < expected - PACE_TOLERANCE:
        status = "behind"
    else:
        status = "on_track"
    left_out = sum(len(left_out_lesson_ids(item)) for item in items)
    counted = (
        f" (the lessons it asks for: the {left_out} lesson{pluralize(left_out)} it leaves out "
        f"{'does' if left_out == 1 else 'do'} not count)"
        if left_out
        else ""
    )
    reason = f"{progress.text}{counted}; " + (
        "the path was made today" if elapsed_days == 0 else f"{expected:g}% expected by now"
    )
    return LearningPace(goal.pk, status, progress_percent, expected, reason)


def goal_paces_for(
    *,
    learners: list[User],
    goals: list[LearningGoal],
    now: datetime,
    enrollments: dict[int, list[EnrollmentRow]] | None = None,
    plans: dict[int, dict] | None = None,
) -> dict[int, LearningPace]:
    """Pace of each goal (by goal id) of several learners: the goals' current ``plans``
    (their active snapshots' rows by goal id, as ``learning.selectors.ActivePaths`` holds
    them) and the learners' ``enrollments`` (``learning.selectors.enrollments_by_learner``)
    are read when not given (one query each); then the paths' lessons with the learners'
    completions (one query when a path has a course), and the courses finished for a goal
    that its path no longer lists (one query, only when a learner completed a course
    outside a goal's current path)."""
    ids = [learner.pk for learner in learners]
    snapshots = plans
    if snapshots is None:
        snapshots = {
            row["goal_id"]: row
            for row in LearningPathSnapshot.objects.filter(
                learner_id__in=ids, goal_id__in=[g.pk for g in goals], is_active=True
            ).values("goal_id", "learner_id", "items", "created_at")
        }
    if enrollments is None:
        enrollments = enrollments_by_learner(learner_ids=ids)
    finished = {
        learner_id: {row.course_id for row in rows if row.status == Enrollment.Status.COMPLETED}
        for learner_id, rows in enrollments.items()
    }
    paths = {g.pk: snapshots[g.pk] for g in goals if g.pk in snapshots}
    lessons, completed = lessons_done_by(
        course_ids={item["id"] for row in paths.values() for item in row["items"]},
        learner_ids=ids,
    )
    earlier = finished_earlier_for(
        goal_ids=[
            goal_id
            for goal_id, row in paths.items()
            if finished[row["learner_id"]] - {item["id"] for item in row["items"]}
        ]
    )
    zones = {learner.pk: learner_timezone(learner) for learner in learners}
    return {
        g.pk: _pace(
            g,
            paths.get(g.pk),
            path_progress(
                items=paths[g.pk]["items"],
                lessons=lessons,
                completed_lessons=completed[g.learner_id],
                completed_courses=finished[g.learner_id],
                finished_earlier=earlier.get(g.pk, []),
            )
            if g.pk in paths
            else None,
            now,
            zones[g.learner_id],
        )
        for g in goals
    }


def goal_paces(
    *, learner: User, goals: list[LearningGoal], now: datetime
) -> dict[int, LearningPace]:
    """Pace of several goals of one learner in two queries."""
    return goal_paces_for(learners=[learner], goals=goals, now=now)


def learning_pace(*, goal: LearningGoal, now: datetime) -> LearningPace:
    return goal_paces(learner=goal.learner, goals=[goal], now=now)[goal.pk]


def overall_pace(paces: list[LearningPace]) -> str:
    """The slowest known pace across goals: one goal behind means the learner is behind;
    "unknown" without a goal that has a path (nothing to be on track with)."""
    known = [p.status for p in paces if p.status in PACE_ORDER]
    return min(known, key=PACE_ORDER.__getitem__) if known else "unknown"


def recently_measured(scores: dict[str, SkillScore], now: datetime) -> dict[str, str]:
    """Skill slug -> the kind of assessment ("diagnostic", "skill check", "course
    challenge") that measured it within ``RECENTLY_MEASURED`` of ``now``."""
    return {
        slug: Assessment.Kind(score.measured_by).label.lower()
        for slug, score in scores.items()
        if score.measured_at is not None and now - score.measured_at <= RECENTLY_MEASURED
    }


def build_insights(
    *,
    summary: PerformanceSummary,
    topics: list[StrugglingTopic],
    patterns: EngagementPatterns,
    paces: list[LearningPace],
    segment: dict | None = None,
    revision: Sequence[NextStep] = (),
    skill_check: Callable[[StrugglingTopic], NextStep] | None = None,
    measured: Mapping[str, str] | None = None,
    study: Callable[[StrugglingTopic], NextStep] | None = None,
) -> AIInsights:
    """Message, strengths, areas and study tip from figures already computed.

    `segment` is the learner's stored segment (insights.ml.segments.segment_entry), if any.
    `revision`: the revision lessons open to the learner now (their active revision cards),
    by skill; the message about weak topics points at one of the topics' own, and only
    when there is none at `skill_check(topic)` (the first topic's skill check), unless
    `measured` (``recently_measured``) says an adaptive assessment just measured that
    skill: then at `study(topic)`, the courses that teach it.
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
    areas = [t.name for t in topics]
    pace = overall_pace(paces)
    step = None

    if areas:
        focus = {t.skill for t in topics[:2]}
        step = next((item for item in revision if item.skill in focus), None)
        gaps = " and ".join(
            f"{t.name} ({t.avg_score:g}% right on your last {answers_text(t.answers)})"
            for t in topics[:2]
        )
        message = f"Your recent answers show gaps in {gaps}: "
        if step is not None:
            # Not "revision": the card can be a goal lesson never studied, which the
            # dashboard also shows as the next lesson.
            name = next(t.name for t in topics if t.skill == step.skill)
            message += f"start with “{step.title}”, a lesson on {name} picked for you."
        elif topics[0].skill in (measured or {}):
            # What the evidence says: the skill is weak, so study it; no check to repeat.
            message += (
                f"your recent {measured[topics[0].skill]} measured {topics[0].name} already, "
                "so study its lessons rather than checking it again."
            )
            step = study(topics[0]) if study else None
        else:
            message += (
                f"take a skill check in {topics[0].name} to see where you stand, "
                "then study its lessons."
            )
            step = skill_check(topics[0]) if skill_check else None
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
            f"You completed {summary.lessons_completed} "
            f"lesson{pluralize(summary.lessons_completed)} in the last {summary.days} days. "
            "Keep it up!"
        )
    elif streak:
        # Not "start … to build your streak" beside the streak the page shows (QA walk).
        message = f"You have a {streak}-day learning streak: a lesson each day keeps it growing."
    else:
        message = "Start a lesson today to build your learning streak."

    tip = study_time_advice(patterns)
    if segment:
        # The group's typical figures, said as theirs: beside the learner's own figures on
        # the page, "You study like …: active on 4 of the last 28 days" read as the
        # learner's (QA walk, session 18).
        tip = (
            f"You study like our {segment['name']}. Typical for them: "
            f"{segment['description']}. {tip}"
        )
    return AIInsights(
        learning_pace=pace,
        performance_trend=summary.performance_trend,
        personalized_message=message,
        strengths=strengths,
        areas_for_improvement=areas,
        study_recommendation=tip,
        next_step=step.as_dict() if step else None,
    )


def study_time_advice(patterns: EngagementPatterns) -> str:
    """When the learner studies best, in their own zone and labelled with it ("You learn
    best on Monday, Wednesday around 20:00 Europe/Berlin"), once ``ADVICE_MIN_SESSIONS``
    sessions on ``ADVICE_MIN_DAYS`` days show a habit; before that, a general tip."""
    if patterns.enough_for_advice and patterns.peak_days and patterns.peak_hours:
        days = ", ".join(day.capitalize() for day in patterns.peak_days)
        return (
            f"You learn best on {days} around {patterns.peak_hours[0]:02d}:00 "
            f"{patterns.timezone} ({patterns.sessions} sessions on {patterns.active_days} "
            "days). Schedule important lessons then!"
        )
    return (
        "Study a little on most days: regular short sessions build lasting skills. "
        f"After {ADVICE_MIN_SESSIONS} sessions on {ADVICE_MIN_DAYS} different days we can "
        f"tell you when you learn best (so far: {patterns.sessions} on {patterns.active_days})."
    )


def active_goals_for(*, learner_ids: list[int]) -> dict[int, list[LearningGoal]]:
    """Each learner's active goals, oldest first, with their target skills (three queries)."""
    goals: dict[int, list[LearningGoal]] = {learner_id: [] for learner_id in learner_ids}
    for goal in _goals_with_targets(
        LearningGoal.objects.filter(learner_id__in=learner_ids, status=LearningGoal.Status.ACTIVE)
    ):
        goals[goal.learner_id].append(goal)
    return goals


def _goals_with_targets(goals: QuerySet[LearningGoal]) -> QuerySet[LearningGoal]:
    return (
        goals.select_related("learner__profile")
        .prefetch_related("target_skills__skill")
        .order_by("created_at", "id")
    )


# The dashboard names this many of the goals a learner achieved, the latest first.
ACHIEVED_SHOWN = 3


@dataclass(frozen=True)
class GoalStanding:
    """A learner's active goals (oldest first, with their target skills) and the goals they
    are done with: the latest achieved ones by title ({"id", "title"}, the latest first) and
    how many they achieved or abandoned, so a learner without an active goal is greeted for
    what they achieved, not asked to set their "first" goal (QA walk, issue 13)."""

    active: list[LearningGoal]
    achieved: list[dict]
    ended: int


def goal_standings_for(*, learner_ids: list[int]) -> dict[int, GoalStanding]:
    """Each learner's ``GoalStanding``, in the three queries of ``active_goals_for``: every
    goal is read once, and the target skills of all of them (a learner has few goals)."""
    active: dict[int, list[LearningGoal]] = {learner_id: [] for learner_id in learner_ids}
    ended: dict[int, list[LearningGoal]] = {learner_id: [] for learner_id in learner_ids}
    for goal in _goals_with_targets(LearningGoal.objects.filter(learner_id__in=learner_ids)):
        (active if goal.status == LearningGoal.Status.ACTIVE else ended)[goal.learner_id].append(
            goal
        )
    standings = {}
    for learner_id in learner_ids:
        achieved = sorted(
            (goal for goal in ended[learner_id] if goal.status == LearningGoal.Status.ACHIEVED),
            # Marking a goal achieved is its last write: the latest one first.
            key=lambda goal: (goal.updated_at, goal.pk),
            reverse=True,
        )
        standings[learner_id] = GoalStanding(
            active=active[learner_id],
            achieved=[{"id": goal.pk, "title": goal.title} for goal in achieved[:ACHIEVED_SHOWN]],
            ended=len(ended[learner_id]),
        )
    return standings
