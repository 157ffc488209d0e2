"""The simulator's generative model: what a simulated learner knows, learns, forgets and
answers (SPEC R-SIM; stated in the README, "Learner simulator").

Per skill of the catalogue, one *world* draws a whole parameter tuple (prior, learn,
forget, guess, slip) from the per-skill BKT fits on the ASSISTments 2009 training split
(``assistments2009_params.json``), so skills differ as much as real ones do. Per learner:

- an ability ``a`` ~ N(0, sd) with the spread of the real learners' abilities; the skill's
  tuple is individualised with the fitted ability weights (``insights.bkt.individualise``,
  the same equations as the skill model): an able learner starts knowing more, learns
  faster, guesses better and slips less;
- a hidden known / not-known state per skill, drawn from the individual prior (or set by
  the benchmark's group);
- an answer to a question on skill s with true difficulty b is correct with probability
  sigmoid(logit(1 - slip) - b) when s is known and sigmoid(logit(guess) - b) when not;
  b is drawn once per question: 0.5 x its authored label (-1 / 0 / +1) plus noise, with the
  spread of the 1PL item difficulties fitted on the real first answers;
- an answer the learner gets feedback on (a quiz's, graded and reviewed) is a practice
  opportunity: a not-known skill becomes known with probability ``learn``, a known one is
  forgotten with probability ``forget`` (BKT's transition); an answer without feedback (the
  adaptive diagnostic's, a skill check's, a course challenge's: ``teaches=False``) teaches
  nothing and leaves the state as it was, the rule the skill model follows
  (``insights.bkt``);
- a completed lesson teaching s is one opportunity per ``MINUTES_PER_OPPORTUNITY`` of its
  estimated time, each learning s with probability ``learn``;
- each full week without touching a known skill is one more forgetting opportunity.

Everything is drawn from ``random.Random`` instances seeded by the caller, so a run is
reproducible.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from insights import bkt

PARAMS_PATH = Path(__file__).resolve().parent / "assistments2009_params.json"
MINUTES_PER_OPPORTUNITY = 10
# The authored label's share of an item's true difficulty (the rest is per-item noise).
LABEL_DIFFICULTY = {"beginner": -1.0, "intermediate": 0.0, "advanced": 1.0}
LABEL_WEIGHT = 0.5
FORGET_EVERY = timedelta(weeks=1)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def answer_probability(params: bkt.BKTParams, *, known: bool, difficulty: float) -> float:
    """P(correct) on an item of ``difficulty`` logits, knowing the skill or not."""
    base = 1 - params.slip if known else params.guess
    return _sigmoid(_logit(base) - difficulty)


@dataclass(frozen=True)
class GenerativeParams:
    skill_params: list[bkt.BKTParams]
    ability_weights: bkt.AbilityParams
    ability_sd: float
    item_difficulty_sd: float
    source: str

    @classmethod
    def from_dict(cls, data: dict) -> GenerativeParams:
        return cls(
            skill_params=[bkt.BKTParams.from_dict(p) for p in data["skill_params"]],
            ability_weights=bkt.AbilityParams.from_dict(data["ability_weights"]),
            ability_sd=float(data["learner_ability"]["sd"]),
            item_difficulty_sd=float(data["item_difficulty"]["sd"]),
            source=str(data.get("source", "")),
        )


@cache
def load_params(path: Path = PARAMS_PATH) -> GenerativeParams:
    return GenerativeParams.from_dict(json.loads(path.read_text()))


@dataclass(frozen=True)
class World:
    """The parameters of one simulated world: a BKT tuple per skill slug."""

    params: GenerativeParams
    skills: dict[str, bkt.BKTParams]
    seed: int

    @classmethod
    def draw(cls, *, skill_slugs: Iterable[str], seed: int, params: GenerativeParams) -> World:
        rng = random.Random(f"world-{seed}")
        return cls(
            params=params,
            skills={slug: rng.choice(params.skill_params) for slug in sorted(skill_slugs)},
            seed=seed,
        )

    def item_difficulty(self, *, question_id: int, label: str) -> float:
        """A question's true difficulty, the same for every learner of this world."""
        rng = random.Random(f"item-{self.seed}-{question_id}")
        spread = self.params.item_difficulty_sd
        noise_sd = math.sqrt(max(spread**2 - (LABEL_WEIGHT**2) * 2 / 3, 0.05))
        return LABEL_WEIGHT * LABEL_DIFFICULTY.get(label, 0.0) + rng.gauss(0, noise_sd)


@dataclass
class SimLearner:
    """One simulated learner's hidden knowledge and the dice that drive it."""

    world: World
    ability: float
    rng: random.Random
    params: dict[str, bkt.BKTParams]
    known: dict[str, bool]
    last_touch: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def draw(
        cls,
        *,
        world: World,
        seed: int,
        now: datetime,
        known: dict[str, bool] | None = None,
    ) -> SimLearner:
        """A learner with ability and knowledge drawn from the world; ``known`` overrides
        the drawn state for the skills it names."""
        rng = random.Random(f"learner-{world.seed}-{seed}")
        ability = rng.gauss(0, world.params.ability_sd)
        weights = world.params.ability_weights
        params = {}
        for slug, base in world.skills.items():
            shifted = bkt.individualise(base, ability, weights)
            params[slug] = bkt.BKTParams(
                **{name: float(getattr(shifted, name)) for name in bkt.PARAM_NAMES}
            )
        state = {slug: rng.random() < p.prior for slug, p in params.items()}
        state.update(known or {})
        return cls(
            world=world,
            ability=ability,
            rng=rng,
            params=params,
            known=state,
            last_touch=dict.fromkeys(state, now),
        )

    def clone(self, *, branch: str) -> SimLearner:
        """The same learner in a counterfactual branch with its own dice."""
        return SimLearner(
            world=self.world,
            ability=self.ability,
            rng=random.Random(f"{self.rng.random()}-{branch}"),
            params=self.params,
            known=dict(self.known),
            last_touch=dict(self.last_touch),
        )

    def p_correct(self, *, skill: str, difficulty: float) -> float:
        return answer_probability(
            self.params[skill], known=self.known[skill], difficulty=difficulty
        )

    def answer(self, *, skill: str, difficulty: float, now: datetime, teaches: bool) -> bool:
        """Answer one question, then the practice transition if the learner sees whether it
        was right (``teaches``: a quiz's answer, not an adaptive attempt's)."""
        self.pass_time(now=now)
        correct = self.rng.random() < self.p_correct(skill=skill, difficulty=difficulty)
        if teaches:
            p = self.params[skill]
            if self.known[skill]:
                self.known[skill] = self.rng.random() >= p.forget
            else:
                self.known[skill] = self.rng.random() < p.learn
        self.last_touch[skill] = now
        return correct

    def study(self, *, skills: Iterable[str], minutes: float, now: datetime) -> None:
        """A completed lesson: learning opportunities on each skill it teaches."""
        self.pass_time(now=now)
        chances = max(1, round(minutes / MINUTES_PER_OPPORTUNITY))
        for skill in skills:
            if skill not in self.known:
                continue
            for _ in range(chances):
                if self.known[skill]:
                    break
                self.known[skill] = self.rng.random() < self.params[skill].learn
            self.last_touch[skill] = now

    def pass_time(self, *, now: datetime) -> None:
        """Forgetting: one opportunity per full week a known skill went untouched."""
        for skill, touched in self.last_touch.items():
            weeks = int((now - touched) / FORGET_EVERY)
            if weeks <= 0:
                continue
            if self.known[skill]:
                keep = (1 - self.params[skill].forget) ** weeks
                self.known[skill] = self.rng.random() < keep
            self.last_touch[skill] = touched + weeks * FORGET_EVERY
