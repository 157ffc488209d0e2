"""The adaptivity benchmark (``manage.py simulate_adaptivity``; figures in BENCHMARKS.md).

Each simulated learner gets a goal (four skills the catalogue teaches, target level 7),
takes the diagnostic, gets a path, follows it course by course (lessons and quizzes through
the services; a quiz's new evidence may re-plan the path, and the learner follows the new
version), then revises what it still does not know. The same learner, from the same
starting knowledge, also takes the fixed curriculum in a counterfactual branch: every
course teaching a goal skill, in catalogue order, no skipping, then the same revision.
Learners come in groups by how many of their goal skills they know at the start
(``GROUPS``). Measured, with the truth known:

- diagnostic accuracy: share of (learner, skill asked) the platform classifies correctly as
  mastered (state proficient or mastered, what a goal counts as reached) or not, against
  the hidden state right after the diagnostic; questions asked per skill;
- wasted path time: share of the minutes the learner spends following the path (the
  lessons it asks for, along every re-planned version, and the course challenges and
  skill checks it suggests first, ``insights.paths`` "Test out first") on skills the
  learner already knew when the first version was made (a lesson's minutes times its share
  of known skills, a question's minutes when its skill was known); beside it, the same share of the
  first version's lessons as planned (its courses less the lessons it says to skip);
- time to goal: simulated study hours until every goal skill is known, adaptive (diagnostic,
  path, quizzes, revision) against the fixed curriculum (courses, quizzes, revision); beside
  it, the hours of path courses that teach no goal skill (prerequisites the locks ask for,
  which the fixed curriculum, outside the locks, never takes);
- recommendation precision: share of revision cards (after the diagnostic and after the
  path's courses and quizzes) on skills the learner truly does not know at that moment.
  The revision that follows (``_revise``, for time to goal) studies off the platform, so
  cards are scored before it: the platform cannot know about study it never saw.

Which skill model the platform runs (``SkillModelSource``): the one the database holds (the
defaults on a fresh ``seed_demo --cohort 0``); or, with ``history``, the one the weekly
re-fit (``insights.skills.fit_skill_parameters``, the job's own code) stores after that many
other learners of the same world went through the same steps first, with the nightly item
analysis (``insights.ml.irt.refresh_item_analysis``: the IRT difficulties the diagnostic
picks items by) run on their answers too, which is the platform in operation; or, as an
experiment only, the world's true per-skill parameters, which is the most any fit of this
model could give.

The run happens inside one transaction that is rolled back (unless ``keep``), so the
benchmark leaves the database as it found it and can be re-run cheaply after any change to
the services it drives.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from assessments.models import Assessment
from insights.diagnostic import MINUTES_PER_QUESTION
from insights.mastery import CONFIRMING, FAMILIAR_MASTERY
from insights.ml.irt import refresh_item_analysis
from insights.models import (
    LearnerSkillState,
    LearningPathSnapshot,
    QuestionItemAnalysis,
    Recommendation,
)
from insights.paths import PathError, left_out_lesson_ids
from insights.services import learning_path_generate
from insights.sim.driver import (
    Actor,
    CatalogView,
    analyze_if_due,
    create_learner,
    revision_skill,
)
from insights.sim.generative import SimLearner, World, load_params
from insights.skills import ABILITY_KEY, FittedSkillModel, fit_skill_parameters, skill_model_store
from learning.services import goal_create

GOAL_SKILLS = 4
GOAL_TARGET = 7
WEEKLY_HOURS = 5.0
# Revision after the course work: at most this many lessons per skill still not known.
MAX_REVISION_LESSONS = 12
# Learner groups by the share of their goal skills known at the start (None: drawn from
# the fitted priors).
GROUPS: dict[str, float | None] = {"none": 0.0, "half": 0.5, "most": 0.75, "drawn": None}
TARGETS = {
    "diagnostic_accuracy": 0.90,
    "questions_per_skill": 4,
    "wasted_share": 0.05,
    "half_group_saving": 0.30,
    "recommendation_precision": 0.80,
}
# Course steps a learner takes along a path that keeps being re-planned, at most.
MAX_PATH_STEPS = 40
# History learners are other learners of the same world: their seeds start here.
HISTORY_SEED_OFFSET = 1_000_000
# The weekly re-fit's default (insights.tasks.refit_skill_model).
REFIT_MIN_ANSWERS = 50
DATABASE_MODEL = "the database's (defaults when none is fitted)"


# When revision cards are scored.
AFTER_DIAGNOSTIC = "after the diagnostic"
AFTER_PATH = "after the path"
STAGES = (AFTER_DIAGNOSTIC, AFTER_PATH)


@dataclass
class PathTime:
    """Minutes spent following a path, and those on skills already known."""

    minutes: float = 0.0
    wasted: float = 0.0
    challenges: int = 0
    skill_checks: int = 0
    # Lesson minutes in courses that teach no goal skill (prerequisites the platform's
    # locks ask for): the fixed curriculum, which ignores the locks, has none of them.
    prerequisite_minutes: float = 0.0

    def add(self, minutes: float, known_share: float) -> None:
        self.minutes += minutes
        self.wasted += minutes * known_share


@dataclass
class LearnerOutcome:
    group: str
    diagnosed: list[tuple[bool, bool, bool]] = field(default_factory=list)  # truth, state, p
    questions_per_skill: float = 0.0
    # The first path version's lessons as planned, and the path as followed (lessons and
    # course challenges), with the minutes of each on skills known when it was made.
    path_minutes: float = 0.0
    wasted_minutes: float = 0.0
    followed: PathTime = field(default_factory=PathTime)
    adaptive_hours: float = 0.0
    fixed_hours: float = 0.0
    # Revision cards and the precise ones, by when they were scored.
    revisions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    revisions_precise: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    reached_adaptive: bool = False
    reached_fixed: bool = False
    path_error: str = ""
    blocked_lessons: int = 0


@dataclass(frozen=True)
class ItemRecovery:
    """How closely the item analysis's fitted difficulties follow the world's true ones,
    within skills (both centred on each skill's mean: only the gaps between a skill's
    questions are fitted, ``insights.ml.irt``)."""

    questions: int
    correlation: float

    def line(self) -> str:
        return (
            f"item analysis: fitted difficulties follow the world's true ones at r = "
            f"{self.correlation:.2f} within skills ({self.questions} questions fitted)"
        )


def item_recovery(world: World) -> ItemRecovery | None:
    """The stored IRT difficulties (fitted ones, not predicted) against ``world``'s."""
    rows = list(
        QuestionItemAnalysis.objects.filter(difficulty_predicted=False)
        .exclude(irt_difficulty=None)
        .values_list("question_id", "question__skill_id", "question__difficulty", "irt_difficulty")
    )
    by_skill: dict[int, list[tuple[float, float]]] = {}
    for question_id, skill_id, label, fitted in rows:
        true = world.item_difficulty(question_id=question_id, label=label)
        by_skill.setdefault(skill_id, []).append((fitted, true))
    fitted_gaps, true_gaps = [], []
    for pairs in by_skill.values():
        fitted_mean = statistics.fmean(f for f, _ in pairs)
        true_mean = statistics.fmean(t for _, t in pairs)
        fitted_gaps += [f - fitted_mean for f, _ in pairs]
        true_gaps += [t - true_mean for _, t in pairs]
    if len(fitted_gaps) < 3 or statistics.pstdev(fitted_gaps) == 0:
        return None
    return ItemRecovery(
        questions=len(fitted_gaps), correlation=statistics.correlation(fitted_gaps, true_gaps)
    )


@dataclass
class BenchmarkReport:
    learners: int
    seed: int
    seconds: float
    outcomes: list[LearnerOutcome]
    skill_model: str = DATABASE_MODEL
    # The item analysis against the world's true difficulties, when it ran (``history``).
    item_recovery: ItemRecovery | None = None

    def _share(self, pairs: list[tuple[int, int]]) -> float | None:
        hits = sum(a for a, _ in pairs)
        total = sum(b for _, b in pairs)
        return hits / total if total else None

    @property
    def diagnostic_accuracy(self) -> float | None:
        rows = [d for o in self.outcomes for d in o.diagnosed]
        return sum(t == s for t, s, _ in rows) / len(rows) if rows else None

    @property
    def diagnostic_accuracy_familiar(self) -> float | None:
        rows = [d for o in self.outcomes for d in o.diagnosed]
        return sum(t == p for t, _, p in rows) / len(rows) if rows else None

    @property
    def questions_per_skill(self) -> float | None:
        values = [o.questions_per_skill for o in self.outcomes if o.diagnosed]
        return statistics.fmean(values) if values else None

    @property
    def wasted_share(self) -> float | None:
        return self._share([(o.followed.wasted, o.followed.minutes) for o in self.outcomes])

    @property
    def wasted_share_planned(self) -> float | None:
        return self._share([(o.wasted_minutes, o.path_minutes) for o in self.outcomes])

    @property
    def recommendation_precision(self) -> float | None:
        return self.precision_at(*STAGES)

    def precision_at(self, *stages: str) -> float | None:
        return self._share(
            [(o.revisions_precise[s], o.revisions[s]) for o in self.outcomes for s in stages]
        )

    def cards_at(self, *stages: str) -> int:
        return sum(o.revisions[s] for o in self.outcomes for s in stages)

    def hours(self, group: str) -> tuple[float, float] | None:
        rows = [o for o in self.outcomes if o.group == group]
        if not rows:
            return None
        return (
            statistics.fmean(o.adaptive_hours for o in rows),
            statistics.fmean(o.fixed_hours for o in rows),
        )

    def saving(self, group: str) -> float | None:
        hours = self.hours(group)
        if hours is None or not hours[1]:
            return None
        return 1 - hours[0] / hours[1]

    def lines(self) -> list[str]:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{100 * value:.1f} %"

        def verdict(ok: bool | None) -> str:
            return "n/a" if ok is None else ("met" if ok else "NOT met")

        acc, qps = self.diagnostic_accuracy, self.questions_per_skill
        wasted, precision = self.wasted_share, self.recommendation_precision
        half = self.saving("half")
        never_more = all((self.saving(g) or 0) >= 0 for g in GROUPS if self.hours(g))
        out = [
            f"Adaptivity benchmark: {self.learners} simulated learners, seed {self.seed}, "
            f"{self.seconds:.0f} s",
            f"skill model: {self.skill_model}",
            *([self.item_recovery.line()] if self.item_recovery else []),
            f"diagnostic accuracy: {pct(acc)} (familiar or better: "
            f"{pct(self.diagnostic_accuracy_familiar)}); questions per skill: "
            + ("n/a" if qps is None else f"{qps:.2f}")
            + " -> target >= 90 % with <= 4: "
            + verdict(
                None
                if acc is None or qps is None
                else acc >= TARGETS["diagnostic_accuracy"] and qps <= TARGETS["questions_per_skill"]
            ),
            f"wasted path time (as followed): {pct(wasted)} -> target <= 5 %: "
            + verdict(None if wasted is None else wasted <= TARGETS["wasted_share"]),
            f"  first version's lessons as planned: {pct(self.wasted_share_planned)}; course "
            f"challenges taken first: {sum(o.followed.challenges for o in self.outcomes)}; "
            f"skill checks: {sum(o.followed.skill_checks for o in self.outcomes)}",
            "time to goal (mean simulated hours, adaptive vs fixed curriculum):",
        ]
        for group in GROUPS:
            hours = self.hours(group)
            if hours is None:
                continue
            rows = [o for o in self.outcomes if o.group == group]
            reached = sum(o.reached_adaptive for o in rows), sum(o.reached_fixed for o in rows)
            prerequisites = statistics.fmean(o.followed.prerequisite_minutes for o in rows) / 60
            out.append(
                f"  {group:<6} {len(rows):>4} learners: {hours[0]:6.1f} h vs {hours[1]:6.1f} h "
                f"({pct(self.saving(group))} fewer; goal reached {reached[0]} / {reached[1]}; "
                f"{prerequisites:.1f} h of prerequisite courses teaching no goal skill)"
            )
        out.append(
            f"  half-group saving {pct(half)} -> target >= 30 %: "
            + verdict(None if half is None else half >= TARGETS["half_group_saving"])
            + "; never more hours for any group: "
            + verdict(never_more)
        )
        total = self.cards_at(*STAGES)
        out.append(
            f"recommendation precision: {pct(precision)} of {total} revision cards -> "
            "target >= 80 %: "
            + verdict(
                None if precision is None else precision >= TARGETS["recommendation_precision"]
            )
        )
        out.extend(
            f"  {stage}: {pct(self.precision_at(stage))} of {self.cards_at(stage)}"
            for stage in STAGES
        )
        blocked = sum(o.blocked_lessons for o in self.outcomes)
        errors = sum(bool(o.path_error) for o in self.outcomes)
        out.append(f"lessons the platform kept locked: {blocked}; learners with no path: {errors}")
        return out


def _revise(
    *,
    mind: SimLearner,
    skills: list[str],
    catalog: CatalogView,
    spend: Callable[[float], None],
    now: Callable[[], datetime],
) -> bool:
    """Revise each goal skill still not known, lesson by lesson; True when all are known."""
    for skill in skills:
        lessons = [
            lesson
            for course in catalog.courses
            for lesson in catalog.lessons[course.pk]
            if skill in catalog.lesson_skills[lesson.pk]
        ]
        for index in range(MAX_REVISION_LESSONS if lessons else 0):
            mind.pass_time(now=now())
            if mind.known[skill]:
                break
            lesson = lessons[index % len(lessons)]
            spend(lesson.estimated_minutes)
            mind.study(skills=[skill], minutes=lesson.estimated_minutes, now=now())
    return all(mind.known[s] for s in skills)


def _follow_path(
    *,
    actor: Actor,
    goal_id: int,
    catalog: CatalogView,
    known: dict[str, bool],
    goal_skills: list[str],
) -> PathTime:
    """Study the goal's path as it stands, course by course: its course challenge first when
    the path suggests it, then the lessons it asks for, then the course's quiz once. A
    graded challenge or quiz may re-plan the path on its new evidence (a course or lessons
    drop out, a skipped lesson comes back: ``insights.services.learning_paths_replan``);
    the learner follows the new version. A lesson the platform kept locked is tried again
    only on a new version. Returns the minutes spent, and those on the skills ``known``
    when the path was made."""
    spent = PathTime()
    courses = {course.pk: course for course in catalog.courses}
    quizzed: set[int] = set()
    challenged: set[int] = set()
    checked: set[str] = set()
    blocked: dict[int, int] = {}  # lesson id -> the path version it was locked under
    for _ in range(MAX_PATH_STEPS):
        snapshot = LearningPathSnapshot.objects.filter(goal_id=goal_id, is_active=True).first()
        if snapshot is None:
            return spent
        for item in snapshot.items:
            if item.get("type", "course") != "course":
                continue
            if item.get("challenge") and item["id"] not in challenged:
                break
            if any(check["skill"] not in checked for check in item.get("skill_checks", [])):
                break
            passed = left_out_lesson_ids(item) | actor.completed_lessons
            passed |= {lesson for lesson, version in blocked.items() if version == snapshot.version}
            todo = [
                lesson for lesson in catalog.lessons.get(item["id"], []) if lesson.pk not in passed
            ]
            if todo or item["id"] not in quizzed:
                break
        else:
            return spent
        checks = [c["skill"] for c in item.get("skill_checks", []) if c["skill"] not in checked]
        if (item.get("challenge") and item["id"] not in challenged) or checks:
            asked_before = dict(actor.answers_by_skill)
            if checks:
                checked.update(checks)
                spent.skill_checks += sum(
                    actor.take_skill_check(skill=slug, catalog=catalog) is not None
                    for slug in checks
                )
            else:
                challenged.add(item["id"])
                if actor.take_challenge(course=courses[item["id"]], catalog=catalog) is not None:
                    spent.challenges += 1
            for skill, asked in actor.answers_by_skill.items():
                minutes = (asked - asked_before.get(skill, 0)) * MINUTES_PER_QUESTION
                spent.add(minutes, float(known.get(skill, False)))
            continue
        for lesson in todo:
            if not actor.study_lesson(lesson=lesson, catalog=catalog):
                blocked[lesson.pk] = snapshot.version
                continue
            skills = catalog.lesson_skills_or_course(lesson)
            share = sum(known[s] for s in skills) / len(skills) if skills else 0.0
            spent.add(lesson.estimated_minutes, share)
            if not _teaches_any(catalog, item["id"], goal_skills):
                spent.prerequisite_minutes += lesson.estimated_minutes
        if item["id"] not in quizzed and item["id"] in catalog.quizzes:
            actor.take(assessment=catalog.quizzes[item["id"]], catalog=catalog)
        quizzed.add(item["id"])
    return spent


def _teaches_any(catalog: CatalogView, course_id: int, skills: list[str]) -> bool:
    """The course teaches one of ``skills``: what the fixed curriculum takes."""
    return bool(set(catalog.course_skills[course_id]) & set(skills))


def _fixed_curriculum(
    *, mind: SimLearner, goal_skills: list[str], catalog: CatalogView, start: datetime
) -> tuple[float, bool]:
    """Hours for every course teaching a goal skill, in catalogue order, then revision."""
    clock = {"now": start, "minutes": 0.0}

    def spend(minutes: float) -> None:
        clock["minutes"] += minutes
        clock["now"] += timedelta(days=7 * minutes / (60 * WEEKLY_HOURS))

    for course in catalog.courses:
        if not _teaches_any(catalog, course.pk, goal_skills):
            continue
        for lesson in catalog.lessons[course.pk]:
            spend(lesson.estimated_minutes)
            mind.study(
                skills=catalog.lesson_skills[lesson.pk],
                minutes=lesson.estimated_minutes,
                now=clock["now"],
            )
        quiz = catalog.quizzes.get(course.pk)
        if quiz is not None:
            for question in catalog.questions_of(quiz):
                difficulty = mind.world.item_difficulty(
                    question_id=question.pk, label=question.difficulty
                )
                mind.answer(
                    skill=question.skill.slug,
                    difficulty=difficulty,
                    now=clock["now"],
                    teaches=True,
                )
                spend(MINUTES_PER_QUESTION)
    reached = _revise(
        mind=mind, skills=goal_skills, catalog=catalog, spend=spend, now=lambda: clock["now"]
    )
    return clock["minutes"] / 60, reached


def _diagnosed(*, actor: Actor, skills: list[str]) -> list[tuple[bool, bool, bool]]:
    states = {
        s.skill.slug: s
        for s in LearnerSkillState.objects.filter(
            learner=actor.user, skill__slug__in=skills
        ).select_related("skill")
    }
    rows = []
    for slug in skills:
        state = states.get(slug)
        named = state.mastery_at(actor.now).state if state else None
        rows.append(
            (
                actor.mind.known[slug],
                named in CONFIRMING,
                state is not None and state.mastery >= FAMILIAR_MASTERY,
            )
        )
    return rows


def _score_revisions(
    outcome: LearnerOutcome, actor: Actor, catalog: CatalogView, *, stage: str
) -> None:
    for card in actor.follow_up():
        if card.kind != Recommendation.Kind.REVISION:
            continue
        skills = [s for s in revision_skill(card, catalog) if s in actor.mind.known]
        if not skills:
            continue
        outcome.revisions[stage] += 1
        outcome.revisions_precise[stage] += not all(actor.mind.known[s] for s in skills)


def simulate_learner(
    *,
    index: int,
    group: str,
    world: World,
    catalog: CatalogView,
    diagnostic: Assessment,
    now: datetime,
    email_prefix: str,
) -> LearnerOutcome:
    rng = random.Random(f"goal-{world.seed}-{index}")
    taught = sorted({s for skills in catalog.course_skills.values() for s in skills})
    goal_skills = sorted(rng.sample(taught, min(GOAL_SKILLS, len(taught))))
    share = GROUPS[group]
    known = None
    if share is not None:
        knows = set(rng.sample(goal_skills, round(share * len(goal_skills))))
        known = {s: s in knows for s in goal_skills}
    mind = SimLearner.draw(world=world, seed=index, now=now, known=known)
    counterfactual = mind.clone(branch="fixed")
    outcome = LearnerOutcome(group=group)

    user = create_learner(email=f"{email_prefix}-{index}@sim.skillstudio.test", full_name="")
    actor = Actor(user=user, mind=mind, now=now, weekly_hours=WEEKLY_HOURS)
    goal = goal_create(
        learner=user,
        title="Simulated goal",
        target_levels=dict.fromkeys(goal_skills, GOAL_TARGET),
        weekly_hours=WEEKLY_HOURS,
        now=actor.now,
    )
    actor.take(assessment=diagnostic, catalog=catalog)
    asked = sorted(actor.answers_by_skill)
    outcome.diagnosed = _diagnosed(actor=actor, skills=asked)
    outcome.questions_per_skill = (
        statistics.fmean(actor.answers_by_skill.values()) if asked else 0.0
    )
    try:
        snapshot = learning_path_generate(goal=goal, now=actor.now).snapshot
        items = [i for i in snapshot.items if i.get("type", "course") == "course"]
    except PathError as exc:
        outcome.path_error = str(exc)
        items = []
    skips = {item["id"]: left_out_lesson_ids(item) for item in items}
    for item in items:
        for lesson in catalog.lessons.get(item["id"], []):
            if lesson.pk in skips[item["id"]]:
                continue
            skills = catalog.lesson_skills_or_course(lesson)
            outcome.path_minutes += lesson.estimated_minutes
            if skills:
                known = sum(mind.known[s] for s in skills) / len(skills)
                outcome.wasted_minutes += lesson.estimated_minutes * known
    known_at_path = dict(mind.known)
    _score_revisions(outcome, actor, catalog, stage=AFTER_DIAGNOSTIC)
    if items:
        outcome.followed = _follow_path(
            actor=actor,
            goal_id=goal.pk,
            catalog=catalog,
            known=known_at_path,
            goal_skills=goal_skills,
        )
    _score_revisions(outcome, actor, catalog, stage=AFTER_PATH)
    outcome.reached_adaptive = _revise(
        mind=mind,
        skills=goal_skills,
        catalog=catalog,
        spend=actor.spend,
        now=lambda: actor.now,
    )
    outcome.adaptive_hours = actor.study_minutes / 60
    outcome.blocked_lessons = actor.blocked_lessons
    outcome.fixed_hours, outcome.reached_fixed = _fixed_curriculum(
        mind=counterfactual, goal_skills=goal_skills, catalog=catalog, start=now
    )
    return outcome


class BenchmarkError(Exception):
    pass


def true_skill_model(world: World) -> FittedSkillModel:
    """The world's own per-skill parameters and ability weights, in the stored model's form
    (an experiment: the ceiling of what fitting this model could give)."""
    parameters = {slug: params.as_dict() for slug, params in world.skills.items()}
    parameters[ABILITY_KEY] = world.params.ability_weights.as_dict()
    return FittedSkillModel(
        parameters=parameters,
        metrics={"source": f"the simulated world's true parameters (seed {world.seed})"},
        window_start=None,
        window_end=None,
    )


def run_benchmark(
    *,
    learners: int,
    seed: int,
    now: datetime,
    keep: bool = False,
    history: int = 0,
    true_model: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkReport:
    """Simulate ``learners`` learners (groups in turn) against the current catalogue, after
    ``history`` other learners and the weekly re-fit, or with the world's true parameters
    as the skill model (``true_model``, an experiment)."""
    if history and true_model:
        raise BenchmarkError("Choose either a history to fit on or the true model, not both.")
    started = time.perf_counter()
    diagnostic = (
        Assessment.objects.filter(kind=Assessment.Kind.DIAGNOSTIC, is_published=True)
        .order_by("id")
        .first()
    )
    if diagnostic is None:
        raise BenchmarkError("No published diagnostic: load the demo world with seed_demo first.")
    outcomes: list[LearnerOutcome] = []
    recovery = None
    with transaction.atomic():
        catalog = CatalogView.load()
        world = World.draw(
            skill_slugs={s for skills in catalog.course_skills.values() for s in skills}
            | {q.skill.slug for q in catalog.questions_of(diagnostic)},
            seed=seed,
            params=load_params(),
        )
        groups = list(GROUPS)
        skill_model = DATABASE_MODEL

        def simulate(index: int, prefix: str) -> LearnerOutcome:
            return simulate_learner(
                index=index,
                group=groups[index % len(groups)],
                world=world,
                catalog=catalog,
                diagnostic=diagnostic,
                now=now,
                email_prefix=f"{prefix}-{seed}-{int(now.timestamp())}",
            )

        for index in range(history):
            simulate(HISTORY_SEED_OFFSET + index, "history")
            analyze_if_due(index + 1)
            if progress and (index + 1) % 50 == 0:
                progress(f"  history: {index + 1} / {history} learners")
        if history:
            # The nightly item analysis (IRT difficulties the diagnostic picks items by),
            # then the weekly re-fit, as the scheduled jobs would have run by then.
            refresh_item_analysis(now=now)
            recovery = item_recovery(world)
            fitted = fit_skill_parameters(min_answers=REFIT_MIN_ANSWERS)
            stored = skill_model_store(fitted=fitted, now=now)
            skill_model = (
                f"version {stored.version}, fitted by the weekly re-fit on "
                f"{fitted.metrics['answers']:,} answers after {history} history learners "
                "(and the nightly item analysis); ability and item weights "
                f"{fitted.metrics['ability']}"
            )
        if true_model:
            skill_model_store(fitted=true_skill_model(world), now=now)
            skill_model = "the world's true parameters (an experiment, not the product)"
        for index in range(learners):
            outcomes.append(simulate(index, "adaptivity"))
            analyze_if_due(history + index + 1)
            if progress and (index + 1) % 50 == 0:
                progress(f"  {index + 1} / {learners} learners")
        if not keep:
            transaction.set_rollback(True)
    return BenchmarkReport(
        learners=learners,
        seed=seed,
        seconds=time.perf_counter() - started,
        outcomes=outcomes,
        skill_model=skill_model,
        item_recovery=recovery,
    )
