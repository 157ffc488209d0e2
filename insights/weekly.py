"""Weekly path adjustment (R-WEEKLY): re-plan, re-target and refresh, once per learner and week.

`adjust_learners` works on a chunk of learners at once: it locks their profile rows for the
whole run, computes every building block (analytics, struggle signals, skill scores and
levels, goals, paths) for the whole chunk with a fixed number of queries, decides per
learner in Python, writes with bulk statements and hands the recommendations to their one
writer (`recommendations_refresh`), all in one transaction. It records the ISO week it ran
for in `LearnerProfile.weekly_adjusted_week`, so a rerun in the same week (a retried task,
a second worker, an operator re-running the command) changes nothing.
`adjust_learner` is the same code for a chunk of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from accounts.models import LearnerProfile, User
from accounts.services import set_difficulty
from insights.analytics import (
    EngagementPatterns,
    LearningPace,
    PerformanceSummary,
    StrugglingTopic,
    active_goals_for,
    goal_paces_for,
    summaries_and_patterns,
    topics_from_scores,
)
from insights.bulk import JSONB
from insights.models import LearningPathSnapshot
from insights.paths import PathError, PathPlan, path_signature, plan_learning_paths, store_snapshots
from insights.recommendations import (
    DifficultyAdvice,
    RefreshFacts,
    difficulty_advice_for,
    latest_quiz_scores_for,
    recommendations_refresh,
    struggles_for,
)
from insights.rules import STRUGGLING_BELOW, SUMMARY_DAYS
from insights.selectors import recent_skill_scores_for, shown_skills, skill_levels_for
from insights.struggle import StruggleResult
from learning.models import Enrollment, LearnerEvent, LearningGoal
from skillstudio.data_versions import learners_changed
from skillstudio.jobs import BatchReport, for_each_learner

logger = logging.getLogger(__name__)

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


def _decide(
    summary: PerformanceSummary,
    patterns: EngagementPatterns,
    topics: list[StrugglingTopic],
    struggle: StruggleResult,
    advice: DifficultyAdvice,
    now: datetime,
) -> tuple[list[dict], dict]:
    """Adjustments other than re-planning, and the metrics to store."""
    adjustments = []
    if topics:
        focus = ", ".join(f"{t.name} ({t.avg_score:g}%)" for t in topics[:3])
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
    return adjustments, metrics


def _replans(
    goals: list[LearningGoal],
    plans: dict[int, PathPlan | PathError],
    paces: dict[int, LearningPace],
    current: dict[int, LearningPathSnapshot],
) -> tuple[list[dict], list[tuple[LearningGoal, PathPlan]]]:
    """Per goal: a path error, behind schedule, or a new plan when the path changed."""
    adjustments: list[dict] = []
    changed: list[tuple[LearningGoal, PathPlan]] = []
    for goal in goals:
        plan = plans[goal.pk]
        if isinstance(plan, PathError):
            adjustments.append({"kind": "path_error", "goal_id": goal.pk, "reason": str(plan)})
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
        changed.append((goal, plan))
    return adjustments, changed


def adjust_learners(
    *, learner_ids: list[int], now: datetime, dry_run: bool = False, skip_locked: bool = False
) -> dict[int, WeeklyResult]:
    """Run the weekly adjustment for a chunk of learners, in one transaction.

    Each learner's profile row stays locked until the chunk commits, which serialises the
    run with a concurrent recommendation refresh (quiz submit) of the same learner. With
    skip_locked, learners whose profile another transaction holds are left out of the
    result (as are ids without a learner profile), for the caller to retry one by one.
    A learner already adjusted this ISO week gets a skipped result and nothing written.
    With dry_run the decisions are computed and returned, and nothing is written.
    """
    week = iso_week(now)
    results: dict[int, WeeklyResult] = {}
    with transaction.atomic():
        profiles = list(
            LearnerProfile.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .filter(user_id__in=learner_ids)
            .select_related("user")
            .order_by("user_id")
        )
        due: list[User] = []
        for profile in profiles:
            learner = profile.user
            learner.profile = profile  # everything below reads the locked, fresh row
            result = WeeklyResult(learner_id=learner.pk, iso_week=week, dry_run=dry_run)
            results[learner.pk] = result
            if profile.weekly_adjusted_week == week:
                result.skipped = True
            else:
                due.append(learner)
        if due:
            _adjust(due, {learner.pk: results[learner.pk] for learner in due}, now, dry_run)
    return results


def _adjust(
    learners: list[User], results: dict[int, WeeklyResult], now: datetime, dry_run: bool
) -> None:
    week = iso_week(now)
    ids = [learner.pk for learner in learners]
    summaries, patterns = summaries_and_patterns(
        learners=learners, now=now, summary_days=SUMMARY_DAYS
    )
    scores = recent_skill_scores_for(learner_ids=ids)
    levels = skill_levels_for(learners=learners)
    latest = latest_quiz_scores_for(learner_ids=ids, now=now)
    struggles = struggles_for(learner_ids=ids, now=now, latest=latest)
    advice = difficulty_advice_for(learners=learners, now=now, latest_scores=latest)
    goals = active_goals_for(learner_ids=ids)
    every_goal = [goal for learner_id in ids for goal in goals[learner_id]]
    paces = goal_paces_for(learners=learners, goals=every_goal, now=now)
    current = {
        s.goal_id: s
        for s in LearningPathSnapshot.objects.filter(
            learner_id__in=ids, goal__in=every_goal, is_active=True
        )
    }
    plans = plan_learning_paths(goals=every_goal, now=now, levels=levels)
    metrics: dict[int, dict] = {}
    to_store: list[tuple[LearningGoal, PathPlan]] = []
    for learner in learners:
        topics = topics_from_scores(
            scores[learner.pk], STRUGGLING_BELOW, shown=shown_skills(levels[learner.pk], now)
        )
        adjustments, metrics[learner.pk] = _decide(
            summaries[learner.pk],
            patterns[learner.pk],
            topics,
            struggles[learner.pk],
            advice[learner.pk],
            now,
        )
        replans, changed = _replans(goals[learner.pk], plans, paces, current)
        results[learner.pk].adjustments = adjustments + replans
        to_store.extend(changed)
    if dry_run:
        return

    for snapshot in store_snapshots(
        plans=to_store,
        now=now,
        trigger=LearningPathSnapshot.Trigger.WEEKLY_ADJUSTMENT,
        iso_week=week,
    ):
        results[snapshot.learner_id].snapshot_ids.append(snapshot.pk)
    for learner in learners:
        # Stamps the change, so the advice below (and next week's) waits for quiz results
        # at the new level instead of judging the old level's scores again.
        set_difficulty(profile=learner.profile, level=advice[learner.pk].recommended, now=now)
    for learner in learners:
        profile = learner.profile
        profile.behavioral_metrics = {
            **profile.behavioral_metrics,
            **metrics[learner.pk],
            "weekly_adjustment": {
                "ran_at": now.isoformat(),
                "adjustments": results[learner.pk].adjustments,
            },
        }
        profile.weekly_adjusted_week = week
    # The recommendations are chosen after the new difficulty is set, as a refresh on the
    # adjusted profile would: a learner just moved gets no difficulty card until quizzes
    # at the new level say otherwise. The profiles' weekly columns go in the same UPDATE.
    refreshed = recommendations_refresh(
        learner_ids=ids,
        now=now,
        locked=learners,
        facts=RefreshFacts(latest=latest, struggles=struggles, scores=scores, levels=levels),
        profile_columns={
            "behavioral_metrics": JSONB,
            "weekly_adjusted_week": "text",
            "current_difficulty": "text",
            "difficulty_changed_at": "timestamptz",
        },
    )
    for learner_id, done in refreshed.items():
        results[learner_id].active_recommendations = done.active
        results[learner_id].expired_recommendations = done.expired
    learners_changed(ids)


def adjust_learner(*, learner_id: int, now: datetime, dry_run: bool = False) -> WeeklyResult:
    """Run the weekly adjustment for one learner; a second run in the same ISO week is a no-op.

    With dry_run the decisions are computed and returned, and nothing is written.
    """
    if not User.objects.filter(pk=learner_id).exists():
        raise ValueError(f"No user with id {learner_id}.")
    results = adjust_learners(learner_ids=[learner_id], now=now, dry_run=dry_run)
    if learner_id not in results:
        raise ValueError(f"User {learner_id} has no learner profile.")
    return results[learner_id]


def adjust_chunk(
    *,
    learner_ids: list[int],
    now: datetime,
    dry_run: bool = False,
    on_result: Callable[[int, WeeklyResult | None, BaseException | None], None] | None = None,
) -> BatchReport:
    """The weekly adjustment for a chunk, set-based, with failures isolated per learner.

    The chunk runs in one transaction, skipping learners whose profile is locked by a
    concurrent refresh; those, and every learner of a chunk that failed as a whole, are
    then adjusted one by one (each in its own transaction), so one bad learner never
    stops the others.
    """
    try:
        results = adjust_learners(
            learner_ids=learner_ids, now=now, dry_run=dry_run, skip_locked=True
        )
    except Exception:
        logger.exception(
            "Weekly chunk of %d learners failed; adjusting them one by one", len(learner_ids)
        )
        results = {}
    report = BatchReport()
    for learner_id in learner_ids:
        if learner_id in results:
            report.succeeded.append(learner_id)
            if on_result is not None:
                on_result(learner_id, results[learner_id], None)
    rest = [learner_id for learner_id in learner_ids if learner_id not in results]
    if rest:
        single = for_each_learner(
            rest,
            lambda learner_id: adjust_learner(learner_id=learner_id, now=now, dry_run=dry_run),
            on_result=on_result,
        )
        report.succeeded.extend(single.succeeded)
        report.failed.update(single.failed)
        report.transient.extend(single.transient)
    return report


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
