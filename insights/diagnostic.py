"""Adaptive item selection: which question to ask next, and when a skill is measured.

One engine for the adaptive diagnostic, the skill check and the course challenge
(``assessments.services.attempt_start`` on an adaptive assessment, then
``attempt_answer`` question by question).

**Estimate.** For each skill of the attempt, the learner's current mastery is
the skill model's (``insights.skills``): the stored ``LearnerSkillState`` moved
through this attempt's answers so far, exactly as the attempt will be processed
when it ends (``skills.skill_breakdown`` previews it without writing). The
answers reach the stored skill state only at the end of the attempt, in one
``process_attempt``, like any other attempt; selection and stopping use the
preview in between. A skill never answered starts at the model's prior. Study
since the skill's last answer is a learning opportunity the preview applies with
the attempt's first answer on it (``insights.skills``), so only the first
question is picked from the stored state as it stands.

**Item difficulty**, in logits: the IRT difficulty of the question's stored item
analysis (``QuestionItemAnalysis.irt_difficulty``, from ``analyze_items``) when
there is one, else the authored difficulty (beginner -1, intermediate 0,
advanced +1).

**Selection.** The target difficulty is the logit of the current mastery,
clipped to [-2, 2]: a learner at 0.3 gets an easy item, one at 0.7 a hard one,
so a right answer is followed by a harder question and a wrong one by an easier
question. Among the skill's questions not yet asked in this attempt, those the
learner never answered come first (breadth is evidence, ``insights.mastery``: a
new question confirms more than a repeated one, and a skill check right after a
diagnostic should not replay it); among them, the one closest to the target is
chosen, ties to the lowest id. A question answered in an earlier attempt is
asked only when no new one is left. A question is never asked twice in an attempt.

**Stopping.** Skills are measured one after the other, in the attempt's order.
A skill stops when

- the estimate is certain enough: at least ``MIN_ANSWERS`` answered questions in
  this attempt and mastery <= ``LOW_MASTERY`` (not known), or mastery >=
  ``HIGH_MASTERY`` with evidence on at least ``mastery.PROFICIENT_QUESTIONS``
  distinct questions in all (known, with the breadth proficiency asks for); or
- ``DECLINED_AFTER`` questions were answered "I don't know", whatever else was answered
  (the learner told us; more questions would only ask them to say it again); or
- ``MAX_QUESTIONS`` questions were asked on it (an "I don't know" counts as
  asked but is no evidence); or
- its bank has no question left.

The attempt ends when every skill has stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery

from assessments.models import Answer, Assessment, AssessmentAttempt, Question
from catalog.models import Course, Difficulty, Skill
from insights.mastery import CONFIRMING, PROFICIENT_QUESTIONS
from insights.models import LearnerSkillState, QuestionItemAnalysis

MAX_QUESTIONS = 6
# What a learner is told an adaptive attempt costs: about four questions a skill (the
# diagnostic asks 3.4 on average, BENCHMARKS "Adaptivity"), a minute and a half each.
EXPECTED_QUESTIONS_PER_SKILL = 4
MINUTES_PER_QUESTION = 1.5
# Neither way on fewer answers: the breadth proficiency asks for (mastery.PROFICIENT_QUESTIONS).
MIN_ANSWERS = PROFICIENT_QUESTIONS
# "I don't know" this many times on a skill: the learner told us.
DECLINED_AFTER = 2
# "Not known" asks for stronger evidence than "known" asks of the other side: a known
# skill called not known costs its whole lessons, while one wrongly called known is
# caught by the course quiz (0.25 here left 4.6 % of world 2's path time on such skills,
# BENCHMARKS "Session 9").
LOW_MASTERY = 0.15
HIGH_MASTERY = 0.8
TARGET_CLIP = 2.0
AUTHORED_DIFFICULTY = {
    Difficulty.BEGINNER: -1.0,
    Difficulty.INTERMEDIATE: 0.0,
    Difficulty.ADVANCED: 1.0,
}

STOP_KNOWN = "known"
STOP_NOT_KNOWN = "not_known"
STOP_MAXIMUM = "maximum"
STOP_NO_QUESTIONS = "no_questions"
STOP_DECLINED = "declined"
STOP_LABELS = {
    STOP_KNOWN: "measured: you know it",
    STOP_NOT_KNOWN: "measured: still to learn",
    STOP_MAXIMUM: f"measured: {MAX_QUESTIONS} questions asked",
    STOP_NO_QUESTIONS: "no more questions on this skill",
    STOP_DECLINED: "you said you don't know it yet",
}


@dataclass(frozen=True)
class BankItem:
    question_id: int
    skill_id: int
    difficulty: float
    seen_before: bool


@dataclass(frozen=True)
class SkillRun:
    """One skill of an adaptive attempt, as far as it has gone."""

    skill_id: int
    slug: str
    name: str
    mastery: float
    asked: int
    answered: int
    distinct_questions: int
    items_left: int

    @property
    def stop_reason(self) -> str | None:
        return stop_reason(
            mastery=self.mastery,
            asked=self.asked,
            answered=self.answered,
            distinct_questions=self.distinct_questions,
            items_left=self.items_left,
        )

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    @property
    def stop_label(self) -> str:
        return STOP_LABELS.get(self.stop_reason or "", "")


@dataclass(frozen=True)
class AdaptiveProgress:
    """Where an adaptive attempt stands: its skills and the question to ask next."""

    runs: list[SkillRun]
    next_item: BankItem | None

    @property
    def finished(self) -> bool:
        return self.next_item is None

    @property
    def skill_number(self) -> int:
        """1-based position of the skill being asked (the number of skills when finished)."""
        if self.next_item is None:
            return len(self.runs)
        return next(
            i for i, run in enumerate(self.runs, start=1) if run.skill_id == self.next_item.skill_id
        )

    @property
    def current_run(self) -> SkillRun | None:
        if self.next_item is None:
            return None
        return self.runs[self.skill_number - 1]

    @property
    def questions_asked(self) -> int:
        return sum(run.asked for run in self.runs)

    @property
    def label(self) -> str:
        """E.g. "Skill 2 of 3 · question 3"."""
        run = self.current_run
        if run is None:
            return f"All {len(self.runs)} skills measured"
        return f"Skill {self.skill_number} of {len(self.runs)} · question {run.asked + 1}"


def stop_reason(
    *, mastery: float, asked: int, answered: int, distinct_questions: int, items_left: int
) -> str | None:
    """Why a skill needs no further question, or None (rules in the module docstring)."""
    if answered >= MIN_ANSWERS:
        if mastery <= LOW_MASTERY:
            return STOP_NOT_KNOWN
        if mastery >= HIGH_MASTERY and distinct_questions >= PROFICIENT_QUESTIONS:
            return STOP_KNOWN
    if asked - answered >= DECLINED_AFTER:
        return STOP_DECLINED
    if asked >= MAX_QUESTIONS:
        return STOP_MAXIMUM
    if items_left <= 0:
        return STOP_NO_QUESTIONS
    return None


def target_difficulty(mastery: float) -> float:
    """The item difficulty (logits) that suits a learner at ``mastery``."""
    clipped = min(max(mastery, 1e-6), 1 - 1e-6)
    return max(-TARGET_CLIP, min(TARGET_CLIP, math.log(clipped / (1 - clipped))))


def pick_item(*, items: list[BankItem], mastery: float) -> BankItem | None:
    """An unseen item before a seen one; then the closest to the target, lower id."""
    if not items:
        return None
    target = target_difficulty(mastery)
    return min(
        items,
        key=lambda item: (
            item.seen_before,
            round(abs(item.difficulty - target), 6),
            item.question_id,
        ),
    )


# ------------------------------------------------------------------ reads


def item_difficulty(*, irt: float | None, label: str) -> float:
    """A question's difficulty in logits: its fitted IRT difficulty, else its authored label's
    (module docstring, "Item difficulty")."""
    if irt is not None and math.isfinite(irt):
        return float(irt)
    return AUTHORED_DIFFICULTY.get(label, 0.0)


def irt_difficulties(question_ids: list[int] | None = None) -> dict[int, float]:
    """Question id -> IRT difficulty from its newest item analysis, for ``question_ids``
    (every analysed question when None), in one query."""
    rows = QuestionItemAnalysis.objects.filter(irt_difficulty__isnull=False)
    if question_ids is not None:
        rows = rows.filter(question_id__in=question_ids)
    return dict(
        rows.order_by("question_id", "-run__computed_at")
        .distinct("question_id")
        .values_list("question_id", "irt_difficulty")
    )


def skills_shown(*, learner_id: int, skill_ids: list[int], now: datetime) -> set[int]:
    """Those of ``skill_ids`` the learner has proficient or mastered at ``now``."""
    return {
        state.skill_id
        for state in LearnerSkillState.objects.filter(learner_id=learner_id, skill_id__in=skill_ids)
        if state.mastery_at(now).state in CONFIRMING
    }


def latest_irt_difficulty(question: str) -> Subquery:
    """The question's IRT difficulty from its newest item analysis (NULL when none), as a
    subquery on the outer ``question`` column: read with the rows, no query of its own."""
    return Subquery(
        QuestionItemAnalysis.objects.filter(
            question_id=OuterRef(question), irt_difficulty__isnull=False
        )
        .order_by("-run__computed_at")
        .values("irt_difficulty")[:1]
    )


def bank_questions() -> object:
    """Every question learners may be asked: those of open assessments (published, in no
    course or a published one). A skill check or course challenge has no questions of its
    own: the bank is every open question on its skills."""
    return Question.objects.filter(
        assessment__is_published=True,
    ).exclude(assessment__course__status=Course.Status.DRAFT)


def question_bank(*, skill_ids: list[int], learner_id: int) -> dict[int, list[BankItem]]:
    """The bank per skill, with each item's difficulty and whether the learner saw it."""
    rows = list(
        bank_questions()
        .filter(skill_id__in=skill_ids)
        .values_list("pk", "skill_id", "difficulty")
        .order_by("pk")
    )
    ids = [pk for pk, _, _ in rows]
    irt = irt_difficulties(ids)
    # The learner's own submitted attempts (few) first, then their answers by attempt: the
    # planner cannot pick a scan of every answer, even on tables it has no statistics for
    # yet (a cohort seeded in one transaction).
    attempt_ids = list(
        AssessmentAttempt.objects.filter(
            learner_id=learner_id, submitted_at__isnull=False
        ).values_list("pk", flat=True)
    )
    seen = (
        set(
            Answer.objects.filter(attempt_id__in=attempt_ids, question_id__in=ids)
            .order_by()
            .values_list("question_id", flat=True)
            .distinct()
        )
        if attempt_ids
        else set()
    )
    bank: dict[int, list[BankItem]] = {skill_id: [] for skill_id in skill_ids}
    for pk, skill_id, difficulty in rows:
        bank[skill_id].append(
            BankItem(
                question_id=pk,
                skill_id=skill_id,
                difficulty=item_difficulty(irt=irt.get(pk), label=difficulty),
                seen_before=pk in seen,
            )
        )
    return bank


def adaptive_progress(*, attempt: AssessmentAttempt) -> AdaptiveProgress:
    """The attempt's skill runs and the next question to ask (None once every skill stopped).

    Pure read: the mastery comes from the skill model's preview of the attempt's answers.
    """
    # Imported here: insights.skills imports the assessment models at module level too,
    # and web processes reading progress should not need more than that.
    from insights.skills import load_skill_model, skill_breakdown

    skill_ids = [int(pk) for pk in attempt.adaptive_skills]
    skills = {skill.pk: skill for skill in Skill.objects.filter(pk__in=skill_ids)}
    skill_ids = [pk for pk in skill_ids if pk in skills]
    asked_rows = list(attempt.answers.values_list("question_id", "question__skill_id"))
    asked_ids = {question_id for question_id, _ in asked_rows}
    preview = skill_breakdown(attempt=attempt) if asked_rows else {}
    stored = {
        state.skill_id: state
        for state in LearnerSkillState.objects.filter(
            learner_id=attempt.learner_id, skill_id__in=skill_ids
        )
    }
    model = load_skill_model()
    bank = question_bank(skill_ids=skill_ids, learner_id=attempt.learner_id)
    runs: list[SkillRun] = []
    next_item: BankItem | None = None
    for skill_id in skill_ids:
        skill = skills[skill_id]
        entry = preview.get(skill.slug) or {}
        state = stored.get(skill_id)
        if entry.get("mastery") is not None:
            mastery = float(entry["mastery"])
            distinct = int(entry.get("distinct_questions") or 0)
        elif state is not None and state.mastery is not None:
            mastery, distinct = float(state.mastery), state.distinct_questions
        else:
            mastery, distinct = float(model.for_skill(skill.slug).prior), 0
        left = [item for item in bank[skill_id] if item.question_id not in asked_ids]
        run = SkillRun(
            skill_id=skill_id,
            slug=skill.slug,
            name=skill.name,
            mastery=mastery,
            asked=sum(1 for _, asked_skill in asked_rows if asked_skill == skill_id),
            answered=int(entry.get("answered") or 0),
            distinct_questions=distinct,
            items_left=len(left),
        )
        runs.append(run)
        if next_item is None and not run.stopped:
            next_item = pick_item(items=left, mastery=mastery)
    return AdaptiveProgress(runs=runs, next_item=next_item)


def adaptive_skill_ids(*, assessment: Assessment, learner_id: int, now: datetime) -> list[int]:
    """The skills an adaptive attempt on ``assessment`` measures, in the order asked.

    A skill check: its skill. A course challenge: the skills the course teaches that are
    not proficient or mastered at ``now`` (a challenge is passed when every one is, so
    asking again about a shown skill could only take it back), or all of them when every
    one is shown (a re-check). An
    adaptive diagnostic: the skills of the learner's active goals, then the other skills
    their paths would teach as of ``now`` (the prerequisite courses' skills), so the path
    can skip what the learner shows, less those only lessons the path leaves out teach
    (``optional_lessons``: nothing to skip there); without a goal, the skills of the
    diagnostic's own questions.
    """
    # Imported here: learning builds on insights in places; keep the import local.
    from insights.paths import PathPlan, plan_learning_paths
    from learning.models import GoalSkill, LearningGoal

    if assessment.kind == Assessment.Kind.SKILL_CHECK:
        return [assessment.skill_id] if assessment.skill_id else []
    if assessment.kind == Assessment.Kind.COURSE_CHALLENGE:
        if assessment.course_id is None:
            return []
        taught = list(assessment.course.skills.order_by("name", "pk").values_list("pk", flat=True))
        shown = skills_shown(learner_id=learner_id, skill_ids=taught, now=now)
        return [pk for pk in taught if pk not in shown] or taught
    goal_skills = list(
        GoalSkill.objects.filter(
            goal__learner_id=learner_id, goal__status=LearningGoal.Status.ACTIVE
        )
        .order_by("goal__created_at", "skill__name", "skill_id")
        .values_list("skill_id", flat=True)
    )
    if not goal_skills:
        goal_skills = list(
            assessment.questions.order_by("order").values_list("skill_id", flat=True)
        )
        return list(dict.fromkeys(goal_skills))
    goals = list(
        LearningGoal.objects.filter(
            learner_id=learner_id, status=LearningGoal.Status.ACTIVE
        ).select_related("learner")
    )
    plans = plan_learning_paths(goals=goals, now=now)
    path_slugs: list[str] = []
    for plan in plans.values():  # in the goals' order
        for item in plan.items if isinstance(plan, PathPlan) else []:
            outside = {slug for lesson in item.optional_lessons for slug in lesson["skills"]}
            path_slugs.extend(slug for slug in item.skills_covered if slug not in outside)
    path_skills = dict(Skill.objects.filter(slug__in=path_slugs).values_list("slug", "pk"))
    return list(dict.fromkeys([*goal_skills, *(path_skills[s] for s in path_slugs)]))
