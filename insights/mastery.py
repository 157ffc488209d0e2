"""Named mastery states from the skill model's estimate *and* its evidence (SPEC R-MASTERY).

A level (1-10) is the skill model's mastery probability in tenths; on its own it
says nothing about how much the learner has shown. The state below says how
far the estimate can be trusted, in the spirit of Khan Academy's mastery levels:

- ``not_assessed``: no answered question on the skill yet;
- ``attempted``: answered, but mastery below ``FAMILIAR_MASTERY``;
- ``familiar``: mastery >= ``FAMILIAR_MASTERY`` (level 6 and up), any evidence;
- ``proficient``: mastery >= ``PROFICIENT_MASTERY`` (level 8 and up) on at least
  ``PROFICIENT_QUESTIONS`` distinct questions;
- ``mastered``: mastery >= ``MASTERED_MASTERY`` (level 10) on at least
  ``MASTERED_QUESTIONS`` distinct questions, at least ``MASTERED_QUESTIONS`` of
  the answers right (BKT weighs the latest answers most: three wrong then three
  right reach level 10, which is proficient, not mastered, on three right answers).

One answer therefore never reaches proficient, however lucky. Knowledge not
practised fades: every full ``REVIEW_INTERVAL_DAYS`` since the last answer on
the skill moves the state one step down (never below ``attempted``: the learner
did answer). The level is left as the model computed it at the last answer; the
state carries the time since then.

A goal's target level counts as reached only when the level is at least the
target *and* the state is proficient or mastered (``target_reached``).

Everything here is plain arithmetic on a state's numbers, so every door (pages,
API, dashboards, jobs) shows the same state for the same row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

NOT_ASSESSED = "not_assessed"
ATTEMPTED = "attempted"
FAMILIAR = "familiar"
PROFICIENT = "proficient"
MASTERED = "mastered"
# Weakest first: a state's position is its rank.
STATES = (NOT_ASSESSED, ATTEMPTED, FAMILIAR, PROFICIENT, MASTERED)
LABELS = {
    NOT_ASSESSED: "not assessed",
    ATTEMPTED: "attempted",
    FAMILIAR: "familiar",
    PROFICIENT: "proficient",
    MASTERED: "mastered",
}

FAMILIAR_MASTERY = 0.5
PROFICIENT_MASTERY = 0.7
PROFICIENT_QUESTIONS = 3
MASTERED_MASTERY = 0.9
MASTERED_QUESTIONS = 5
REVIEW_INTERVAL_DAYS = 30
# States that confirm a level: a goal target is reached only in one of these.
CONFIRMING = (PROFICIENT, MASTERED)


def level_from_mastery(mastery: float) -> int:
    """Map P(known) to the 1-10 scale in equal tenths: [0, 0.1) -> 1 ... [0.9, 1] -> 10."""
    if not math.isfinite(mastery):
        raise ValueError(f"mastery must be a finite number, got {mastery!r}")
    clipped = min(max(mastery, 0.0), 1.0)
    # Rounding first keeps exact tenths on their boundary (0.3 * 10 is 3.0000000000000004).
    return min(10, 1 + math.floor(round(clipped * 10, 9)))


def states_explained() -> str:
    """The rules above in one sentence for learners, from the same constants. It says why
    a level can sit beside a lower state (the state fades, the level does not), which a
    bare "familiar (level 6+)" left a learner seeing "level 7, attempted" to guess."""
    familiar = level_from_mastery(FAMILIAR_MASTERY)
    return (
        f"States: attempted (answered, below level {familiar}) → familiar (level "
        f"{familiar}+, on any number of answers) → proficient (level "
        f"{level_from_mastery(PROFICIENT_MASTERY)}+ on {PROFICIENT_QUESTIONS} different "
        f"questions) → mastered (level {level_from_mastery(MASTERED_MASTERY)} on "
        f"{MASTERED_QUESTIONS} different questions, {MASTERED_QUESTIONS} answered right). "
        "The level is the one your last answer left; every "
        f"{REVIEW_INTERVAL_DAYS} days without practice moves the state one step down (never "
        f"below attempted), so a level {familiar} or more not practised for "
        f"{REVIEW_INTERVAL_DAYS} days can read attempted. A goal target counts as reached "
        "once the skill is proficient at that level."
    )


def rank(state: str) -> int:
    return STATES.index(state)


def evidence_state(
    *, mastery: float | None, distinct_questions: int, answers: int, correct_answers: int
) -> str:
    """The state the estimate and its evidence support right after the last answer."""
    if mastery is None or answers <= 0:
        return NOT_ASSESSED
    if (
        mastery >= MASTERED_MASTERY
        and distinct_questions >= MASTERED_QUESTIONS
        and correct_answers >= MASTERED_QUESTIONS
    ):
        return MASTERED
    if mastery >= PROFICIENT_MASTERY and distinct_questions >= PROFICIENT_QUESTIONS:
        return PROFICIENT
    if mastery >= FAMILIAR_MASTERY:
        return FAMILIAR
    return ATTEMPTED


def mastery_state(
    *,
    mastery: float | None,
    distinct_questions: int,
    answers: int,
    correct_answers: int,
    last_practiced_at: datetime | None,
    now: datetime,
) -> str:
    """``evidence_state`` moved one step down per full review interval without practice."""
    state = evidence_state(
        mastery=mastery,
        distinct_questions=distinct_questions,
        answers=answers,
        correct_answers=correct_answers,
    )
    if state == NOT_ASSESSED or last_practiced_at is None:
        return state
    idle_days = max((now - last_practiced_at).days, 0)
    steps_down = idle_days // REVIEW_INTERVAL_DAYS
    return STATES[max(rank(state) - steps_down, rank(ATTEMPTED))]


def uncertainty(mastery: float | None) -> float | None:
    """Standard deviation of the known / not-known belief: 0 when certain, 0.5 at a coin flip."""
    if mastery is None:
        return None
    clipped = min(max(mastery, 0.0), 1.0)
    return math.sqrt(clipped * (1 - clipped))


def target_reached(*, level: int | None, state: str, target_level: int) -> bool:
    return level is not None and level >= target_level and state in CONFIRMING


@dataclass(frozen=True)
class SkillMastery:
    """What a learner sees about one skill: level, state and the evidence behind them."""

    level: int | None
    mastery: float | None
    state: str
    answers: int
    distinct_questions: int
    last_practiced_at: datetime | None
    days_since_practice: int | None

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def uncertainty(self) -> float | None:
        return uncertainty(self.mastery)

    @property
    def is_assessed(self) -> bool:
        return self.state != NOT_ASSESSED

    @property
    def faded(self) -> bool:
        """Not practised for a full review interval: the state has stepped down since the
        last answer, while the level is still the one that answer left."""
        return (
            self.is_assessed
            and self.days_since_practice is not None
            and self.days_since_practice >= REVIEW_INTERVAL_DAYS
        )

    @property
    def advice(self) -> str:
        """What would make the estimate more certain, or '' when nothing is needed."""
        if self.state == NOT_ASSESSED:
            return "take a skill check to measure it"
        if self.state in CONFIRMING:
            return ""
        if self.faded:
            return "review it to confirm"
        if self.distinct_questions < PROFICIENT_QUESTIONS:
            return "take a skill check to confirm"
        return "keep practising"

    def short_of(self, target_level: int) -> str:
        """Why a goal target at ``target_level`` is not reached yet, or '' when it is: the
        level alone can be at the target while the state is not ("level 7 · familiar"
        beside "target 7 not reached" read as a contradiction), e.g. "familiar on 1
        answer: proficient needs level 8+ on 3 different questions (1 so far)"."""
        if target_reached(level=self.level, state=self.state, target_level=target_level):
            return ""
        if not self.is_assessed:
            return "not assessed yet"
        if self.level < target_level:
            return f"level {self.level} of {target_level}"
        if self.faded:
            return (
                f"{self.label} after {self.days_since_practice} days without practice: "
                "review it to confirm"
            )
        needs = []
        proficient_level = level_from_mastery(PROFICIENT_MASTERY)
        if self.level < proficient_level:
            needs.append(f"level {proficient_level}+")
        if self.distinct_questions < PROFICIENT_QUESTIONS:
            needs.append(
                f"{PROFICIENT_QUESTIONS} different questions ({self.distinct_questions} so far)"
            )
        needed = f"proficient needs {' on '.join(needs)}" if needs else "needs proficient"
        return f"{self.label} on {answers_text(self.answers)}: {needed}"

    @property
    def summary(self) -> str:
        """E.g. "Level 7 · familiar · 1 answer — take a skill check to confirm"; a faded
        state says since when, so a high level beside a lower state reads as what it is:
        "Level 10 · familiar · 6 answers, last practised 65 days ago — review it to
        confirm"."""
        if not self.is_assessed:
            return f"Not assessed — {self.advice}"
        text = f"Level {self.level} · {self.label} · {answers_text(self.answers)}"
        if self.faded:
            text += f", last practised {self.days_since_practice} days ago"
        return f"{text} — {self.advice}" if self.advice else text


def answers_text(count: int) -> str:
    return f"{count} answer" if count == 1 else f"{count} answers"


def describe(
    *,
    level: int | None,
    mastery: float | None,
    answers: int,
    distinct_questions: int,
    correct_answers: int,
    last_practiced_at: datetime | None,
    now: datetime,
) -> SkillMastery:
    return SkillMastery(
        level=level if answers > 0 else None,
        mastery=mastery if answers > 0 else None,
        state=mastery_state(
            mastery=mastery,
            distinct_questions=distinct_questions,
            answers=answers,
            correct_answers=correct_answers,
            last_practiced_at=last_practiced_at,
            now=now,
        ),
        answers=answers,
        distinct_questions=distinct_questions,
        last_practiced_at=last_practiced_at,
        days_since_practice=max((now - last_practiced_at).days, 0) if last_practiced_at else None,
    )


NOT_ASSESSED_MASTERY = SkillMastery(
    level=None,
    mastery=None,
    state=NOT_ASSESSED,
    answers=0,
    distinct_questions=0,
    last_practiced_at=None,
    days_since_practice=None,
)
