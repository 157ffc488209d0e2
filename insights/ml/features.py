"""Enrollment features as of a cutoff time, with no look-ahead.

Every row that carries a date (attempts, events, lesson progress) is filtered in SQL to
`dated < cutoff` of its own enrollment, so a prediction made at T can only see what had
happened before T. A learner's outcome columns (status, completed_at, unregistered_at,
final_result) are never read. The one cohort feature (score percentile) compares the
learner with the other learners of the same course run as they stood at T: it reads the
others' leaving dates only to leave out who had already left before T. The same function
feeds offline evaluation (OULAD, one cutoff per run), training and the nightly live
scoring (cutoff = now).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import numpy as np
from django.db import connection

from assessments.models import Assessment, AssessmentAttempt
from catalog.models import Lesson, Module
from learning.models import Enrollment, LearnerEvent, LessonProgress

DAY = timedelta(days=1)
RECENT_WINDOW = timedelta(days=14)

# Order matters: it is the column order of the feature matrix stored with a model.
FEATURE_NAMES: tuple[str, ...] = (
    "days_since_start",
    "registration_lead_days",
    "assessments_due",
    "submitted",
    "missed",
    "missed_share",
    "missed_last3",
    "weight_missed",
    "weight_submitted_share",
    "late",
    "mean_score",
    "min_score",
    "weighted_score",
    "score_percentile",
    "no_score_yet",
    "days_since_activity",
    "lessons_completed_share",
    "events_recent",
    "events_change",
    "prior_attempts",
    "studied_credits",
)


@dataclass(frozen=True)
class EnrollmentFeatures:
    enrollment_id: int
    cutoff: datetime
    values: dict[str, float]
    # Raw counts behind the values, for plain-language explanations.
    facts: dict[str, float] = field(default_factory=dict)
    # Course context a fitted model adds (its course withdrawal rate) is looked up by this.
    course_id: int | None = None


def run_start(enrollment: Enrollment) -> datetime:
    """When the learner's course began: the run's start date, or self-paced enrollment time."""
    if enrollment.course_run_id is not None:
        return datetime.combine(enrollment.course_run.starts_on, time.min, tzinfo=UTC)
    return enrollment.enrolled_at


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cut_params(pairs: Sequence[tuple[Enrollment, datetime]]) -> list[list]:
    return [
        [e.id for e, _ in pairs],
        [e.learner_id for e, _ in pairs],
        [e.course_id for e, _ in pairs],
        [e.course_run_id for e, _ in pairs],
        [cutoff for _, cutoff in pairs],
    ]


_CUT = (
    "unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[])"
    " AS c(enrollment_id, learner_id, course_id, run_id, cutoff)"
)


def _submissions(pairs: Sequence[tuple[Enrollment, datetime]]) -> dict[int, dict[int, tuple]]:
    """{enrollment: {assessment: (first submitted_at, best score)}} for submissions < cutoff."""
    sql = f"""
        SELECT c.enrollment_id, t.assessment_id, min(t.submitted_at), max(t.score)
        FROM {_CUT}
        JOIN {Assessment._meta.db_table} s
          ON s.course_id = c.course_id AND (s.course_run_id IS NULL OR s.course_run_id = c.run_id)
        JOIN {AssessmentAttempt._meta.db_table} t
          ON t.assessment_id = s.id AND t.learner_id = c.learner_id
         AND t.submitted_at < c.cutoff
        GROUP BY c.enrollment_id, t.assessment_id
    """  # noqa: S608 - table names come from model metadata, values are parameters
    out: dict[int, dict[int, tuple]] = defaultdict(dict)
    for enrollment_id, assessment_id, submitted_at, score in _rows(sql, _cut_params(pairs)):
        out[enrollment_id][assessment_id] = (submitted_at, None if score is None else float(score))
    return out


def _events(pairs: Sequence[tuple[Enrollment, datetime]]) -> dict[int, tuple]:
    """{enrollment: (last event, events in the last 14 days, events in the 14 before)}."""
    sql = f"""
        SELECT c.enrollment_id, max(e.occurred_at),
               count(*) FILTER (WHERE e.occurred_at >= c.cutoff - %s),
               count(*) FILTER (WHERE e.occurred_at >= c.cutoff - 2 * %s
                                  AND e.occurred_at < c.cutoff - %s)
        FROM {_CUT}
        JOIN {LearnerEvent._meta.db_table} e
          ON e.learner_id = c.learner_id AND e.course_id = c.course_id
         AND e.occurred_at < c.cutoff
        GROUP BY c.enrollment_id
    """  # noqa: S608
    params = [RECENT_WINDOW, RECENT_WINDOW, RECENT_WINDOW, *_cut_params(pairs)]
    return {row[0]: row[1:] for row in _rows(sql, params)}


def _lessons(pairs: Sequence[tuple[Enrollment, datetime]]) -> dict[int, tuple]:
    """{enrollment: (lessons completed before cutoff, last start/completion before cutoff)}."""
    sql = f"""
        SELECT c.enrollment_id,
               count(*) FILTER (WHERE p.completed_at < c.cutoff),
               greatest(max(p.started_at) FILTER (WHERE p.started_at < c.cutoff),
                        max(p.completed_at) FILTER (WHERE p.completed_at < c.cutoff))
        FROM {_CUT}
        JOIN {Module._meta.db_table} m ON m.course_id = c.course_id
        JOIN {Lesson._meta.db_table} l ON l.module_id = m.id
        JOIN {LessonProgress._meta.db_table} p
          ON p.lesson_id = l.id AND p.learner_id = c.learner_id
        WHERE p.started_at < c.cutoff OR p.completed_at < c.cutoff
        GROUP BY c.enrollment_id
    """  # noqa: S608
    return {row[0]: row[1:] for row in _rows(sql, _cut_params(pairs))}


def _score_percentiles(pairs: Sequence[tuple[Enrollment, datetime]]) -> dict[int, float]:
    """{enrollment: share of its cohort with a lower weighted score, ties counting half}.

    The cohort is every enrollment of the same course run (or, self-paced, of the same
    course) that had started and not left or completed before the cutoff; each member's
    weighted score counts their best result before the cutoff on assessments due before
    it. Other learners' rows enter only through these before-cutoff aggregates.
    """
    sql = f"""
        WITH c AS (SELECT * FROM {_CUT}),
        k AS (SELECT DISTINCT course_id, run_id, coalesce(run_id, 0) AS run_key, cutoff FROM c),
        m AS (
            SELECT k.course_id, k.run_id, k.run_key, k.cutoff, e.learner_id
            FROM k
            JOIN {Enrollment._meta.db_table} e
              ON e.course_id = k.course_id AND e.course_run_id IS NOT DISTINCT FROM k.run_id
            WHERE e.enrolled_at < k.cutoff
              AND (e.unregistered_at IS NULL OR e.unregistered_at >= k.cutoff)
              AND NOT (e.status = %s AND e.unregistered_at IS NULL AND e.updated_at < k.cutoff)
              AND (e.completed_at IS NULL OR e.completed_at >= k.cutoff)
        ),
        best AS (
            SELECT m.course_id, m.run_key, m.cutoff, m.learner_id, s.id,
                   s.weight * coalesce(max(t.score), 0) / 100 AS points
            FROM m
            JOIN {Assessment._meta.db_table} s
              ON s.course_id = m.course_id
             AND (s.course_run_id IS NULL OR s.course_run_id = m.run_id)
             AND s.due_at < m.cutoff AND s.weight IS NOT NULL
            JOIN {AssessmentAttempt._meta.db_table} t
              ON t.assessment_id = s.id AND t.learner_id = m.learner_id
             AND t.submitted_at < m.cutoff
            GROUP BY m.course_id, m.run_key, m.cutoff, m.learner_id, s.id, s.weight
        ),
        w AS (
            SELECT m.course_id, m.run_key, m.cutoff, m.learner_id,
                   coalesce(sum(b.points), 0) AS weighted
            FROM m
            LEFT JOIN best b
              ON b.course_id = m.course_id AND b.run_key = m.run_key
             AND b.cutoff = m.cutoff AND b.learner_id = m.learner_id
            GROUP BY m.course_id, m.run_key, m.cutoff, m.learner_id
        ),
        ranked AS (
            -- rank() - 1 members score lower; the partition by score counts the ties.
            SELECT course_id, run_key, cutoff, learner_id,
                   (rank() OVER key_order - 1
                    + 0.5 * count(*) OVER (PARTITION BY course_id, run_key, cutoff, weighted)
                   )::float / count(*) OVER (PARTITION BY course_id, run_key, cutoff) AS pct
            FROM w
            WINDOW key_order AS (PARTITION BY course_id, run_key, cutoff ORDER BY weighted)
        )
        SELECT c.enrollment_id, r.pct
        FROM c
        JOIN ranked r
          ON r.course_id = c.course_id AND r.run_key = coalesce(c.run_id, 0)
         AND r.cutoff = c.cutoff AND r.learner_id = c.learner_id
    """  # noqa: S608
    params = [*_cut_params(pairs), Enrollment.Status.DROPPED]
    return dict(_rows(sql, params))


def features_as_of(*, pairs: Iterable[tuple[Enrollment, datetime]]) -> list[EnrollmentFeatures]:
    """Features of each (enrollment, cutoff) pair from rows dated strictly before its cutoff.

    Enrollments should come with `course_run` selected. A constant number of queries
    whatever the number of enrollments.
    """
    pairs = list(pairs)
    if not pairs:
        return []
    course_ids = {e.course_id for e, _ in pairs}
    schedule: dict[tuple[int, int | None], list[tuple[int, datetime, float]]] = defaultdict(list)
    for a in Assessment.objects.filter(course_id__in=course_ids, due_at__isnull=False).values(
        "id", "course_id", "course_run_id", "due_at", "weight"
    ):
        schedule[(a["course_id"], a["course_run_id"])].append(
            (a["id"], a["due_at"], float(a["weight"] or 0))
        )
    lesson_counts: dict[int, int] = defaultdict(int)
    for course_id in Lesson.objects.filter(module__course_id__in=course_ids).values_list(
        "module__course_id", flat=True
    ):
        lesson_counts[course_id] += 1
    submissions = _submissions(pairs)
    events = _events(pairs)
    lessons = _lessons(pairs)
    percentiles = _score_percentiles(pairs)

    result = []
    for enrollment, cutoff in pairs:
        start = run_start(enrollment)
        subs = submissions.get(enrollment.id, {})
        due = sorted(
            (
                item
                for key in {
                    (enrollment.course_id, None),
                    (enrollment.course_id, enrollment.course_run_id),
                }
                for item in schedule.get(key, [])
                if item[1] < cutoff
            ),
            key=lambda item: item[1],
        )
        missed_ids = [a_id for a_id, _, _ in due if a_id not in subs]
        last3 = [a_id for a_id, _, _ in due[-3:]]
        due_at = {a_id: due_time for a_id, due_time, _ in due}
        weights = {a_id: weight for a_id, _, weight in due}
        late = sum(
            1 for a_id, (sub_at, _) in subs.items() if a_id in due_at and sub_at > due_at[a_id]
        )
        scores = [score for _, score in subs.values() if score is not None]
        weighted = sum(
            weights.get(a_id, 0) * (score or 0) / 100 for a_id, (_, score) in subs.items()
        )
        weight_due = sum(weights.values())
        weight_missed = sum(weights[a_id] for a_id in missed_ids)

        last_event, recent, prior = events.get(enrollment.id, (None, 0, 0))
        completed_lessons, last_lesson = lessons.get(enrollment.id, (0, None))
        activity = [t for t in (last_event, last_lesson, *(s for s, _ in subs.values())) if t]
        last_activity = max([*activity, max(start, enrollment.enrolled_at)])
        info = enrollment.registration_info or {}
        lead = _days(start - enrollment.enrolled_at) if enrollment.course_run_id else 0.0

        values = {
            "days_since_start": max(_days(cutoff - start), 0.0),
            "registration_lead_days": lead,
            "assessments_due": float(len(due)),
            "submitted": float(len(subs)),
            "missed": float(len(missed_ids)),
            "missed_share": len(missed_ids) / len(due) if due else 0.0,
            "missed_last3": float(sum(1 for a_id in last3 if a_id not in subs)),
            # Grade weight (percentage points of the course grade) due so far and not handed
            # in, and the share of the weight due so far that was handed in.
            "weight_missed": weight_missed,
            "weight_submitted_share": (
                (weight_due - weight_missed) / weight_due if weight_due else 1.0
            ),
            "late": float(late),
            "mean_score": float(np.mean(scores)) if scores else 0.0,
            "min_score": float(min(scores)) if scores else 0.0,
            "weighted_score": weighted,
            # Not in the cohort (e.g. enrolled after the cutoff): the middle of it.
            "score_percentile": percentiles.get(enrollment.id, 0.5),
            "no_score_yet": 0.0 if scores else 1.0,
            "days_since_activity": max(_days(cutoff - last_activity), 0.0),
            "lessons_completed_share": (
                completed_lessons / lesson_counts[enrollment.course_id]
                if lesson_counts[enrollment.course_id]
                else 0.0
            ),
            "events_recent": float(recent),
            "events_change": (recent - prior) / prior if prior else 0.0,
            "prior_attempts": float(info.get("num_of_prev_attempts") or 0),
            "studied_credits": float(info.get("studied_credits") or 0),
        }
        facts = {
            "last3_due": float(len(last3)),
            "events_prior": float(prior),
            "lessons_completed": float(completed_lessons),
            "lessons_total": float(lesson_counts[enrollment.course_id]),
        }
        result.append(
            EnrollmentFeatures(enrollment.id, cutoff, values, facts, enrollment.course_id)
        )
    return result


def cutoff_for_day(enrollment: Enrollment, day: int) -> datetime:
    """The moment `day` days after the enrollment's course began (day 0 = start)."""
    return run_start(enrollment) + day * DAY
