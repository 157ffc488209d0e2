"""The demo cohort: simulated learners over the last eight weeks, through the services.

``seed_cohort`` (called by ``manage.py seed_demo``) draws a few hundred learners from the
simulator's generative model and lets each live through the platform as a learner would:
sign up, maybe set a goal and take the diagnostic, get a path, study lessons session by
session (with the browser's events), take each course's quiz, and sometimes drop out or go
quiet. Every learner-facing row is written by the service a page or the API would call, at
the simulated time (``now`` injected). Then, as the nightly jobs would: fresh
recommendations for everyone, the predictive models trained and activated (dropout risk,
segments, course and lesson CF), risks scored, item analysis run.

Idempotent: a database that already has cohort learners gets nothing new. The learners'
deferred follow-ups are run here, in bulk, at the simulated time, so the outbox rows they
left are removed rather than sent to a worker that would recompute the same cards.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from assessments.models import Assessment
from insights.ml import cf, dropout, segments
from insights.ml.dropout import score_active_enrollments
from insights.ml.irt import refresh_item_analysis
from insights.ml.training import train_model
from insights.models import LearningPathSnapshot, PendingJob, Recommendation
from insights.paths import PathError
from insights.recommendations import recommendations_refresh
from insights.services import learning_path_generate, recommendation_act
from insights.sim.driver import (
    Actor,
    CatalogView,
    analyze_if_due,
    analyze_simulated_tables,
    create_learner,
)
from insights.sim.generative import SimLearner, World, load_params
from learning.events import MAX_EVENTS, ingest_events
from learning.models import Enrollment, LearnerEvent, LearningGoal
from learning.partitions import ensure_month_partition, month_start, next_month
from learning.services import enrollment_drop, goal_create
from skillstudio.jobs import LEARNER_FOLLOW_UP

COHORT_DOMAIN = "cohort.skillstudio.test"
COHORT_SIZE = 160
COHORT_WEEKS = 8
COHORT_SEED = 7
FIRST_NAMES = (
    "Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kofi",
    "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Vik",
    "Wen", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Huang", "Ito",
    "Jansen", "Kowalski", "Lopez", "Meyer", "Nowak", "Okafor", "Petrov", "Rossi", "Silva",
)  # fmt: skip
TIMEZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")
Log = Callable[[str], None]


@dataclass
class CohortSummary:
    learners: int = 0
    seconds: float = 0.0
    steps: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        if not self.learners:
            return "already present"
        done = "; ".join(f"{name}: {value}" for name, value in self.steps.items())
        return f"{self.learners} simulated learners in {self.seconds:.1f} s ({done})"


@dataclass(frozen=True)
class Persona:
    """How one cohort learner studies: dice drawn once, from the learner's seed."""

    start_day: float  # days after the cohort's start
    gap_days: float  # between study sessions
    lessons_per_session: int
    quit_per_session: float
    sets_goal: bool
    takes_diagnostic: bool

    @classmethod
    def draw(cls, rng: random.Random, *, weeks: int) -> Persona:
        steady = rng.random() < 0.6
        return cls(
            start_day=rng.uniform(0, 7 * weeks - 14),
            gap_days=rng.uniform(1.5, 4) if steady else rng.uniform(4, 10),
            lessons_per_session=1 if rng.random() < 0.7 else 2,
            quit_per_session=rng.choice((0.0, 0.03, 0.08, 0.2)),
            sets_goal=rng.random() < 0.7,
            takes_diagnostic=rng.random() < 0.7,
        )


def _lesson_events(actor: Actor, *, lesson_id: int, course_id: int, minutes: float) -> list[dict]:
    """What the lesson page's script would send for one studied lesson."""
    start = actor.now - timedelta(minutes=minutes)
    ids = {"course_id": course_id, "lesson_id": lesson_id}
    kinds = [
        (LearnerEvent.Type.LESSON_VIEWED, start),
        (LearnerEvent.Type.LESSON_STARTED, start + timedelta(seconds=5)),
        *[
            (LearnerEvent.Type.HEARTBEAT, start + timedelta(minutes=m))
            for m in range(5, int(minutes), 10)
        ],
        (LearnerEvent.Type.LESSON_COMPLETED, actor.now),
    ]
    return [
        {"event_id": str(uuid.uuid4()), "type": kind, "occurred_at": at.isoformat(), **ids}
        for kind, at in kinds
    ]


def _send_events(actor: Actor, events: list[dict]) -> None:
    """The page's script sends its events in batches (here: the learner's, at the end)."""
    for start in range(0, len(events), MAX_EVENTS):
        ingest_events(learner=actor.user, events=events[start : start + MAX_EVENTS], now=actor.now)


def _live(
    *,
    actor: Actor,
    persona: Persona,
    rng: random.Random,
    catalog: CatalogView,
    diagnostic: Assessment | None,
    end: datetime,
) -> None:
    """One learner's weeks on the platform, through the services."""
    events: list[dict] = []
    try:
        _study(
            actor=actor,
            persona=persona,
            rng=rng,
            catalog=catalog,
            diagnostic=diagnostic,
            end=end,
            events=events,
        )
    finally:
        _send_events(actor, events)


def _study(
    *,
    actor: Actor,
    persona: Persona,
    rng: random.Random,
    catalog: CatalogView,
    diagnostic: Assessment | None,
    end: datetime,
    events: list[dict],
) -> None:
    user = actor.user
    taught = sorted({s for skills in catalog.course_skills.values() for s in skills})
    course_ids: list[int] = []
    if persona.sets_goal:
        goal = goal_create(
            learner=user,
            title="Get job-ready",
            target_levels={s: rng.randint(6, 8) for s in rng.sample(taught, rng.randint(2, 3))},
            weekly_hours=actor.weekly_hours,
            now=actor.now,
        )
        if diagnostic is not None and persona.takes_diagnostic:
            actor.take(assessment=diagnostic, catalog=catalog)
        try:
            snapshot = learning_path_generate(goal=goal, now=actor.now).snapshot
            course_ids = [i["id"] for i in snapshot.items if i.get("type", "course") == "course"]
        except PathError:
            course_ids = []
    if not course_ids:
        course_ids = [rng.choice(catalog.courses).pk]
    for course_id in course_ids[:2]:
        lessons = list(catalog.lessons.get(course_id, []))
        while lessons:
            if actor.now >= end:
                return
            for lesson in lessons[: persona.lessons_per_session]:
                if actor.study_lesson(lesson=lesson, catalog=catalog):
                    events += _lesson_events(
                        actor,
                        lesson_id=lesson.pk,
                        course_id=course_id,
                        minutes=lesson.estimated_minutes,
                    )
            lessons = lessons[persona.lessons_per_session :]
            if rng.random() < persona.quit_per_session:
                enrollment = Enrollment.objects.filter(learner=user, course_id=course_id).first()
                if enrollment is not None and rng.random() < 0.5:
                    with contextlib.suppress(ValidationError):
                        enrollment_drop(enrollment=enrollment, now=actor.now)
                return  # gone quiet (or dropped)
            actor.now += timedelta(days=persona.gap_days * rng.uniform(0.6, 1.4))
        quiz = catalog.quizzes.get(course_id)
        if quiz is not None and actor.now < end:
            actor.take(assessment=quiz, catalog=catalog)


def _step(summary: CohortSummary, name: str, log: Log, action: Callable[[], str]) -> None:
    """Run one nightly-job step; a step the data cannot support is reported, not fatal."""
    started = time.perf_counter()
    try:
        result = action()
    except ValueError as exc:
        result = f"skipped ({exc})"
    summary.steps[name] = result
    log(f"  {name}: {result} ({time.perf_counter() - started:.1f} s)")


def seed_cohort(
    *,
    now: datetime,
    size: int = COHORT_SIZE,
    seed: int = COHORT_SEED,
    demo_learner: User | None = None,
    log: Log = lambda _: None,
) -> CohortSummary:
    summary = CohortSummary()
    if size <= 0 or User.objects.filter(email__endswith=f"@{COHORT_DOMAIN}").exists():
        return summary
    started = time.perf_counter()
    begin = now - timedelta(weeks=COHORT_WEEKS)
    month = month_start(begin.date())
    while month <= now.date():
        ensure_month_partition(month)
        month = next_month(month)
    first_job = PendingJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    diagnostic = (
        Assessment.objects.filter(kind=Assessment.Kind.DIAGNOSTIC, is_published=True)
        .order_by("id")
        .first()
    )
    with transaction.atomic():
        catalog = CatalogView.load()
        world = World.draw(
            skill_slugs={s for skills in catalog.course_skills.values() for s in skills}
            | ({q.skill.slug for q in catalog.questions_of(diagnostic)} if diagnostic else set()),
            seed=seed,
            params=load_params(),
        )
        ids: list[int] = []
        for index in range(size):
            rng = random.Random(f"cohort-{seed}-{index}")
            persona = Persona.draw(rng, weeks=COHORT_WEEKS)
            start = begin + timedelta(days=persona.start_day)
            user = create_learner(
                email=f"learner{index + 1:03d}@{COHORT_DOMAIN}",
                full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                timezone=rng.choice(TIMEZONES),
            )
            mind = SimLearner.draw(world=world, seed=index, now=start)
            actor = Actor(user=user, mind=mind, now=start, weekly_hours=rng.choice((3, 5, 8)))
            _live(
                actor=actor,
                persona=persona,
                rng=rng,
                catalog=catalog,
                diagnostic=diagnostic,
                end=now - timedelta(days=1),
            )
            ids.append(user.pk)
            analyze_if_due(index + 1)
            if (index + 1) % 50 == 0:
                log(f"  {index + 1} / {size} simulated learners")
        summary.learners = size
        log(f"  learners simulated ({time.perf_counter() - started:.1f} s)")
        # The jobs below query what the cohort filled.
        analyze_simulated_tables()
        if demo_learner is not None:
            goal = (
                LearningGoal.objects.filter(learner=demo_learner, status=LearningGoal.Status.ACTIVE)
                .order_by("id")
                .first()
            )
            if goal is not None and not LearningPathSnapshot.objects.filter(goal=goal).exists():
                with contextlib.suppress(PathError):
                    learning_path_generate(goal=goal, now=now)
            ids.append(demo_learner.pk)
        _finish(summary=summary, learner_ids=ids, now=now, rng=random.Random(seed), log=log)
        # The follow-ups were run above at the simulated time: nothing left for a worker.
        PendingJob.objects.filter(
            pk__gt=first_job, task_name=LEARNER_FOLLOW_UP, status=PendingJob.Status.PENDING
        ).delete()
    summary.seconds = time.perf_counter() - started
    return summary


def _finish(
    *, summary: CohortSummary, learner_ids: list[int], now: datetime, rng: random.Random, log: Log
) -> None:
    """What the nightly jobs would do next, in order: cards, models, risks, item analysis."""

    def refresh() -> str:
        refreshed = recommendations_refresh(learner_ids=learner_ids, now=now)
        return f"{sum(r.active for r in refreshed.values())} active recommendations"

    _step(summary, "recommendations", log, refresh)

    def act() -> str:
        acted = 0
        cards = Recommendation.objects.filter(
            learner_id__in=learner_ids[:-1], status=Recommendation.Status.ACTIVE
        ).order_by("id")
        for card in cards:
            roll = rng.random()
            if roll < 0.15:
                recommendation_act(recommendation=card, action="accepted", now=now)
            elif roll < 0.22:
                recommendation_act(recommendation=card, action="skipped", now=now)
            else:
                continue
            acted += 1
        return f"{acted} cards acted on"

    _step(summary, "acted on", log, act)
    for name in (dropout.MODEL_NAME, segments.MODEL_NAME, cf.MODEL_NAME, cf.LESSON_MODEL_NAME):
        _step(
            summary,
            f"model {name}",
            log,
            lambda name=name: f"version {train_model(name=name, now=now, activate=True).version}",
        )

    def score() -> str:
        result = score_active_enrollments(now=now)
        return f"{result.scored} enrollments scored"

    _step(summary, "risk", log, score)

    def items() -> str:
        report = refresh_item_analysis(now=now)
        return f"{len(report.analysed)} assessments analysed"

    _step(summary, "item analysis", log, items)
