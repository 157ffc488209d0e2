"""Reads shared by the insights engine: skill levels, recent per-skill quiz scores, skips.

Every function here runs a fixed number of queries whatever the learner's history, so
the dashboard built on top of them stays bounded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from accounts.models import LearnerProfile, User
from assessments.models import Answer
from catalog.models import Course, Skill
from insights.models import LearnerSkillState, Recommendation

# Scores used for revision and struggling topics come from the learner's latest answers
# on each skill, so an old bad week stops counting once they have answered this many again.
RECENT_ANSWERS_PER_SKILL = 10
# A skipped recommendation is not suggested again for this long (R-REC).
SKIP_COOLDOWN = timedelta(days=14)

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class SkillLevel:
    slug: str
    name: str
    level: int
    mastery: float | None
    last_practiced_at: datetime | None


@dataclass(frozen=True)
class SkillScore:
    slug: str
    name: str
    answered: int
    correct: int
    percent: float
    last_answered_at: datetime


def profile_of(learner: User) -> LearnerProfile | None:
    try:
        return learner.profile
    except LearnerProfile.DoesNotExist:
        return None


def learner_timezone(learner: User) -> ZoneInfo:
    """The learner's own zone; an unknown name falls back to UTC rather than failing a page."""
    profile = profile_of(learner)
    try:
        return ZoneInfo(profile.timezone) if profile and profile.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def skill_levels(*, learner: User) -> dict[str, SkillLevel]:
    """Current level per skill slug: LearnerSkillState first, the profile's mirror for the rest.

    The profile JSON can hold levels for skills without a state row (seeded or imported
    profiles); those get their display name from one extra query.
    """
    levels: dict[str, SkillLevel] = {}
    states = LearnerSkillState.objects.filter(learner=learner).values_list(
        "skill__slug", "skill__name", "level", "mastery", "last_practiced_at"
    )
    for slug, name, level, mastery, practiced in states:
        levels[slug] = SkillLevel(slug, name, level, mastery, practiced)
    profile = profile_of(learner)
    mirrored = {
        slug: level
        for slug, level in (profile.skill_levels if profile else {}).items()
        if slug not in levels and isinstance(level, int)
    }
    if mirrored:
        names = dict(Skill.objects.filter(slug__in=mirrored).values_list("slug", "name"))
        for slug, level in mirrored.items():
            levels[slug] = SkillLevel(slug, names.get(slug, slug), level, None, None)
    return levels


def recent_skill_scores(
    *, learner: User, per_skill: int = RECENT_ANSWERS_PER_SKILL
) -> dict[str, SkillScore]:
    """Percent correct over each skill's latest `per_skill` answers in submitted attempts.

    The window function keeps the row count bounded by skills x per_skill, not by history.
    """
    ranked = (
        Answer.objects.filter(attempt__learner=learner, attempt__submitted_at__isnull=False)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("question__skill_id")],
                order_by=[F("answered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_skill)
        .values_list("question__skill__slug", "question__skill__name", "is_correct", "answered_at")
    )
    tally: dict[str, list] = defaultdict(lambda: ["", 0, 0, None])
    for slug, name, is_correct, answered_at in ranked:
        row = tally[slug]
        row[0] = name
        row[1] += 1
        row[2] += int(is_correct)
        row[3] = answered_at if row[3] is None else max(row[3], answered_at)
    return {
        slug: SkillScore(slug, name, answered, correct, round(100 * correct / answered, 1), last)
        for slug, (name, answered, correct, last) in tally.items()
    }


def recently_skipped(*, learner: User, now: datetime) -> set[tuple[str, int | None, int | None]]:
    """(kind, lesson_id, course_id) of recommendations skipped within the cooldown."""
    return set(
        Recommendation.objects.filter(
            learner=learner,
            status=Recommendation.Status.SKIPPED,
            acted_at__gte=now - SKIP_COOLDOWN,
        ).values_list("kind", "lesson_id", "course_id")
    )


def struggling_learners(*, course: Course) -> list[dict]:
    """Learners actively enrolled in the course whose latest struggle check flagged them.

    Reads the result `refresh_recommendations` stores on each profile, so an instructor's
    page costs one query however many learners the course has. Who may see a course's
    learners is decided by the caller (the course owner or staff).
    """
    rows = (
        LearnerProfile.objects.filter(
            user__enrollments__course=course,
            user__enrollments__status="active",
            behavioral_metrics__struggle__is_struggling=True,
        )
        .order_by("user__full_name", "user__email")
        .values_list("user_id", "user__full_name", "user__email", "behavioral_metrics")
    )
    return [
        {
            "learner_id": user_id,
            "name": full_name or email.split("@")[0],
            "reasons": metrics["struggle"]["reasons"],
            "checked_at": metrics["struggle"]["checked_at"],
        }
        for user_id, full_name, email, metrics in rows
    ]
