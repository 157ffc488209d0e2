"""The learner dashboard: the seed's JSON shape, gathered in a bounded number of queries.

``learner_dashboards`` computes the dashboards of a chunk of learners with the chunk
building blocks: each aggregates in SQL for all the learners at once (GROUP BY learner) or
reads catalogue-sized rows, and the blocks share the learners' skill levels, recent scores,
skips and session totals, so the query count depends neither on the chunk's size nor on how
many answers, events or lessons lie behind it. ``learner_dashboard`` is the chunk of one.

Serving (``cached_learner_dashboard``) reads Redis first. An entry is keyed on the learner's
data version (skillstudio.data_versions) and valid for one local calendar day:

- every write path moves the version on after its commit, so an entry is never read after
  the data behind it changed;
- the streak and "today" change at the learner's local midnight, so an entry is only served
  on the local date it was computed for (checked against the zone stored with it, which
  costs no query: the learner's profile is not read on a hit; a zone change is a profile
  write, which moves the version);
- the sliding windows (30/90 days, goal pace) move with the clock: entries live CACHE_TTL.

Refresh-ahead keeps the entries of learners who use the product filled, so their reads
hit: the ``insights.warm_dashboards`` beat task recomputes every recently active learner's
dashboard every WARM_PERIOD seconds (``warm_active_dashboards``), and the write follow-up
task warms the learner it refreshed. CACHE_TTL is twice WARM_PERIOD, so an entry is still
valid when the next run rewrites it (as long as a run takes under WARM_PERIOD).

Maximum staleness of a served dashboard: none for the learner's own data and the local date;
CACHE_TTL (10 minutes) for the time-window figures; ``generated_at`` says when it was
computed. When Redis is unreachable, dashboards are computed on every read, never an error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis.exceptions
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import User
from assessments.models import AssessmentAttempt
from insights.analytics import (
    active_goals_for,
    build_insights,
    goal_paces_for,
    summaries_and_patterns,
    topics_from_scores,
)
from insights.mastery import NOT_ASSESSED_MASTERY, target_reached
from insights.ml.segments import segment_entry
from insights.models import Recommendation, RecommendationCard
from insights.recommendations import difficulty_advice_for, next_lessons_for, revision_lessons_for
from insights.rules import STRUGGLING_BELOW, SUMMARY_DAYS
from insights.selectors import (
    SkillLevel,
    learner_timezone,
    recent_skill_scores_for,
    recently_skipped_for,
    skill_levels_for,
)
from learning.locks import lock_facts_for
from learning.models import LearnerEvent, LessonProgress
from skillstudio.chunks import chunked
from skillstudio.data_versions import learner_version, learner_versions
from skillstudio.jobs import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

RECOMMENDATION_CARDS = 10
# The beat task's period, and the entries' lifetime: twice the period, so a warmed entry
# outlives the gap until the next run has rewritten it.
WARM_PERIOD = 300
CACHE_TTL = 2 * WARM_PERIOD
# Learners with any event, lesson progress or quiz attempt this recently get warmed.
ACTIVE_DAYS = 14
WARM_CHUNK = 200
# Held while a warm run is in progress, so a slow run and the next beat never overlap.
WARM_LOCK = "dashboard-warm:running"
# Says whether a response was served from the cache (the benchmark reports the hit ratio).
CACHE_HEADER = "X-Dashboard-Cache"


def _recommendation_cards(*, learner_ids: list[int]) -> dict[int, list[Recommendation]]:
    """Each learner's best active recommendations, in one query.

    A learner has few active recommendations (each refresh replaces its set and stale ones
    expire), so keeping the first ten per learner here costs less CPU than ranking them in
    SQL with a window function, which the ORM compiles into a subquery.
    """
    cards: dict[int, list[Recommendation]] = {learner_id: [] for learner_id in learner_ids}
    for rec in (
        Recommendation.objects.filter(
            learner_id__in=learner_ids, status=Recommendation.Status.ACTIVE
        )
        .select_related("lesson", "course", "assessment")
        # The model's ordering, as the dashboard page always listed them; id breaks ties.
        .order_by("learner_id", "-score", "-created_at", "id")
    ):
        if len(cards[rec.learner_id]) < RECOMMENDATION_CARDS:
            cards[rec.learner_id].append(rec)
    return cards


def learner_dashboards(*, learners: list[User], now: datetime) -> dict[int, dict]:
    """Everything the dashboard shows, as plain JSON-ready data, for each of the learners.

    A fixed number of queries for any number of learners (24 in the tests); pass
    the learners with ``select_related("profile")`` or each profile costs one more.
    """
    ids = [learner.pk for learner in learners]
    levels = skill_levels_for(learners=learners)
    scores = recent_skill_scores_for(learner_ids=ids)
    skipped = recently_skipped_for(learner_ids=ids, now=now)
    summaries, patterns = summaries_and_patterns(
        learners=learners, now=now, summary_days=SUMMARY_DAYS
    )
    goals = active_goals_for(learner_ids=ids)
    paces = goal_paces_for(
        learners=learners, goals=[goal for own in goals.values() for goal in own], now=now
    )
    facts = lock_facts_for(learner_ids=ids, now=now)  # the lock rule, read once for both
    next_up = next_lessons_for(learner_ids=ids, now=now, skipped=skipped, facts=facts)
    revision = revision_lessons_for(
        learners=learners, now=now, scores=scores, levels=levels, skipped=skipped, facts=facts
    )
    difficulty = difficulty_advice_for(learners=learners, now=now)
    cards = _recommendation_cards(learner_ids=ids)
    return {
        learner.pk: _dashboard(
            learner=learner,
            now=now,
            levels=levels[learner.pk],
            summary=summaries[learner.pk],
            patterns=patterns[learner.pk],
            topics=topics_from_scores(scores[learner.pk], STRUGGLING_BELOW),
            goals=goals[learner.pk],
            paces=paces,
            next_up=next_up[learner.pk],
            revision=revision[learner.pk],
            difficulty=difficulty[learner.pk],
            cards=cards[learner.pk],
        )
        for learner in learners
    }


def _target_skill(*, target, level: SkillLevel | None, now: datetime) -> dict:
    """A goal's target skill with the learner's level, state and evidence; the target counts
    as reached only when the state confirms the level (insights.mastery)."""
    mastery = level.mastery_at(now) if level else NOT_ASSESSED_MASTERY
    return {
        "skill": target.skill.slug,
        "name": target.skill.name,
        "target_level": target.target_level,
        "current_level": level.level if level else None,
        "state": mastery.state,
        "answers": mastery.answers,
        "summary": mastery.summary,
        "target_reached": target_reached(
            level=level.level if level else None,
            state=mastery.state,
            target_level=target.target_level,
        ),
    }


def _dashboard(
    *, learner, now, levels, summary, patterns, topics, goals, paces, next_up, revision,
    difficulty, cards,
) -> dict:  # fmt: skip
    """One learner's dashboard from the figures ``learner_dashboards`` gathered."""
    insights = build_insights(
        summary=summary,
        topics=topics,
        patterns=patterns,
        paces=[paces[goal.pk] for goal in goals],
        segment=segment_entry(learner=learner, now=now),
    )
    return {
        "performance_summary": summary.as_dict(),
        "current_goals": [
            {
                "id": goal.pk,
                "title": goal.title,
                "deadline": goal.deadline.isoformat() if goal.deadline else None,
                "weekly_hours": float(goal.weekly_hours),
                "target_skills": [
                    _target_skill(target=target, level=levels.get(target.skill.slug), now=now)
                    for target in goal.target_skills.all()
                ],
                "pace": paces[goal.pk].as_dict(),
            }
            for goal in goals
        ],
        "recommended_next_lessons": [item.as_dict() for item in next_up],
        "revision_recommendations": [item.as_dict() for item in revision],
        "struggling_topics": [topic.as_dict() for topic in topics],
        # The rule behind the list, for the page that says "no skill is below ...".
        "struggling_below": STRUGGLING_BELOW,
        "ai_insights": insights.as_dict(),
        "streak": summary.current_streak,
        "engagement": patterns.as_dict(),
        "difficulty": difficulty.as_dict(),
        # Cards in RecommendationCard's shape: the page rebuilds them with from_dict.
        "recommendations": [RecommendationCard.from_recommendation(rec).as_dict() for rec in cards],
        "skill_levels": {slug: level.level for slug, level in sorted(levels.items())},
        "generated_at": now.isoformat(),
    }


def learner_dashboard(*, learner: User, now: datetime) -> dict:
    """One learner's dashboard (see ``learner_dashboards``)."""
    return learner_dashboards(learners=[learner], now=now)[learner.pk]


def _entry_key(learner_id: int, version: str) -> str:
    # "v3": entries carry their zone and local date, and cards in RecommendationCard's
    # shape; older ones (bare data, cards with a nested target) are never read.
    return f"dashboard:v3:{learner_id}:{version}"


def _entry(learner: User, data: dict, now: datetime) -> dict:
    zone = learner_timezone(learner)
    return {"zone": zone.key, "local_date": now.astimezone(zone).date().isoformat(), "data": data}


def _valid_today(entry: dict, now: datetime) -> bool:
    """Whether the entry was computed for the learner's local date at ``now``."""
    zone = ZoneInfo(entry["zone"])
    return now.astimezone(zone).date().isoformat() == entry["local_date"]


def cached_learner_dashboard(*, learner: User, now: datetime) -> tuple[dict, bool]:
    """``learner_dashboard`` through the cache: the data, and whether it came from the cache.

    Inside a transaction the cache is neither read nor filled: the transaction may see its
    own uncommitted writes (whose version bump waits for the commit) and may still roll
    back. Redis being unreachable only costs the computation, never an error.
    """
    version = None if transaction.get_connection().in_atomic_block else learner_version(learner.pk)
    if version is None:
        return learner_dashboard(learner=learner, now=now), False
    # The version is read before the data: a write committing meanwhile moves the version
    # on, so whatever is computed here is stored under a key nobody reads any more.
    key = _entry_key(learner.pk, version)
    try:
        cached = cache.get(key)
    except redis.exceptions.RedisError:
        logger.warning("Dashboard cache unreachable; computing without it")
        return learner_dashboard(learner=learner, now=now), False
    if cached is not None and _valid_today(cached, now):
        return cached["data"], True
    data = learner_dashboard(learner=learner, now=now)
    try:
        cache.set(key, _entry(learner, data, now), timeout=CACHE_TTL)
    except redis.exceptions.RedisError:
        logger.warning("Dashboard cache unreachable; not storing learner %s", learner.pk)
    return data, False


@dataclass
class WarmReport:
    """What a warm run did: learners computed, entries stored, learners that failed."""

    learners: int = 0
    stored: int = 0
    failed: list[int] = field(default_factory=list)
    # Why nothing (more) was stored: Redis unreachable, another run in progress.
    stopped: str = ""


def recently_active_learner_ids(*, now: datetime, days: int = ACTIVE_DAYS) -> Iterator[int]:
    """Learners with an event, lesson progress or quiz attempt in the last ``days`` days.

    One query (an EXISTS per signal on the learner's indexed rows), streamed from a server-side
    cursor in ascending id order, so the caller never holds every id at once.
    """
    since = now - timedelta(days=days)
    events = LearnerEvent.objects.filter(
        learner_id=OuterRef("pk"), occurred_at__gte=since, occurred_at__lte=now
    )
    progress = LessonProgress.objects.filter(learner_id=OuterRef("pk")).filter(
        Q(started_at__gte=since, started_at__lte=now)
        | Q(completed_at__gte=since, completed_at__lte=now)
    )
    attempts = AssessmentAttempt.objects.filter(
        learner_id=OuterRef("pk"), started_at__gte=since, started_at__lte=now
    )
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(events) | Exists(progress) | Exists(attempts))
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=2000)
    )


def _compute(learners: list[User], now: datetime, report: WarmReport) -> dict[int, dict]:
    """The chunk's dashboards; if the chunk fails, one by one, so a learner's bad data only
    costs that learner's entry."""
    try:
        return learner_dashboards(learners=learners, now=now)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Dashboard chunk failed; computing its learners one by one")
    computed = {}
    for learner in learners:
        try:
            computed[learner.pk] = learner_dashboard(learner=learner, now=now)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            logger.exception("Dashboard of learner %s failed", learner.pk)
            report.failed.append(learner.pk)
    return computed


def warm_dashboards(
    *,
    learner_ids: Iterable[int],
    now: datetime,
    chunk_size: int = WARM_CHUNK,
    on_chunk: Callable[[WarmReport], None] | None = None,
) -> WarmReport:
    """Compute the learners' dashboards in chunks and store them as the read path would.

    Each entry goes under the learner's version read before its data: a write committing
    during the computation moves the version on, so the entry becomes unreachable instead
    of stale. Inside a transaction nothing is stored (its writes may not commit), and an
    unreachable Redis stops the run (the reads compute without it). ``on_chunk`` gets the
    running report after each chunk.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")
    report = WarmReport()
    if transaction.get_connection().in_atomic_block:
        report.stopped = "inside a transaction"
        return report
    for chunk in chunked(learner_ids, chunk_size):
        versions = learner_versions(chunk)
        if versions is None:
            report.stopped = "Redis unreachable"
            logger.warning("Dashboard warm stopped: Redis unreachable")
            break
        learners = list(User.objects.select_related("profile").filter(pk__in=chunk).order_by("pk"))
        computed = _compute(learners, now, report)
        entries = {
            _entry_key(learner.pk, versions[learner.pk]): _entry(learner, computed[learner.pk], now)
            for learner in learners
            if learner.pk in computed
        }
        try:
            cache.set_many(entries, timeout=CACHE_TTL)
        except redis.exceptions.RedisError:
            report.stopped = "Redis unreachable"
            logger.warning("Dashboard warm stopped: Redis unreachable")
            break
        report.learners += len(learners)
        report.stored += len(entries)
        if on_chunk is not None:
            on_chunk(report)
    return report


def warm_active_dashboards(
    *,
    now: datetime,
    days: int = ACTIVE_DAYS,
    chunk_size: int = WARM_CHUNK,
    on_chunk: Callable[[WarmReport], None] | None = None,
) -> WarmReport:
    """The beat task's run: warm every recently active learner (``recently_active_learner_ids``).

    A run still in progress (a lock held for at most WARM_PERIOD) makes the next one a
    no-op, so a slow run and the next beat never compute the same dashboards twice.
    """
    token = uuid.uuid4().hex
    try:
        acquired = cache.add(WARM_LOCK, token, timeout=WARM_PERIOD)
    except redis.exceptions.RedisError:
        return WarmReport(stopped="Redis unreachable")
    if not acquired:
        return WarmReport(stopped="another warm run is in progress")
    try:
        return warm_dashboards(
            learner_ids=recently_active_learner_ids(now=now, days=days),
            now=now,
            chunk_size=chunk_size,
            on_chunk=on_chunk,
        )
    finally:
        try:
            if cache.get(WARM_LOCK) == token:
                cache.delete(WARM_LOCK)
        except redis.exceptions.RedisError:
            logger.warning("Could not release the dashboard warm lock; it expires by itself")
