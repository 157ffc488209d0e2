"""Weekly path adjustment (R-WEEKLY): re-plan, re-target and refresh, once per learner and week.

`adjust_learner` holds the learner's profile row lock for the whole run and records the ISO
week it ran for in `behavioral_metrics`, so a rerun in the same week (a retried task, a
second worker, an operator re-running the command) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from accounts.models import LearnerProfile, User
from insights.analytics import (
    LearningPace,
    active_goals,
    engagement_patterns,
    goal_paces,
    performance_summary,
    struggling_topics,
)
from insights.models import LearningPathSnapshot
from insights.paths import PathError, path_signature, plan_learning_path, store_snapshot
from insights.recommendations import (
    difficulty_advice,
    expire_stale_recommendations,
    refresh_recommendations,
)
from insights.struggle import StruggleResult, detect_struggle
from learning.models import Enrollment, LearnerEvent, LearningGoal

# A learner is in the weekly run with an active goal or enrollment, or recent activity.
ACTIVE_WINDOW = timedelta(days=28)


@dataclass
class WeeklyResult:
    learner_id: int
    iso_week: str
    dry_run: bool
    skipped: bool = False
    adjustments: list[dict] = field(default_factory=list)
    snapshot_ids: list[int] = field(default_factory=list)
    active_recommendations: int = 0
    expired_recommendations: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def iso_week(now: datetime) -> str:
    """ISO week of `now` in UTC, e.g. "2026-W48": the idempotency key of the weekly run."""
    year, week, _ = now.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _replan_reason(
    goal: LearningGoal, snapshot: LearningPathSnapshot | None, pace: LearningPace
) -> str:
    if snapshot is None:
        return f"Planned a first path for '{goal.title}'"
    targets = {t.skill.slug: t.target_level for t in goal.target_skills.all()}
    meta = snapshot.metadata
    deadline = goal.deadline.isoformat() if goal.deadline else None
    if (
        meta.get("targets") != targets
        or meta.get("weekly_hours") != float(goal.weekly_hours)
        or meta.get("deadline") != deadline
    ):
        return f"Goal '{goal.title}' changed since the last plan"
    if pace.status == "behind":
        return f"Re-planned '{goal.title}' because it is behind schedule"
    return f"Skill levels or courses changed since the last plan for '{goal.title}'"


def _decide(learner: User, now: datetime) -> tuple[list[dict], dict, str, StruggleResult]:
    """Adjustments other than re-planning, the metrics to store, the advised difficulty, and
    the struggle check (handed on to refresh_recommendations rather than run twice)."""
    summary = performance_summary(learner=learner, now=now)
    patterns = engagement_patterns(learner=learner, now=now)
    topics = struggling_topics(learner=learner)
    struggle = detect_struggle(learner=learner, now=now)
    advice = difficulty_advice(learner=learner, now=now)
    adjustments = []
    if topics:
        focus = ", ".join(f"{t.skill} ({t.avg_score:g}%)" for t in topics[:3])
        adjustments.append({"kind": "add_revision", "reason": f"Revision added for {focus}"})
    elif struggle.is_struggling:
        adjustments.append({"kind": "add_revision", "reason": struggle.reasons[0]})
    if advice.change == "decrease":
        adjustments.append({"kind": "reduce_load", "reason": advice.reason})
    elif summary.performance_trend == "declining":
        adjustments.append(
            {
                "kind": "reduce_load",
                "reason": f"Quiz average fell {abs(summary.trend_change):g} points - "
                "fewer new lessons, more review this week",
            }
        )
    if advice.change == "increase":
        adjustments.append({"kind": "increase_challenge", "reason": advice.reason})
    metrics = {
        "avg_session_minutes": patterns.avg_session_minutes,
        "sessions_90d": patterns.sessions,
        "peak_hours": patterns.peak_hours,
        "peak_days": patterns.peak_days,
        "preferred_content_types": patterns.preferred_content_types,
        "timezone": patterns.timezone,
        "current_streak": summary.current_streak,
        "performance_trend": summary.performance_trend,
        "avg_quiz_score": summary.avg_quiz_score,
        "computed_at": now.isoformat(),
    }
    return adjustments, metrics, advice.recommended, struggle


def adjust_learner(*, learner_id: int, now: datetime, dry_run: bool = False) -> WeeklyResult:
    """Run the weekly adjustment for one learner; a second run in the same ISO week is a no-op.

    With dry_run the decisions are computed and returned, and nothing is written.
    """
    week = iso_week(now)
    result = WeeklyResult(learner_id=learner_id, iso_week=week, dry_run=dry_run)
    learner = User.objects.filter(pk=learner_id).first()
    if learner is None:
        raise ValueError(f"No user with id {learner_id}.")
    with transaction.atomic():
        profile = LearnerProfile.objects.select_for_update().filter(user=learner).first()
        if profile is None:
            raise ValueError(f"User {learner_id} has no learner profile.")
        learner.profile = profile  # everything below reads the locked, fresh row
        if profile.behavioral_metrics.get("weekly_adjustment", {}).get("iso_week") == week:
            result.skipped = True
            return result

        adjustments, metrics, difficulty, struggle = _decide(learner, now)
        goals = active_goals(learner=learner)
        paces = goal_paces(learner=learner, goals=goals, now=now)
        current = {
            s.goal_id: s
            for s in LearningPathSnapshot.objects.filter(
                learner=learner, goal__in=goals, is_active=True
            )
        }
        plans = []
        for goal in goals:
            try:
                plan = plan_learning_path(goal=goal, now=now)
            except PathError as error:
                adjustments.append({"kind": "path_error", "goal_id": goal.pk, "reason": str(error)})
                continue
            snapshot = current.get(goal.pk)
            if paces[goal.pk].status == "behind":
                adjustments.append(
                    {
                        "kind": "behind_schedule",
                        "goal_id": goal.pk,
                        "reason": f"Behind schedule on '{goal.title}': {paces[goal.pk].reason}",
                    }
                )
            if snapshot and path_signature(snapshot.items, snapshot.metadata) == path_signature(
                plan.item_dicts(), plan.metadata
            ):
                continue
            reason = _replan_reason(goal, snapshot, paces[goal.pk])
            adjustments.append({"kind": "replan", "goal_id": goal.pk, "reason": reason})
            plans.append((goal, plan))
        result.adjustments = adjustments
        if dry_run:
            return result

        for goal, plan in plans:
            snapshot = store_snapshot(
                goal=goal,
                plan=plan,
                now=now,
                trigger=LearningPathSnapshot.Trigger.WEEKLY_ADJUSTMENT,
                iso_week=week,
            )
            result.snapshot_ids.append(snapshot.pk)
        profile.current_difficulty = difficulty
        result.expired_recommendations = expire_stale_recommendations(learner=learner, now=now)
        result.active_recommendations = len(
            refresh_recommendations(learner=learner, now=now, struggle=struggle)
        )
        profile.refresh_from_db(fields=["behavioral_metrics"])  # keeps the struggle it stored
        profile.behavioral_metrics = {
            **profile.behavioral_metrics,
            **metrics,
            "weekly_adjustment": {
                "iso_week": week,
                "ran_at": now.isoformat(),
                "adjustments": adjustments,
            },
        }
        profile.save(update_fields=["behavioral_metrics", "current_difficulty", "updated_at"])
    return result


def active_learner_ids(*, now: datetime, chunk_size: int = 500) -> Iterator[list[int]]:
    """Ids of learners due a weekly run, in ascending chunks (keyset pagination, one query each)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")
    recent = LearnerEvent.objects.filter(
        learner_id=OuterRef("pk"), occurred_at__gte=now - ACTIVE_WINDOW, occurred_at__lte=now
    )
    goals = LearningGoal.objects.filter(
        learner_id=OuterRef("pk"), status=LearningGoal.Status.ACTIVE
    )
    enrollments = Enrollment.objects.filter(
        learner_id=OuterRef("pk"), status=Enrollment.Status.ACTIVE
    )
    learners = User.objects.filter(is_active=True, role=User.Role.LEARNER).filter(
        Exists(recent) | Exists(goals) | Exists(enrollments)
    )
    last = 0
    while True:
        ids = list(
            learners.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk_size]
        )
        if ids:
            yield ids
        if len(ids) < chunk_size:
            return
        last = ids[-1]
