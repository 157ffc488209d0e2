"""The learner dashboard: the seed's JSON shape, gathered in a bounded number of queries.

``learner_dashboards`` computes the dashboards of a chunk of learners with the chunk
building blocks: each aggregates in SQL for all the learners at once (GROUP BY learner) or
reads catalogue-sized rows, and the blocks share the learners' skill levels, recent scores,
skips and session totals, so the query count depends neither on the chunk's size nor on how
many answers, events or lessons lie behind it. ``learner_dashboard`` is the chunk of one.

Serving (``cached_learner_dashboard``) reads Redis first, at two levels:

- the whole dashboard, keyed on the learner's combined data version
  (skillstudio.data_versions): a hit costs no query;
- on a miss, its sections (``SECTIONS``: the building blocks above, one entry per learner
  each), each keyed only on the versions of the kinds of data it reads. A write moves only
  the kinds it changed on (an events batch ``ACTIVITY``, a lesson completion ``PROGRESS``,
  a quiz ``QUIZ``, a recommendation refresh ``RECOMMENDATIONS``; any other write every
  kind), so the view after a write recomputes only the sections that write touched and
  assembles the dashboard from those and the cached rest, with the same code as a build
  from scratch.

Both levels are valid for one local calendar day:

- every write path moves its versions on after its commit, so an entry is never read after
  the data behind it changed;
- the streak and "today" change at the learner's local midnight, so an entry is only served
  on the local date it was computed for (checked against the zone stored with it, which
  costs no query: the learner's profile is not read on a hit; a zone change is a profile
  write, which moves every version);
- the sliding windows (30/90 days, goal pace) move with the clock: entries live CACHE_TTL.

Refresh-ahead keeps the entries of learners who use the product filled, so their reads
hit: every WARM_PERIOD seconds the ``insights.warm_dashboards`` beat task queues every
recently active learner in chunks that the workers recompute in parallel (``warm_fan_out``,
``warm_run_chunk``), and the write follow-up task warms the learner it refreshed. CACHE_TTL
is twice WARM_PERIOD, so an entry is still valid when the next run rewrites it (as long as
a run takes under WARM_PERIOD: add workers on the bulk queue when it does not).

Maximum staleness of a served dashboard: none for the learner's own data and the local date;
for the time-window figures, up to twice CACHE_TTL (20 minutes): a dashboard assembled
after a write from sections cached up to CACHE_TTL earlier is itself kept CACHE_TTL, and
``generated_at`` says when its oldest section was computed (the beat's runs rewrite the
entries of recently active learners every WARM_PERIOD). When Redis is unreachable,
dashboards are computed on every read, never an error.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import redis.exceptions
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import AssessmentAttempt
from insights.analytics import (
    ENGAGEMENT_DAYS,
    NO_LESSONS,
    NO_QUIZZES,
    ActivityFigures,
    NextStep,
    StrugglingTopic,
    activity_figures,
    build_insights,
    current_streaks,
    event_histograms,
    goal_paces_for,
    goal_standings_for,
    lesson_figures,
    patterns_from,
    quiz_figures,
    recently_measured,
    session_totals,
    summary_from,
    topics_from_scores,
)
from insights.mastery import NOT_ASSESSED_MASTERY, target_reached
from insights.ml.segments import segment_entry
from insights.models import Recommendation, RecommendationCard
from insights.recommendations import (
    difficulty_advice_for,
    next_lessons_for,
    revision_lessons_for,
    revision_rests_for,
    revisions_beside,
)
from insights.rules import STRUGGLING_BELOW, SUMMARY_DAYS
from insights.selectors import (
    MESSAGES_TTL,
    SkillLevel,
    learner_timezone,
    recent_skill_scores_for,
    recently_skipped_for,
    recommendations_open,
    shown_skills,
    skill_levels_for,
    unread_message_entries,
    with_card_targets,
)
from learning.locks import LockGraphs, lock_facts_and_enrollments_for, lock_facts_for
from learning.models import Enrollment, LearnerEvent, LessonProgress
from learning.selectors import EnrollmentRow, active_paths_by_learner, enrollments_by_learner
from skillstudio.chunks import chunked
from skillstudio.data_versions import (
    ACTIVITY,
    OTHER,
    PROGRESS,
    QUIZ,
    RECOMMENDATIONS,
    catalog_version_of,
    combined_version,
    learner_kind_versions,
)
from skillstudio.jobs import TRANSIENT_ERRORS, send_untracked

logger = logging.getLogger(__name__)

RECOMMENDATION_CARDS = 10
# The beat task's period, and the entries' lifetime: twice the period, so a warmed entry
# outlives the gap until the next run has rewritten it.
WARM_PERIOD = 300
CACHE_TTL = 2 * WARM_PERIOD
# Learners with any event, lesson progress or quiz attempt this recently get warmed.
ACTIVE_DAYS = 14
WARM_CHUNK = 200
# Held while a warm run is in progress (its token is the value), so a slow run and the
# next beat never overlap. It expires a little before the next beat: a run takes it a
# moment after its beat (its message waits for a free worker process), and a lock living
# the full period would still be held when the next beat comes, so a run that overran
# would skip a whole period instead of being superseded.
WARM_LOCK = "dashboard-warm:running"
WARM_LOCK_TTL = WARM_PERIOD - 30
# The fan-out's chunk task, and how long a run's figures are kept (``warm_run_record``).
WARM_CHUNK_TASK = "insights.warm_dashboard_chunk"
WARM_RECORD_TTL = 3600
# Says whether a response was served from the cache (the benchmark reports the hit ratio).
CACHE_HEADER = "X-Dashboard-Cache"


def _recommendation_cards(*, learner_ids: list[int]) -> dict[int, list[Recommendation]]:
    """Each learner's best active recommendations whose links open, in one query.

    A learner has few active recommendations (each refresh replaces its set and stale ones
    expire), so keeping the first ten per learner here costs less CPU than ranking them in
    SQL with a window function, which the ORM compiles into a subquery.
    """
    cards: dict[int, list[Recommendation]] = {learner_id: [] for learner_id in learner_ids}
    for rec in (
        with_card_targets(
            recommendations_open(
                Recommendation.objects.filter(
                    learner_id__in=learner_ids, status=Recommendation.Status.ACTIVE
                )
            )
        )
        # The model's ordering, as the dashboard page always listed them; id breaks ties.
        .order_by("learner_id", "-score", "-created_at", "id")
    ):
        if len(cards[rec.learner_id]) < RECOMMENDATION_CARDS:
            cards[rec.learner_id].append(rec)
    return cards


# Each section of a learner's dashboard data and the kinds of data it reads (besides the
# catalogue, which every entry's key includes). A section that takes another as input
# reads at least that one's kinds. The profile (zone, difficulty, segment) is "other"
# data: a profile write moves every kind on.
SECTIONS: dict[str, tuple[str, ...]] = {
    "levels": (QUIZ,),  # skill states and the profile's mirror of their levels
    "scores": (QUIZ,),  # recent answers per skill
    "skipped": (RECOMMENDATIONS,),  # recommendations skipped within the cooldown
    "sessions": (ACTIVITY,),  # study sessions over the summary and engagement windows
    "histograms": (ACTIVITY,),  # events by local hour, weekday and date
    "lessons": (PROGRESS,),  # lessons started and completed; study time by content type
    "quizzes": (QUIZ,),  # quiz count, average and trend
    "streak": (ACTIVITY, PROGRESS, QUIZ),  # days with events, completions or quizzes
    # Active goals with their targets, and the achieved ones (insights.analytics.GoalStanding;
    # named apart from v4's "goals" section, the active goals alone, so none is read).
    "goal_standing": (OTHER,),
    "paths": (OTHER,),  # the active goals' current paths: paces and next-up read them
    "enrollments": (PROGRESS,),  # every enrollment: paces and next-up read them
    # Goals' paths and the lessons completed in them (insights.path_progress; named apart
    # from v4's "paces", counted from enrollment progress, so none of those is read).
    "goal_paces": (OTHER, PROGRESS),
    "facts": (PROGRESS, QUIZ),  # what the lock rule reads
    "next_up": (PROGRESS, QUIZ, RECOMMENDATIONS, OTHER),  # the paths' skips
    "revision": (PROGRESS, QUIZ, RECOMMENDATIONS, OTHER),  # goal skills count as studied
    "revision_rests": (PROGRESS, QUIZ, RECOMMENDATIONS, OTHER),  # why "Revise" is empty
    "difficulty": (QUIZ, OTHER),  # recent quiz scores, the profile's level
    "cards": (RECOMMENDATIONS,),
    "segment": (OTHER,),  # the profile's stored segment
}
# Sections read from the learner's activity rows: whichever of them a build lacks come
# from one query (insights.analytics.activity_figures), each still cached on its own kinds.
ACTIVITY_SECTIONS = ("sessions", "histograms", "streak")
# Sections read from the learner's lesson progress and enrollments: when a build lacks both
# (after a lesson action), they come from one query (learning.locks.lock_facts_and_enrollments_for).
PROGRESS_SECTIONS = ("facts", "enrollments")
# What the assembly reads; "paths", "enrollments", "facts" and "skipped" only feed other
# sections.
SHOWN = [name for name in SECTIONS if name not in ("paths", "enrollments", "facts", "skipped")]


class _Gathering:
    """The sections of a chunk of learners: given (from the cache) or computed on demand,
    each at most once, for the learners that lack it."""

    def __init__(
        self,
        learners: list[User],
        now: datetime,
        given: dict[str, dict[int, Any]],
        catalog_version: str | None = None,
    ) -> None:
        self.learners = learners
        self.now = now
        # The catalogue's lock graphs, memoised per catalogue version when it is known.
        self.graphs = LockGraphs(catalog_version)
        self.values = {name: dict(given.get(name, {})) for name in SECTIONS}
        self.computed: dict[str, set[int]] = {name: set() for name in SECTIONS}
        # The activity sections read together (``_read_activity``), for these learners.
        self.activity: tuple[set[int], ActivityFigures] | None = None
        # The progress sections read together (``_read_progress``), for these learners.
        self.progress: tuple[set[int], dict[str, dict[int, Any]]] | None = None

    def get(self, name: str, learners: list[User]) -> dict[int, Any]:
        have = self.values[name]
        missing = [learner for learner in learners if learner.pk not in have]
        if missing:
            if name in ACTIVITY_SECTIONS:
                self._read_activity(missing)
            if name in PROGRESS_SECTIONS:
                self._read_progress(missing)
            have.update(self._section(name, missing))
            self.computed[name].update(learner.pk for learner in missing)
        return {learner.pk: have[learner.pk] for learner in learners}

    def _read_activity(self, learners: list[User]) -> None:
        """The activity sections any of these learners lack, in one query."""
        ids = {learner.pk for learner in learners}
        if self.activity is not None and ids <= self.activity[0]:
            return
        lacking = {name for name in ACTIVITY_SECTIONS if not ids <= set(self.values[name])}
        now = self.now
        figures = activity_figures(
            learners=learners,
            now=now,
            session_windows=(
                [now - timedelta(days=SUMMARY_DAYS), now - timedelta(days=ENGAGEMENT_DAYS)]
                if "sessions" in lacking
                else None
            ),
            histograms="histograms" in lacking,
            streaks="streak" in lacking,
        )
        self.activity = (ids, figures)

    def _read_progress(self, learners: list[User]) -> None:
        """The lock facts and the enrollments in one query when these learners lack both."""
        ids = {learner.pk for learner in learners}
        if any(ids & set(self.values[name]) for name in PROGRESS_SECTIONS):
            return
        facts, enrollments = lock_facts_and_enrollments_for(learner_ids=sorted(ids), now=self.now)
        self.progress = (ids, {"facts": facts, "enrollments": enrollments})

    def _progress_for(self, name: str, ids: list[int]) -> dict[int, Any] | None:
        """What ``_read_progress`` read of section ``name``, if it covers these learners."""
        if self.progress is not None and set(ids) <= self.progress[0]:
            read = self.progress[1][name]
            return {pk: read[pk] for pk in ids}
        return None

    def _activity_for(self, ids: list[int]) -> ActivityFigures | None:
        """What ``_read_activity`` read, if it covers these learners."""
        if self.activity is not None and set(ids) <= self.activity[0]:
            return self.activity[1]
        return None

    def _section(self, name: str, learners: list[User]) -> dict[int, Any]:
        now, ids = self.now, [learner.pk for learner in learners]
        if name == "levels":
            return skill_levels_for(learners=learners)
        if name == "scores":
            return recent_skill_scores_for(learner_ids=ids)
        if name == "skipped":
            return recently_skipped_for(learner_ids=ids, now=now)
        read = self._activity_for(ids)
        if name == "sessions":
            # Both windows in one pass over the events (SessionTotals per window).
            windows = [now - timedelta(days=SUMMARY_DAYS), now - timedelta(days=ENGAGEMENT_DAYS)]
            totals = read.sessions if read and read.sessions is not None else None
            if totals is None:
                totals = session_totals(learner_ids=ids, windows=windows, until=now)
            return {pk: tuple(totals[since][pk] for since in windows) for pk in ids}
        if name == "histograms":
            if read and read.histograms is not None:
                return {pk: read.histograms[pk] for pk in ids}
            return event_histograms(learners=learners, now=now)
        if name == "lessons":
            counts, content = lesson_figures(learner_ids=ids, now=now, days=SUMMARY_DAYS)
            return {pk: (counts.get(pk, NO_LESSONS), content[pk]) for pk in ids}
        if name == "quizzes":
            quizzes = quiz_figures(learner_ids=ids, now=now, days=SUMMARY_DAYS)
            return {pk: quizzes.get(pk, NO_QUIZZES) for pk in ids}
        if name == "streak":
            if read and read.streaks is not None:
                return {pk: read.streaks[pk] for pk in ids}
            return current_streaks(learners=learners, now=now)
        if name == "goal_standing":
            return goal_standings_for(learner_ids=ids)
        if name == "paths":
            return active_paths_by_learner(learner_ids=ids)
        if name == "enrollments":
            read = self._progress_for(name, ids)
            return read if read is not None else enrollments_by_learner(learner_ids=ids)
        if name == "goal_paces":
            goals = {pk: own.active for pk, own in self.get("goal_standing", learners).items()}
            paths = self.get("paths", learners)
            paces = goal_paces_for(
                learners=learners,
                goals=[goal for own in goals.values() for goal in own],
                now=now,
                enrollments=self.get("enrollments", learners),
                plans={
                    goal_id: plan for own in paths.values() for goal_id, plan in own.plans.items()
                },
            )
            return {pk: {goal.pk: paces[goal.pk] for goal in goals[pk]} for pk in ids}
        if name == "facts":
            read = self._progress_for(name, ids)
            return read if read is not None else lock_facts_for(learner_ids=ids, now=now)
        if name == "next_up":
            return next_lessons_for(
                learner_ids=ids,
                now=now,
                skipped=self.get("skipped", learners),
                facts=self.get("facts", learners),
                graphs=self.graphs,
                enrollments=self.get("enrollments", learners),
                path_skips={pk: own.skips for pk, own in self.get("paths", learners).items()},
            )
        if name == "revision":
            return revision_lessons_for(
                learners=learners,
                now=now,
                scores=self.get("scores", learners),
                levels=self.get("levels", learners),
                skipped=self.get("skipped", learners),
                facts=self.get("facts", learners),
                graphs=self.graphs,
                goal_skills={
                    pk: {
                        target.skill.slug
                        for goal in own.active
                        for target in goal.target_skills.all()
                    }
                    for pk, own in self.get("goal_standing", learners).items()
                },
            )
        if name == "revision_rests":
            # Only for an empty "Revise" panel (what the page shows beside "Next").
            revision, next_up = self.get("revision", learners), self.get("next_up", learners)
            empty = [
                learner
                for learner in learners
                if not revisions_beside(revision[learner.pk], next_up[learner.pk])
            ]
            rests = revision_rests_for(
                learners=empty,
                now=now,
                scores=self.get("scores", empty),
                levels=self.get("levels", empty),
            )
            return {pk: rests.get(pk, []) for pk in ids}
        if name == "difficulty":
            return difficulty_advice_for(learners=learners, now=now)
        if name == "cards":
            return _recommendation_cards(learner_ids=ids)
        if name == "segment":
            return {learner.pk: segment_entry(learner=learner, now=now) for learner in learners}
        raise ValueError(f"Unknown dashboard section {name!r}")

    def dashboards(self, *, generated_at: dict[int, datetime] | None = None) -> dict[int, dict]:
        """Every learner's dashboard from the sections (computing the missing ones)."""
        got = {name: self.get(name, self.learners) for name in SHOWN}
        # Whether an empty "Next lessons" is for want of a course (the page's wording).
        enrollments = self.get("enrollments", self.learners)
        generated_at = generated_at or {}
        return {
            learner.pk: _dashboard(
                learner=learner,
                now=self.now,
                generated_at=generated_at.get(learner.pk, self.now),
                enrollments=enrollments[learner.pk],
                **{name: got[name][learner.pk] for name in SHOWN},
            )
            for learner in self.learners
        }


def learner_dashboards(*, learners: list[User], now: datetime) -> dict[int, dict]:
    """Everything the dashboard shows, as plain JSON-ready data, for each of the learners.

    A fixed number of queries for any number of learners (24 in the tests, one more
    when a learner has a weak skill and nothing to revise); pass
    the learners with ``select_related("profile")`` or each profile costs one more.
    """
    return _Gathering(learners, now, {}).dashboards()


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
        "short_of": mastery.short_of(target.target_level),
    }


def _goal(*, goal, levels: dict[str, SkillLevel], pace, now: datetime) -> dict:
    """One active goal's card: its targets with the learner's states, and whether every
    one is reached (the moment a skill check settles the last one, the card says so and
    offers to mark the goal achieved)."""
    targets = [
        _target_skill(target=target, level=levels.get(target.skill.slug), now=now)
        for target in goal.target_skills.all()
    ]
    return {
        "id": goal.pk,
        "title": goal.title,
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "weekly_hours": float(goal.weekly_hours),
        "target_skills": targets,
        "all_targets_reached": bool(targets) and all(t["target_reached"] for t in targets),
        "pace": pace.as_dict(),
    }


def _revision_steps(*, cards: list[Recommendation], revision: list) -> list[NextStep]:
    """The revision lessons the page offers, by skill: the learner's active revision cards
    first, then the "Revise" list (both only hold lessons the learner can open now)."""
    steps = [
        NextStep("lesson", rec.payload["skill"], rec.title, rec.url)
        for rec in cards
        if rec.kind == Recommendation.Kind.REVISION and rec.payload.get("skill")
    ]
    steps += [
        NextStep(
            "lesson",
            item.skill,
            item.title,
            reverse("learning:lesson", kwargs={"lesson_id": item.lesson_id}),
        )
        for item in revision
    ]
    return steps


def _skill_check_step(topic: StrugglingTopic) -> NextStep:
    return NextStep(
        "skill_check",
        topic.skill,
        f"Take a skill check in {topic.name}",
        reverse("assessments:skill_check", kwargs={"skill_slug": topic.skill}),
    )


def _study_step(topic: StrugglingTopic) -> NextStep:
    return NextStep(
        "courses",
        topic.skill,
        f"Courses teaching {topic.name}",
        f"{reverse('catalog:course_list')}?{urlencode({'skill': topic.skill})}",
    )


def _dashboard(
    *, learner, now, generated_at, levels, scores, sessions, histograms, lessons, quizzes,
    streak, goal_standing, goal_paces, next_up, revision, revision_rests, difficulty, cards,
    segment, enrollments,
) -> dict:  # fmt: skip
    """One learner's dashboard from their sections (``SECTIONS``)."""
    summary = summary_from(
        days=SUMMARY_DAYS, lesson=lessons[0], quiz=quizzes, seconds=sessions[0][1], streak=streak
    )
    patterns = patterns_from(
        sessions=sessions[1],
        histograms=histograms,
        content=lessons[1],
        timezone=learner_timezone(learner).key,
    )
    topics = topics_from_scores(scores, STRUGGLING_BELOW, shown=shown_skills(levels, now))
    # "Revise" leaves out the lessons shown as "Next" (the message may still name one:
    # it is where the weak topic's study starts, and it is not a second card).
    revise = [item for _, item in revisions_beside(revision, next_up)]
    insights = build_insights(
        summary=summary,
        topics=topics,
        patterns=patterns,
        paces=[goal_paces[goal.pk] for goal in goal_standing.active],
        segment=segment,
        revision=_revision_steps(cards=cards, revision=revision),
        skill_check=_skill_check_step,
        measured=recently_measured(scores, now),
        study=_study_step,
    )
    return {
        "performance_summary": summary.as_dict(),
        "current_goals": [
            _goal(goal=goal, levels=levels, pace=goal_paces[goal.pk], now=now)
            for goal in goal_standing.active
        ],
        "achieved_goals": goal_standing.achieved,
        "ended_goals": goal_standing.ended,
        "recommended_next_lessons": [item.as_dict() for item in next_up],
        "next_lessons_note": "" if next_up else _next_lessons_note(enrollments),
        "revision_recommendations": [item.as_dict() for item in revise],
        "revision_note": _revision_note(revision_rests) if not revise else "",
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
        "generated_at": generated_at.isoformat(),
    }


NOTHING_NEXT = (
    "Nothing to take next in your courses: every lesson left is done, in a course you "
    "tested out of, one your learning path lets you skip, locked behind a prerequisite (its "
    "course page says how to unlock it), or one you set aside here recently."
)


def _next_lessons_note(enrollments: list[EnrollmentRow]) -> str:
    """Why "Next lessons" is empty for a learner enrolled in a course (empty when they are
    not: the page then points at the catalogue)."""
    active = any(
        row.status == Enrollment.Status.ACTIVE and row.course_published for row in enrollments
    )
    return NOTHING_NEXT if active else ""


NOTHING_TO_REVISE = "Nothing to revise right now."


def _revision_note(rests: list[str]) -> str:
    """Why "Revise" is empty: the weak skills that wait, each with its reason."""
    if not rests:
        return NOTHING_TO_REVISE
    return f"Nothing to revise right now. {'. '.join(rests)}."


def learner_dashboard(*, learner: User, now: datetime) -> dict:
    """One learner's dashboard (see ``learner_dashboards``)."""
    return learner_dashboards(learners=[learner], now=now)[learner.pk]


def _entry_key(learner_id: int, version: str) -> str:
    # "v4": dashboards carry the achieved goals; older entries (v3: zone and local date,
    # cards in RecommendationCard's shape, no achieved goals) are never read. Sections
    # ("dashboard:v4:<section>:…") never clash: a section's name is not a number.
    return f"dashboard:v4:{learner_id}:{version}"


def _section_key(name: str, learner_id: int, kind_versions: dict[str, str]) -> str:
    return f"dashboard:v4:{name}:{learner_id}:{combined_version(kind_versions, SECTIONS[name])}"


def _entry(learner: User, data: Any, now: datetime) -> dict:
    zone = learner_timezone(learner)
    return {
        "zone": zone.key,
        "local_date": now.astimezone(zone).date().isoformat(),
        "at": now.isoformat(),
        "data": data,
    }


def _valid_today(entry: dict, now: datetime) -> bool:
    """Whether the entry was computed for the learner's local date at ``now``."""
    zone = ZoneInfo(entry["zone"])
    return now.astimezone(zone).date().isoformat() == entry["local_date"]


def _from_sections(
    learners: list[User],
    now: datetime,
    versions: dict[int, dict[str, str]],
    cached: dict,
) -> tuple[dict[int, dict], dict[str, dict]]:
    """The learners' dashboards from their sections: the ``cached`` entries still valid
    today, the rest computed. Returns the dashboards and the entries to store: each
    dashboard under its combined version, each section computed under its own key.

    The lock graphs' catalogue rows come through the memo of the learners' catalogue
    version (``learning.locks.LockGraphs``, shared between processes): a warm run's
    chunks read each course once between them, and the web workers then find the rows of
    their learners' courses there."""
    given: dict[str, dict[int, Any]] = {name: {} for name in SECTIONS}
    oldest: dict[int, datetime] = {}
    for learner in learners:
        for name in SECTIONS:
            entry = cached.get(_section_key(name, learner.pk, versions[learner.pk]))
            if entry is not None and _valid_today(entry, now):
                given[name][learner.pk] = entry["data"]
                at = datetime.fromisoformat(entry["at"])
                oldest[learner.pk] = min(at, oldest.get(learner.pk, now))
    catalog = {catalog_version_of(own) for own in versions.values()}
    gathering = _Gathering(learners, now, given, catalog.pop() if len(catalog) == 1 else None)
    dashboards = gathering.dashboards(generated_at=oldest)
    entries = {}
    for learner in learners:
        own = versions[learner.pk]
        entries[_entry_key(learner.pk, combined_version(own))] = _entry(
            learner, dashboards[learner.pk], now
        )
        for name, computed in gathering.computed.items():
            if learner.pk in computed:
                entries[_section_key(name, learner.pk, own)] = _entry(
                    learner, gathering.values[name][learner.pk], now
                )
    return dashboards, entries


def cached_learner_dashboard(
    *, learner: User, now: datetime, kind_versions: dict[str, str] | None = None
) -> tuple[dict, bool]:
    """``learner_dashboard`` through the cache: the data, and whether it came whole from
    the cache. On a miss only the sections whose data changed are computed (``SECTIONS``).

    Inside a transaction the cache is neither read nor filled: the transaction may see its
    own uncommitted writes (whose version bump waits for the commit) and may still roll
    back. Redis being unreachable only costs the computation, never an error.
    ``kind_versions``: the learner's data versions (``learner_kind_versions``) when the
    caller has just read them for other entries too (the page's messages); else read here.
    """
    if transaction.get_connection().in_atomic_block:
        return learner_dashboard(learner=learner, now=now), False
    # The versions are read before the data: a write committing meanwhile moves a version
    # on, so whatever is computed from it is stored under a key nobody reads any more.
    versions = (
        {learner.pk: kind_versions}
        if kind_versions is not None
        else learner_kind_versions([learner.pk])
    )
    if versions is None:
        return learner_dashboard(learner=learner, now=now), False
    own = versions[learner.pk]
    try:
        cached = cache.get(_entry_key(learner.pk, combined_version(own)))
        if cached is not None and _valid_today(cached, now):
            return cached["data"], True
        sections = cache.get_many([_section_key(name, learner.pk, own) for name in SECTIONS])
    except redis.exceptions.RedisError:
        logger.warning("Dashboard cache unreachable; computing without it")
        return learner_dashboard(learner=learner, now=now), False
    dashboards, entries = _from_sections([learner], now, versions, sections)
    try:
        cache.set_many(entries, timeout=CACHE_TTL)
    except redis.exceptions.RedisError:
        logger.warning("Dashboard cache unreachable; not storing learner %s", learner.pk)
    return dashboards[learner.pk], False


def refresh_learner_dashboard(*, learner_id: int, now: datetime) -> bool:
    """A write's follow-up: the learner's dashboard stored ahead of their next visit, built
    as that visit would build it (``cached_learner_dashboard``): the sections the writes
    left valid are reused, so a completion's follow-up recomputes what its refresh moved,
    not every section as a warm run does. False, and nothing computed, when nothing could
    be stored: inside a transaction, with Redis unreachable, or the learner gone."""
    if transaction.get_connection().in_atomic_block:
        return False
    versions = learner_kind_versions([learner_id])
    if versions is None:
        return False
    learner = User.objects.select_related("profile").filter(pk=learner_id).first()
    if learner is None:
        return False
    cached_learner_dashboard(learner=learner, now=now, kind_versions=versions[learner_id])
    return True


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


def _compute(
    learners: list[User], now: datetime, versions: dict[int, dict[str, str]], report: WarmReport
) -> dict[str, dict]:
    """The chunk's entries (every section recomputed: the windows move with the clock); if
    the chunk fails, one by one, so a learner's bad data only costs that learner's entries."""
    try:
        return _from_sections(learners, now, versions, {})[1]
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Dashboard chunk failed; computing its learners one by one")
    entries: dict[str, dict] = {}
    for learner in learners:
        try:
            entries.update(_from_sections([learner], now, versions, {})[1])
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            logger.exception("Dashboard of learner %s failed", learner.pk)
            report.failed.append(learner.pk)
    return entries


def warm_dashboards(
    *,
    learner_ids: Iterable[int],
    now: datetime,
    chunk_size: int = WARM_CHUNK,
    on_chunk: Callable[[WarmReport], None] | None = None,
) -> WarmReport:
    """Compute the learners' dashboards in chunks and store them (and their sections, and
    the unread messages the page shows beside them) as the read path would.

    Each entry goes under the learner's versions read before its data: a write committing
    during the computation moves a version on, so the entry becomes unreachable instead
    of stale. Inside a transaction nothing is stored (its writes may not commit), and an
    unreachable Redis stops the run (the reads compute without it). ``on_chunk`` gets the
    running report after each chunk; ``stored`` counts the dashboards stored.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")
    report = WarmReport()
    if transaction.get_connection().in_atomic_block:
        report.stopped = "inside a transaction"
        return report
    for chunk in chunked(learner_ids, chunk_size):
        versions = learner_kind_versions(chunk)
        if versions is None:
            report.stopped = "Redis unreachable"
            logger.warning("Dashboard warm stopped: Redis unreachable")
            break
        learners = list(User.objects.select_related("profile").filter(pk__in=chunk).order_by("pk"))
        entries = _compute(learners, now, versions, report)
        try:
            cache.set_many(entries, timeout=CACHE_TTL)
            # What the page reads beside the dashboard, so its first view after a run hits
            # too; after the dashboards, so a failure here costs only these entries.
            cache.set_many(_message_entries(versions), timeout=MESSAGES_TTL)
        except redis.exceptions.RedisError:
            report.stopped = "Redis unreachable"
            logger.warning("Dashboard warm stopped: Redis unreachable")
            break
        report.learners += len(learners)
        report.stored += len(learners) - len([pk for pk in report.failed if pk in chunk])
        if on_chunk is not None:
            on_chunk(report)
    return report


def _message_entries(versions: dict[int, dict[str, str]]) -> dict[str, list]:
    """The chunk's unread-messages entries, or none if reading them fails (the page then
    reads each learner's on its first view, as without a warm run)."""
    try:
        return unread_message_entries(versions=versions)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Unread messages of a dashboard chunk failed; not warmed")
        return {}


def _warm_lock_acquire() -> str | None:
    """A new run's token, or None while another run holds the lock (RedisError if down)."""
    token = uuid.uuid4().hex
    return token if cache.add(WARM_LOCK, token, timeout=WARM_LOCK_TTL) else None


def _warm_lock_release(token: str) -> None:
    try:
        if cache.get(WARM_LOCK) == token:
            cache.delete(WARM_LOCK)
    except redis.exceptions.RedisError:
        logger.warning("Could not release the dashboard warm lock; it expires by itself")


def warm_active_dashboards(
    *,
    now: datetime,
    days: int = ACTIVE_DAYS,
    chunk_size: int = WARM_CHUNK,
    on_chunk: Callable[[WarmReport], None] | None = None,
) -> WarmReport:
    """Warm every recently active learner (``recently_active_learner_ids``) in this process:
    the ``warm_dashboards`` command's run. Holds the beat's lock, so it never overlaps a
    fan-out run (``warm_fan_out``) and vice versa.
    """
    try:
        token = _warm_lock_acquire()
    except redis.exceptions.RedisError:
        return WarmReport(stopped="Redis unreachable")
    if token is None:
        return WarmReport(stopped="another warm run is in progress")
    try:
        return warm_dashboards(
            learner_ids=recently_active_learner_ids(now=now, days=days),
            now=now,
            chunk_size=chunk_size,
            on_chunk=on_chunk,
        )
    finally:
        _warm_lock_release(token)


@dataclass
class WarmFanOut:
    """What the beat task's fan-out queued: ``run`` is the token its chunks carry."""

    learners: int = 0
    chunks: int = 0
    run: str = ""
    stopped: str = ""


def _run_key(run: str, figure: str) -> str:
    return f"dashboard-warm:{run}:{figure}"


def warm_fan_out(
    *, now: datetime | None, days: int = ACTIVE_DAYS, chunk_size: int = WARM_CHUNK
) -> WarmFanOut:
    """The beat task's run: one ``insights.warm_dashboard_chunk`` message per ``chunk_size``
    recently active learners, on the bulk queue, so every worker computes a share of the
    run (``warm_run_chunk``) and it fits in WARM_PERIOD at any number of learners that the
    workers' CPU covers.

    The run holds WARM_LOCK from here until its last chunk finishes (at most WARM_LOCK_TTL),
    so a beat does nothing while it is in progress; a run outliving its period is
    superseded by the next one, whose chunks cover the same learners. Its figures (chunks
    left, learners stored and failed, start and end) are kept in Redis for WARM_RECORD_TTL
    (``warm_run_record``). The chunks go straight to the broker, not through the outbox: a
    lost one costs its learners a miss until the next run, and at scale a run is hundreds
    of messages every five minutes. ``now``: the moment to compute at (tests); None, each
    chunk's own clock.
    """
    try:
        run = _warm_lock_acquire()
    except redis.exceptions.RedisError:
        return WarmFanOut(stopped="Redis unreachable")
    if run is None:
        return WarmFanOut(stopped="another warm run is in progress")
    moment = now or timezone.now()
    try:
        chunks = list(chunked(recently_active_learner_ids(now=moment, days=days), chunk_size))
        fan_out = WarmFanOut(learners=sum(map(len, chunks)), chunks=len(chunks), run=run)
        if not chunks:
            _warm_lock_release(run)
            return fan_out
        cache.set_many(
            {
                _run_key(run, "learners"): fan_out.learners,
                _run_key(run, "chunks"): fan_out.chunks,
                _run_key(run, "left"): fan_out.chunks,
                _run_key(run, "stored"): 0,
                _run_key(run, "failed"): 0,
                _run_key(run, "started_at"): time.time(),
            },
            timeout=WARM_RECORD_TTL,
        )
    except BaseException:
        _warm_lock_release(run)
        raise
    at = now.isoformat() if now else None
    sent, error = send_untracked(
        WARM_CHUNK_TASK, [{"learner_ids": chunk, "run": run, "now": at} for chunk in chunks]
    )
    if error:
        # The unsent chunks' learners wait for the next beat, which may start at once.
        _warm_lock_release(run)
        fan_out.stopped = f"broker unreachable after {sent} of {len(chunks)} chunks: {error}"
    return fan_out


def warm_run_chunk(*, learner_ids: list[int], run: str, now: datetime) -> WarmReport:
    """One chunk of a fan-out run (``warm_fan_out``), warmed as ``warm_dashboards`` does.

    Skipped when a newer run holds the lock (this one outlived its period and the newer
    one queued these learners again). The run's last chunk releases its lock and logs
    the run's figures; a redelivered chunk counts twice, which at worst frees the lock
    early.
    """
    try:
        holder = cache.get(WARM_LOCK)
    except redis.exceptions.RedisError:
        return WarmReport(stopped="Redis unreachable")
    if holder is not None and holder != run:
        return WarmReport(stopped="superseded by a newer run")
    report = warm_dashboards(learner_ids=learner_ids, now=now)
    try:
        cache.incr(_run_key(run, "stored"), report.stored)
        cache.incr(_run_key(run, "failed"), len(report.failed))
        left = cache.decr(_run_key(run, "left"))
    except ValueError:  # the run's record expired: nothing left to count or release
        return report
    except redis.exceptions.RedisError:
        logger.warning("Dashboard warm run %s: chunk not counted (Redis unreachable)", run)
        return report
    if left <= 0:
        finished = time.time()
        cache.set(_run_key(run, "finished_at"), finished, timeout=WARM_RECORD_TTL)
        _warm_lock_release(run)
        record = warm_run_record(run)
        logger.info(
            "Dashboard warm run %s finished: %s learners in %s chunks, %s stored, %s failed, "
            "%.1f s", run, record["learners"], record["chunks"], record["stored"],
            record["failed"], finished - record["started_at"],
        )  # fmt: skip
    return report


def warm_run_record(run: str) -> dict[str, Any] | None:
    """A fan-out run's figures while they are kept (WARM_RECORD_TTL), else None: learners
    and chunks queued, chunks left, dashboards stored, learners failed, started_at and
    finished_at (Unix times; finished_at only once its last chunk is done)."""
    figures = ("learners", "chunks", "left", "stored", "failed", "started_at", "finished_at")
    record = cache.get_many([_run_key(run, figure) for figure in figures])
    if not record:
        return None
    return {figure: record.get(_run_key(run, figure)) for figure in figures}
