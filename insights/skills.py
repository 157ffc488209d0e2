"""The learner-facing skill model (SPEC R-SKILL, R-MASTERY).

Mastery per learner and skill is the individualised Bayesian Knowledge
Tracing estimate of ``insights.bkt`` (with forgetting), advanced answer by
answer with the skill's parameters and the ability weights of the active
``MLModel`` named ``skill_model`` (fitted by ``fit_skill_model`` with
``bkt.fit_model``, the function ``evaluate_skill_model`` measures). The 1-10
level a learner sees is ``level_from_mastery(mastery)``; the named state
(``insights.mastery``) adds the evidence: answers, distinct questions, time
since practice.

An answer without feedback teaches nothing (``insights.bkt``): each answer
conditions mastery on what it shows (Bayes), but only a quiz or exam answer,
graded and reviewed on the result page, is also followed by the learn/forget
transition. The answers of an adaptive attempt (diagnostic, skill check, course
challenge: ``AssessmentAttempt.is_adaptive``) are asked one by one without
saying whether each was right (the result page marks them only after the last
one, never with the correct answer): they only measure. So wrong diagnostic
answers leave mastery where they point, not lifted by a learning opportunity
each, and the diagnostic's preview, the processed attempt, a replay
(``recompute_learner_skills``) and the fit (``fit_skill_parameters``) all read
them the same way.

Study between answers is a learning opportunity: when the learner completed a
lesson teaching the skill (not skimmed) between two of its answers, a learning
transition (``bkt.study``: learn, no forgetting) follows the earlier answer even
if that answer taught nothing (a diagnostic's), so "diagnosed, studied the
course, then quizzed" is read as the chance to learn it was. One transition per gap however
many lessons: a quiz answer's feedback and the lessons after it are one
opportunity, the unit the fit estimates ``learn`` in (``fit_skill_parameters``
marks the same transitions). Lessons before a skill's first answer are not
counted: the fitted prior is the knowledge at a first answer, after whatever
study came before it.

Unanswered questions are no evidence: a question left blank (or answered "I
don't know") does not move mastery, the evidence counts or the learner's
ability. It still scores zero in the quiz's own score.

Knowledge gaps (returned by ``process_attempt``): the attempt's skills whose
level after the attempt is below the learner's target for that skill. The
target is the highest ``target_level`` among the learner's *active* goals that
name the skill, otherwise ``DEFAULT_GAP_LEVEL`` (5, the middle of the scale).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Max, Q, QuerySet

from accounts.models import LearnerProfile, User
from assessments.models import Answer, AssessmentAttempt
from catalog.models import Lesson, Skill
from insights import bkt
from insights.diagnostic import irt_difficulties, item_difficulty, latest_irt_difficulty
from insights.mastery import NOT_ASSESSED_MASTERY, SkillMastery, describe, level_from_mastery
from insights.models import LearnerSkillState, MLModel
from learning.models import GoalSkill, LearningGoal, LessonProgress
from skillstudio.data_versions import QUIZ, learners_changed

MODEL_NAME = "skill_model"
DEFAULT_GAP_LEVEL = 5
# Key of the ability weights among a stored model's per-skill parameters ("@" is
# not a slug character, so it never collides with a skill).
ABILITY_KEY = "@ability"


class SkillModelError(Exception):
    """An attempt the skill model cannot consume (e.g. not submitted yet)."""


@dataclass(frozen=True)
class SkillUpdate:
    # Level after the attempt for each skill the attempt assessed.
    skill_levels: dict[str, int]
    # Slugs of those skills still below target, weakest first.
    knowledge_gaps: list[str]
    breakdown: dict


@dataclass(frozen=True)
class SkillHistoryPoint:
    attempt_id: int
    assessment: str
    submitted_at: datetime
    questions: int
    correct: int
    percent: float
    level_before: int | None
    level_after: int | None
    mastery: float | None


@dataclass(frozen=True)
class SkillHistory:
    skill: str
    name: str
    level: int | None
    mastery: float | None
    evidence_count: int
    correct_count: int
    last_practiced_at: datetime | None
    days_since_practice: int | None
    state: SkillMastery = NOT_ASSESSED_MASTERY
    points: list[SkillHistoryPoint] = field(default_factory=list)


@dataclass(frozen=True)
class SkillModel:
    """Per-skill BKT parameters of one stored model version (or the defaults)."""

    version: int | None
    params: dict[str, bkt.BKTParams]
    ability: bkt.AbilityParams = bkt.NO_ABILITY

    def for_skill(self, slug: str) -> bkt.BKTParams:
        return self.params.get(slug, bkt.DEFAULT_PARAMS)


def load_skill_model() -> SkillModel:
    """The active ``skill_model`` version's parameters; defaults when none is active."""
    stored = MLModel.objects.filter(name=MODEL_NAME, is_active=True).first()
    if stored is None:
        return SkillModel(version=None, params={})
    stored_params = stored.parameters or {}
    params = {
        slug: bkt.BKTParams.from_dict(values)
        for slug, values in stored_params.items()
        if isinstance(values, dict) and slug != ABILITY_KEY
    }
    ability = stored_params.get(ABILITY_KEY)
    if not isinstance(ability, dict):
        ability = {}
    return SkillModel(
        version=stored.version, params=params, ability=bkt.AbilityParams.from_dict(ability)
    )


# The database's side of response_is_answer: the shapes a question left blank is stored
# in ("I don't know", an unanswered question of a submitted quiz). Whole-document
# comparisons: a key lookup is NULL when the key is absent, which NOT (...) would drop.
BLANK_RESPONSE = (
    Q(response={})
    | Q(response={"choices": []})
    | Q(response={"value": ""})
    | Q(response={"value": None})
    | Q(response={"text": ""})
)


def is_answered(answer: Answer) -> bool:
    """False for a question left blank: no choice, no value, no text."""
    return response_is_answer(answer.response)


def response_is_answer(response: object) -> bool:
    if not isinstance(response, dict):
        return False
    return any(
        value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip())
        for value in response.values()
    )


@dataclass
class _Track:
    """Mutable in-memory copy of one LearnerSkillState while answers are replayed."""

    skill: Skill
    mastery: float | None  # None until the first answered question
    evidence_count: int = 0
    correct_count: int = 0
    question_ids: set[int] = field(default_factory=set)
    last_practiced_at: datetime | None = None
    # Whether the last answer was followed by the learn/forget transition (a quiz's).
    last_taught: bool = False
    state: LearnerSkillState | None = None

    def describe(self, now: datetime) -> SkillMastery:
        return describe(
            level=None if self.mastery is None else level_from_mastery(self.mastery),
            mastery=self.mastery,
            answers=self.evidence_count,
            distinct_questions=len(self.question_ids),
            correct_answers=self.correct_count,
            last_practiced_at=self.last_practiced_at,
            now=now,
        )


@dataclass
class _Recent:
    """The learner's last answered questions on any skill (oldest first): their ability."""

    correct: deque[bool] = field(default_factory=lambda: deque(maxlen=bkt.ABILITY_WINDOW))

    def ability(self, model: SkillModel) -> float:
        return float(bkt.ability(sum(self.correct), len(self.correct), model.ability.base_rate))


def studied_between(times: list[datetime], after: datetime | None, until: datetime) -> bool:
    """A lesson completion in ``times`` (sorted) falls after ``after`` and by ``until``."""
    first = 0 if after is None else bisect_right(times, after)
    return first < len(times) and times[first] <= until


def _lessons_studied(
    *, learner_id: int, skill_ids: Iterable[int] | None
) -> dict[int, list[datetime]]:
    """Per skill id, when the learner completed each lesson teaching it, skims left out
    (a skim is no study), oldest first; every skill when ``skill_ids`` is None."""
    rows = Lesson.skills.through.objects.filter(
        lesson__progress__learner_id=learner_id,
        lesson__progress__status=LessonProgress.Status.COMPLETED,
        lesson__progress__skimmed=False,
    )
    if skill_ids is not None:
        rows = rows.filter(skill_id__in=list(skill_ids))
    studied: dict[int, list[datetime]] = defaultdict(list)
    for skill_id, completed_at in rows.values_list("skill_id", "lesson__progress__completed_at"):
        studied[skill_id].append(completed_at)
    for times in studied.values():
        times.sort()
    return studied


def _ordered_answers(answers: Iterable[Answer]) -> list[Answer]:
    return sorted(answers, key=lambda a: (a.answered_at, a.question.order, a.question_id))


def _apply_attempt(
    *,
    answers: list[Answer],
    tracks: dict[int, _Track],
    recent: _Recent,
    model: SkillModel,
    teaches: bool,
    studied: dict[int, list[datetime]],
) -> dict[str, dict]:
    """Advance the tracks through one attempt's answered questions; return its skill breakdown.

    Each answer runs ``bkt.update`` with the skill's parameters individualised by
    the learner's ability just before it and the question's difficulty, exactly as
    ``bkt.predict`` does in the evaluation; ``teaches`` is False for an adaptive
    attempt, whose answers get Bayes but no learn/forget transition (module
    docstring). ``studied``: per skill id, the learner's lesson completions
    (``_lessons_studied``); study since a skill's last answer that did not teach
    is that answer's transition, applied before the next one. Pure with respect to
    the database: callers decide what to save.
    """
    ordered = _ordered_answers(answers)
    if not ordered:
        return {}
    started, finished = ordered[0].answered_at, ordered[-1].answered_at
    breakdown: dict[str, dict] = {}
    touched: dict[str, _Track] = {}
    for answer in ordered:
        skill = answer.question.skill
        track = tracks.get(skill.id)
        if track is None:
            track = tracks[skill.id] = _Track(skill=skill, mastery=None)
        touched[skill.slug] = track
        entry = breakdown.get(skill.slug)
        if entry is None:
            before = track.describe(started)
            entry = breakdown[skill.slug] = {
                "skill": skill.name,
                "questions": 0,
                "answered": 0,
                "correct": 0,
                "level_before": before.level,
                "state_before": before.state,
            }
        entry["questions"] += 1
        if not is_answered(answer):
            continue
        params = bkt.individualise(
            model.for_skill(skill.slug),
            recent.ability(model),
            model.ability,
            item_difficulty(irt=answer.item_irt, label=answer.question.difficulty),
        )
        if track.mastery is None:
            current = float(params.prior)
        else:
            current = track.mastery
            if not track.last_taught and studied_between(
                studied.get(skill.id, []), track.last_practiced_at, answer.answered_at
            ):
                current = float(bkt.study(current, params))
        track.mastery = float(bkt.update(current, answer.is_correct, params, teaches))
        track.last_taught = teaches
        track.evidence_count += 1
        track.correct_count += int(answer.is_correct)
        track.question_ids.add(answer.question_id)
        if track.last_practiced_at is None or answer.answered_at > track.last_practiced_at:
            track.last_practiced_at = answer.answered_at
        recent.correct.append(bool(answer.is_correct))
        entry["answered"] += 1
        entry["correct"] += int(answer.is_correct)
    for slug, entry in breakdown.items():
        after = touched[slug].describe(finished)
        entry["percent"] = round(100 * entry["correct"] / entry["questions"], 1)
        entry["level_after"] = after.level
        entry["state_after"] = after.state
        entry["mastery"] = None if after.mastery is None else round(after.mastery, 4)
        entry["answers"] = after.answers
        entry["distinct_questions"] = after.distinct_questions
    return breakdown


def _processed_answers(learner_id: int) -> QuerySet[Answer]:
    """Answers of the learner's attempts already fed to the model, newest first."""
    return Answer.objects.filter(
        attempt__learner_id=learner_id, attempt__skills_processed_at__isnull=False
    ).order_by(
        "-attempt__submitted_at",
        "-attempt__started_at",
        "-attempt_id",
        "-answered_at",
        "-question__order",
        "-question_id",
    )


def _load_tracks(*, learner_id: int, skill_ids: Iterable[int], lock: bool) -> dict[int, _Track]:
    skill_ids = list(skill_ids)
    states = LearnerSkillState.objects.filter(learner_id=learner_id, skill_id__in=skill_ids)
    if lock:
        # of=self: lock the learner's state rows, not the shared Skill rows joined in.
        states = states.select_for_update(of=("self",))
    tracks = {
        state.skill_id: _Track(
            skill=state.skill,
            mastery=state.mastery,
            evidence_count=state.evidence_count,
            correct_count=state.correct_count,
            last_practiced_at=state.last_practiced_at,
            state=state,
        )
        for state in states.select_related("skill")
    }
    # Distinct questions answered so far: the set, so this attempt's repeats count once; and
    # whether the newest answer (the first seen: newest first) taught.
    for answer in (
        _processed_answers(learner_id)
        .filter(question__skill_id__in=list(tracks))
        .only("response", "question_id", "question__skill_id", "attempt__adaptive_skills")
        .select_related("question", "attempt")
    ):
        if is_answered(answer):
            track = tracks[answer.question.skill_id]
            if not track.question_ids:
                track.last_taught = not answer.attempt.is_adaptive
            track.question_ids.add(answer.question_id)
    return tracks


def _load_recent(*, learner_id: int) -> _Recent:
    """The learner's last ``bkt.ABILITY_WINDOW`` answered questions before this attempt."""
    newest_first: list[bool] = []
    for answer in (
        _processed_answers(learner_id)
        .only("response", "is_correct")
        .iterator(chunk_size=2 * bkt.ABILITY_WINDOW)
    ):
        if is_answered(answer):
            newest_first.append(answer.is_correct)
            if len(newest_first) == bkt.ABILITY_WINDOW:
                break
    recent = _Recent()
    recent.correct.extend(reversed(newest_first))
    return recent


def _save_tracks(*, learner_id: int, tracks: Iterable[_Track], now: datetime) -> None:
    to_update: list[LearnerSkillState] = []
    to_create: list[LearnerSkillState] = []
    for track in tracks:
        if track.mastery is None:
            continue  # only unanswered questions: still not assessed, nothing to store
        state = track.state or LearnerSkillState(learner_id=learner_id, skill=track.skill)
        state.mastery = track.mastery
        state.level = level_from_mastery(track.mastery)
        state.evidence_count = track.evidence_count
        state.correct_count = track.correct_count
        state.distinct_questions = min(len(track.question_ids), track.evidence_count)
        state.last_practiced_at = track.last_practiced_at
        # bulk_update skips auto_now, so the injected clock stamps the change.
        state.updated_at = now
        (to_update if track.state else to_create).append(state)
    fields = [
        "mastery",
        "level",
        "evidence_count",
        "correct_count",
        "distinct_questions",
        "last_practiced_at",
    ]
    if to_update:
        LearnerSkillState.objects.bulk_update(to_update, [*fields, "updated_at"])
    if to_create:
        LearnerSkillState.objects.bulk_create(to_create)


def _lock_profile(learner_id: int) -> LearnerProfile:
    """Lock the learner's profile row: it serialises skill updates per learner."""
    profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user_id=learner_id)
    return profile


def _knowledge_gaps(*, learner_id: int, skill_levels: dict[str, int]) -> list[str]:
    targets = dict(
        GoalSkill.objects.filter(
            goal__learner_id=learner_id,
            goal__status=LearningGoal.Status.ACTIVE,
            skill__slug__in=list(skill_levels),
        )
        .values("skill__slug")
        .annotate(target=Max("target_level"))
        .values_list("skill__slug", "target")
    )
    gaps = [
        slug for slug, level in skill_levels.items() if level < targets.get(slug, DEFAULT_GAP_LEVEL)
    ]
    return sorted(gaps, key=lambda slug: (skill_levels[slug], slug))


def _answers_of(attempt_ids: list[int]) -> dict[int, list[Answer]]:
    """The attempts' answers with their question, skill and the question's IRT difficulty
    (``item_irt``, read in the same query)."""
    grouped: dict[int, list[Answer]] = defaultdict(list)
    for answer in (
        Answer.objects.filter(attempt_id__in=attempt_ids)
        .select_related("question__skill")
        .annotate(item_irt=latest_irt_difficulty("question_id"))
    ):
        grouped[answer.attempt_id].append(answer)
    return grouped


def _run_attempt(
    attempt: AssessmentAttempt, *, lock: bool
) -> tuple[dict[int, _Track], dict[str, dict]]:
    """The attempt's answers through the learner's current skill tracks
    (``_apply_attempt``): the tracks as they end, and the attempt's skill breakdown. The one
    reading of an attempt that processing (``lock``: the state rows locked) and the preview
    share. Writes nothing."""
    answers = _answers_of([attempt.pk])[attempt.pk]
    skill_ids = {a.question.skill_id for a in answers}
    tracks = _load_tracks(learner_id=attempt.learner_id, skill_ids=skill_ids, lock=lock)
    breakdown = _apply_attempt(
        answers=answers,
        tracks=tracks,
        recent=_load_recent(learner_id=attempt.learner_id),
        model=load_skill_model(),
        teaches=not attempt.is_adaptive,
        studied=_lessons_studied(learner_id=attempt.learner_id, skill_ids=skill_ids),
    )
    return tracks, breakdown


def process_attempt(*, attempt: AssessmentAttempt, now: datetime) -> SkillUpdate:
    """Feed a submitted attempt's answers to the skill model, once.

    Updates the learner's ``LearnerSkillState`` rows and the
    ``LearnerProfile.skill_levels`` mirror, stores the attempt's skill
    breakdown and marks it processed. A second call for the same attempt
    writes nothing and returns the stored result.
    """
    with transaction.atomic():
        profile = _lock_profile(attempt.learner_id)
        locked = AssessmentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.submitted_at is None:
            raise SkillModelError("Only a submitted attempt can update skill levels.")
        if locked.skills_processed_at is None:
            tracks, breakdown = _run_attempt(locked, lock=True)
            _save_tracks(learner_id=locked.learner_id, tracks=tracks.values(), now=now)
            profile.skill_levels = {
                **profile.skill_levels,
                **{
                    slug: entry["level_after"]
                    for slug, entry in breakdown.items()
                    if entry["level_after"] is not None
                },
            }
            profile.save(update_fields=["skill_levels", "updated_at"])
            locked.skill_breakdown = breakdown
            locked.skills_processed_at = now
            locked.save(update_fields=["skill_breakdown", "skills_processed_at", "updated_at"])
            # Skill states and the profile's mirror of their levels: quiz data.
            learners_changed([locked.learner_id], kinds=[QUIZ])
        # Skills whose questions were all left blank stay unassessed: no level, no gap.
        skill_levels = {
            slug: e["level_after"]
            for slug, e in locked.skill_breakdown.items()
            if e.get("level_after") is not None
        }
        gaps = _knowledge_gaps(learner_id=locked.learner_id, skill_levels=skill_levels)
    attempt.skill_breakdown = locked.skill_breakdown
    attempt.skills_processed_at = locked.skills_processed_at
    return SkillUpdate(
        skill_levels=skill_levels, knowledge_gaps=gaps, breakdown=locked.skill_breakdown
    )


def skill_breakdown(*, attempt: AssessmentAttempt) -> dict:
    """Per skill: questions, answered, correct, percent, level and state before/after,
    mastery and the evidence after the attempt.

    A processed attempt returns what was stored when it was processed. An
    unprocessed one returns a preview from the learner's current state,
    without writing anything.
    """
    if attempt.skills_processed_at is not None:
        return attempt.skill_breakdown
    return _run_attempt(attempt, lock=False)[1]


def skill_history(*, learner: User, skill: Skill | str, now: datetime) -> SkillHistory:
    """The learner's current estimate for one skill and its trace over submitted attempts.

    ``skill`` is a Skill or its slug (an unknown slug raises ``Skill.DoesNotExist``).
    """
    if isinstance(skill, str):
        skill = Skill.objects.get(slug=skill)
    state = LearnerSkillState.objects.filter(learner=learner, skill=skill).first()
    attempts = (
        AssessmentAttempt.objects.filter(
            learner=learner,
            submitted_at__lte=now,
            skills_processed_at__isnull=False,
            skill_breakdown__has_key=skill.slug,
        )
        .select_related("assessment")
        .order_by("submitted_at", "id")
    )
    points = [
        SkillHistoryPoint(
            attempt_id=a.pk,
            assessment=a.assessment.title,
            submitted_at=a.submitted_at,
            questions=a.skill_breakdown[skill.slug]["questions"],
            correct=a.skill_breakdown[skill.slug]["correct"],
            percent=a.skill_breakdown[skill.slug]["percent"],
            level_before=a.skill_breakdown[skill.slug]["level_before"],
            level_after=a.skill_breakdown[skill.slug]["level_after"],
            mastery=a.skill_breakdown[skill.slug]["mastery"],
        )
        for a in attempts
    ]
    last = state.last_practiced_at if state else None
    return SkillHistory(
        skill=skill.slug,
        name=skill.name,
        level=state.level if state else None,
        mastery=state.mastery if state else None,
        evidence_count=state.evidence_count if state else 0,
        correct_count=state.correct_count if state else 0,
        last_practiced_at=last,
        days_since_practice=(now - last).days if last else None,
        state=state.mastery_at(now) if state else NOT_ASSESSED_MASTERY,
        points=points,
    )


def recompute_learner_skills(*, learner: User, now: datetime) -> int:
    """Rebuild the learner's skill states by replaying every submitted attempt.

    Used after a new parameter version is activated. Attempts replay in
    submission order; returns how many were replayed. All or nothing.
    """
    with transaction.atomic():
        profile = _lock_profile(learner.pk)
        attempts = list(
            AssessmentAttempt.objects.select_for_update()
            .filter(learner=learner, submitted_at__isnull=False)
            .order_by("submitted_at", "started_at", "id")
        )
        answers = _answers_of([a.pk for a in attempts])
        model = load_skill_model()
        studied = _lessons_studied(learner_id=learner.pk, skill_ids=None)
        tracks: dict[int, _Track] = {}
        recent = _Recent()
        for attempt in attempts:
            attempt.skill_breakdown = _apply_attempt(
                answers=answers.get(attempt.pk, []),
                tracks=tracks,
                recent=recent,
                model=model,
                teaches=not attempt.is_adaptive,
                studied=studied,
            )
            attempt.skills_processed_at = now
            attempt.updated_at = now
        LearnerSkillState.objects.filter(learner=learner).delete()
        _save_tracks(learner_id=learner.pk, tracks=tracks.values(), now=now)
        AssessmentAttempt.objects.bulk_update(
            attempts, ["skill_breakdown", "skills_processed_at", "updated_at"]
        )
        profile.skill_levels = {
            t.skill.slug: level_from_mastery(t.mastery)
            for t in tracks.values()
            if t.mastery is not None
        }
        profile.save(update_fields=["skill_levels", "updated_at"])
        learners_changed([learner.pk])
    return len(attempts)


@dataclass(frozen=True)
class FittedSkillModel:
    """Per-skill parameters fitted from the platform's answers, ready to store."""

    parameters: dict[str, dict[str, float]]
    metrics: dict
    window_start: datetime | None
    window_end: datetime | None


def _with_study(
    learner_ids: tuple[int, ...],
    slugs: tuple[str, ...],
    teaches: tuple[bool, ...],
    answered_at: tuple[datetime, ...],
) -> list[bool]:
    """Per answer (in fit order), whether a transition follows it: it teaches, or the
    learner completed a lesson on its skill (not skimmed) before their next answer on it,
    as ``_apply_attempt`` reads study."""
    studied: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for learner_id, slug, completed_at in (
        Lesson.skills.through.objects.filter(
            lesson__progress__status=LessonProgress.Status.COMPLETED,
            lesson__progress__skimmed=False,
        )
        .values_list(
            "lesson__progress__learner_id", "skill__slug", "lesson__progress__completed_at"
        )
        .iterator(chunk_size=10_000)
    ):
        studied[learner_id, slug].append(completed_at)
    for times in studied.values():
        times.sort()
    result = list(teaches)
    previous: dict[tuple[int, str], int] = {}
    for index, key in enumerate(zip(learner_ids, slugs, strict=True)):
        before = previous.get(key)
        if (
            before is not None
            and not result[before]
            and studied_between(studied.get(key, []), answered_at[before], answered_at[index])
        ):
            result[before] = True
        previous[key] = index
    return result


def fit_skill_parameters(*, min_answers: int, iterations: int = 40) -> FittedSkillModel:
    """Fit the skill model from every answered question of every submitted attempt.

    Answers are replayed in the order ``process_attempt`` sees them (attempts
    by submission, then answered_at and question order; blank answers left
    out), and fitted by ``bkt.fit_model``, the fit ``evaluate_skill_model``
    measures: per-skill BKT by EM, then the ability weights. Answers of adaptive
    attempts do not teach (module docstring) unless study follows them before the
    skill's next answer (``_with_study``): learn and forget are estimated from the
    teaching transitions only. A skill with fewer
    than ``min_answers`` answers keeps the defaults: a handful of answers
    cannot pin down five parameters.
    """
    # Imported here: web processes only need process_attempt, not scikit-learn.
    from sklearn.metrics import roc_auc_score

    every = list(
        Answer.objects.filter(attempt__submitted_at__isnull=False)
        .order_by(
            "attempt__learner_id",
            "attempt__submitted_at",
            "attempt__started_at",
            "attempt_id",
            "answered_at",
            "question__order",
            "question_id",
        )
        .values_list(
            "attempt__learner_id",
            "question__skill__slug",
            "is_correct",
            "answered_at",
            "response",
            "attempt__adaptive_skills",
            "question_id",
            "question__difficulty",
        )
    )
    # The questions' IRT difficulties in one query (not a subquery per answer row).
    irt = irt_difficulties()
    # An answer teaches unless its attempt was adaptive (a non-empty adaptive_skills).
    rows = [
        (*row[:3], not row[5], item_difficulty(irt=irt.get(row[6]), label=row[7]), row[3])
        for row in every
        if response_is_answer(row[4])
    ]
    if not rows:
        raise SkillModelError("No answers of submitted attempts to fit the skill model from.")
    learner_ids, slugs, correct, answer_teaches, difficulty, answered_at = zip(*rows, strict=True)
    teaches = _with_study(learner_ids, slugs, answer_teaches, answered_at)
    studied = np.array(teaches, dtype=bool) & ~np.array(answer_teaches, dtype=bool)
    skill_slugs = sorted(set(slugs))
    skill_index = np.searchsorted(np.array(skill_slugs), np.array(slugs))
    learners = np.unique(np.array(learner_ids), return_inverse=True)[1]
    obs = np.array(correct, dtype=bool)
    data = bkt.Sequences.build(
        learners,
        skill_index,
        obs,
        np.array(teaches, dtype=bool),
        np.array(difficulty),
        studied=studied,
    )
    fitted = bkt.fit_model(data, len(skill_slugs), iterations=iterations, min_answers=min_answers)
    counts = np.bincount(skill_index, minlength=len(skill_slugs))
    predicted = bkt.predict(data, fitted.params, fitted.ability)
    both_outcomes = 0 < obs.sum() < len(obs)
    parameters = {slug: fitted.params[i].as_dict() for i, slug in enumerate(skill_slugs)}
    parameters[ABILITY_KEY] = fitted.ability.as_dict()
    return FittedSkillModel(
        parameters=parameters,
        metrics={
            "answers": len(rows),
            # Every answer row seen, blank ones included: what the weekly re-fit compares.
            "answer_rows": len(every),
            # Answers followed by a transition: not of adaptive attempts (learn/forget), or
            # followed by study before the skill's next answer (learning only: these).
            "teaching_answers": int(sum(teaches)),
            "teaching_after_study": int(studied.sum()),
            "learners": int(learners.max()) + 1,
            "min_answers": min_answers,
            "answers_per_skill": {slug: int(counts[i]) for i, slug in enumerate(skill_slugs)},
            "skills_fitted": [s for i, s in enumerate(skill_slugs) if counts[i] >= min_answers],
            "skills_defaulted": [s for i, s in enumerate(skill_slugs) if counts[i] < min_answers],
            "em_iterations": fitted.em_iterations,
            "log_likelihood": round(fitted.log_likelihood, 3),
            "ability": fitted.ability.as_dict(),
            # In-sample: each answer predicted from the learner's earlier answers.
            "train_auc": round(float(roc_auc_score(obs, predicted)), 4) if both_outcomes else None,
        },
        # The window spans every answer row read, so the weekly re-fit sees nothing new.
        window_start=min(row[3] for row in every),
        window_end=max(row[3] for row in every),
    )


def skill_model_store(*, fitted: FittedSkillModel, now: datetime) -> MLModel:
    """Store the fitted parameters as the next ``skill_model`` version and activate it."""
    with transaction.atomic():
        # Locking the existing versions serialises two concurrent fits.
        versions = list(MLModel.objects.select_for_update().filter(name=MODEL_NAME))
        MLModel.objects.filter(name=MODEL_NAME, is_active=True).update(is_active=False)
        return MLModel.objects.create(
            name=MODEL_NAME,
            version=max((m.version for m in versions), default=0) + 1,
            trained_at=now,
            training_window_start=fitted.window_start,
            training_window_end=fitted.window_end,
            parameters=fitted.parameters,
            metrics=fitted.metrics,
            is_active=True,
            notes=(
                "Individualised BKT with forgetting: per-skill EM fit and ability weights "
                "on submitted attempts' answered questions."
            ),
        )
