"""A study tip for the learner's dashboard, written by the tutor's provider (issue 17, item 5).

Off the request path: after the learner follow-up (insights.refresh_recommendations) has
warmed the learner's dashboard, ``study_tip_defer`` queues ``STUDY_TIP_TASK`` through the
outbox; the task (``study_tip_refresh``) reads the dashboard's figures, sends ONLY these
numbers to the provider (no name, no e-mail, no id; see ``tip_numbers``) and keeps the
tip in the cache. The dashboard page and API show it, with the numbers it used, only when
one is stored; without a provider there is no tip at all (and no empty box).

A learner who opted out of profiling gets no tip (their figures are not sent anywhere).
The provider is asked again only when the figures changed, and at most every
``TIP_REFRESH_AFTER``; the tip always shows the figures it was written from.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import redis.exceptions
from django.core.cache import cache

from accounts.models import LearnerProfile, User
from catalog.llm import ProviderError, chat_complete, provider_enabled
from catalog.models import Skill
from skillstudio.jobs import defer

logger = logging.getLogger(__name__)

STUDY_TIP_TASK = "catalog.study_tip"
TIP_TTL = 7 * 24 * 3600
# Every learner write queues the job; a tip is rewritten at most this often (one provider
# call per learner per period at most), and only when the figures changed.
TIP_REFRESH_AFTER = timedelta(hours=6)
MAX_TIP_CHARS = 400
TIP_INSTRUCTION = (
    "You are a study coach on a learning platform. From the learner's figures below, write "
    "one short, specific study tip (at most 40 words, plain text). Use only these figures; "
    "do not invent others."
)
# What each number is called on the page ("Based on your ...").
NUMBER_LABELS = {
    "streak_days": "streak",
    "quiz_average_percent": "quiz average",
    "lessons_completed": "lessons completed",
    "weakest_skill": "weakest skill",
    "weakest_skill_level": "weakest skill level",
}


@dataclass(frozen=True)
class StudyTip:
    text: str
    numbers: dict
    generated_at: str

    @property
    def used(self) -> list[tuple[str, object]]:
        """(label, value) of every number the tip was written from, in a fixed order."""
        return [
            (label, self.numbers[key])
            for key, label in NUMBER_LABELS.items()
            if key in self.numbers
        ]

    def as_dict(self) -> dict:
        return asdict(self)


def study_tip_key(learner_id: int) -> str:
    """The learner's stored tip in the cache (erasure drops it: accounts.privacy)."""
    return f"study-tip:v1:{learner_id}"


def tip_numbers(*, dashboard: dict) -> dict:
    """The learner's figures the tip is written from (only those the learner has)."""
    summary = dashboard["performance_summary"]
    numbers: dict = {"streak_days": dashboard["streak"] or 0}
    if summary.get("avg_quiz_score") is not None:
        numbers["quiz_average_percent"] = round(summary["avg_quiz_score"])
    numbers["lessons_completed"] = summary.get("lessons_completed") or 0
    levels = {slug: level for slug, level in dashboard["skill_levels"].items() if level is not None}
    if levels:
        slug = min(levels, key=lambda s: (levels[s], s))
        name = Skill.objects.filter(slug=slug).values_list("name", flat=True).first()
        numbers["weakest_skill"] = name or slug
        numbers["weakest_skill_level"] = levels[slug]
    return numbers


def study_tip_for(*, learner: User) -> StudyTip | None:
    """The learner's stored tip, or None (no provider, none yet, or the cache unreachable)."""
    if not provider_enabled():
        return None
    try:
        stored = cache.get(study_tip_key(learner.pk))
    except redis.exceptions.RedisError:
        return None
    return StudyTip(**stored) if stored else None


def study_tip_defer(*, learner_id: int) -> None:
    """Queue a tip refresh (outbox) when a provider is configured; otherwise nothing."""
    if provider_enabled():
        defer(STUDY_TIP_TASK, learner_id=learner_id)


def study_tip_refresh(*, learner_id: int, now: datetime) -> StudyTip | None:
    """Write (or keep) the learner's tip from their current dashboard figures.

    None when there is no provider, the learner is gone or opted out of profiling, or
    the provider failed (an older tip, if any, stays). Safe to run twice: the same
    figures keep the stored tip without asking the provider again.
    """
    from insights.dashboard import cached_learner_dashboard

    if not provider_enabled():
        return None
    learner = User.objects.filter(pk=learner_id, is_active=True).first()
    opted_out = LearnerProfile.objects.filter(user_id=learner_id, profiling_opt_out=True).exists()
    if learner is None or opted_out:
        cache.delete(study_tip_key(learner_id))
        return None
    dashboard, _ = cached_learner_dashboard(learner=learner, now=now)
    numbers = tip_numbers(dashboard=dashboard)
    current = study_tip_for(learner=learner)
    if current is not None and (
        current.numbers == numbers
        or now - datetime.fromisoformat(current.generated_at) < TIP_REFRESH_AFTER
    ):
        return current
    lines = "\n".join(f"{NUMBER_LABELS[key]}: {value}" for key, value in numbers.items())
    try:
        text = chat_complete(system=TIP_INSTRUCTION, user=lines, max_tokens=200)
    except ProviderError as error:
        logger.warning("No study tip for learner %s: %s", learner_id, error)
        return None
    tip = StudyTip(text=text[:MAX_TIP_CHARS], numbers=numbers, generated_at=now.isoformat())
    cache.set(study_tip_key(learner_id), tip.as_dict(), timeout=TIP_TTL)
    return tip
