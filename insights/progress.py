"""Series for the progress page's charts; each read runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from accounts.models import User
from assessments.models import AssessmentAttempt
from insights.models import LearnerSkillState
from insights.selectors import learner_timezone
from learning.models import GoalSkill, LearnerEvent, LearningGoal


@dataclass(frozen=True)
class ScorePoint:
    submitted_at: datetime
    title: str
    score: float


@dataclass(frozen=True)
class SkillRow:
    name: str
    level: int
    target: int | None


def activity_per_day(*, learner: User, now: datetime, days: int = 30) -> list[tuple[date, int]]:
    """Recorded learning events per local calendar day, oldest first, zero-filled."""
    tz = learner_timezone(learner)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    counts = dict(
        LearnerEvent.objects.filter(
            learner=learner, occurred_at__gte=now - timedelta(days=days + 1), occurred_at__lte=now
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("event_id"))
        .values_list("day", "n")
    )
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


def quiz_scores(*, learner: User, limit: int = 30) -> list[ScorePoint]:
    """The latest submitted attempts' scores, oldest first."""
    attempts = (
        AssessmentAttempt.objects.filter(learner=learner, submitted_at__isnull=False)
        .select_related("assessment")
        .order_by("-submitted_at")[:limit]
    )
    return [
        ScorePoint(submitted_at=a.submitted_at, title=a.assessment.title, score=float(a.score or 0))
        for a in reversed(list(attempts))
    ]


def skill_rows(*, learner: User) -> list[SkillRow]:
    """Current level per assessed skill, with the highest target of the learner's active goals."""
    targets: dict[int, int] = {}
    for skill_id, target in GoalSkill.objects.filter(
        goal__learner=learner, goal__status=LearningGoal.Status.ACTIVE
    ).values_list("skill_id", "target_level"):
        targets[skill_id] = max(target, targets.get(skill_id, 0))
    states = LearnerSkillState.objects.filter(learner=learner).select_related("skill")
    return sorted(
        (SkillRow(s.skill.name, s.level, targets.get(s.skill_id)) for s in states),
        key=lambda row: row.name,
    )
