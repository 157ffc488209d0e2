"""The best any diagnostic can do in the simulated world (``simulate_adaptivity --bound``).

An observer who knows each simulated learner's true parameters (the individualised BKT
tuple of ``insights.sim.generative``), every question's true difficulty and the mix of
groups (not which group the learner is in) computes the
exact P(known) after the answers and says "known" when it is at least one half. The
answers are a diagnostic's: without feedback, so they teach nothing, in the world
(``SimLearner.answer(teaches=False)``) as in the observer's and the skill model's
updates (no learn / forget transition). No classifier has a higher expected accuracy on
the same answers, so this is the ceiling for the benchmark's diagnostic accuracy at a given
number of questions per skill. Beside it, the skill model with its default parameters (what
an unfitted platform uses) classifies the same answers.

Draws follow the benchmark: a learner of the world, one bank skill, the skill known with
probability 0, 1/2, 3/4 or the learner's own prior (the benchmark's groups in turn), then
``questions`` of the skill's bank questions in random order, answered by the simulated mind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from insights import bkt
from insights.diagnostic import bank_questions
from insights.sim.generative import SimLearner, World, answer_probability

GROUP_SHARES = (0.0, 0.5, 0.75, None)  # None: the learner's own prior (benchmark "drawn")


def _update(mastery: float, correct: bool, params: bkt.BKTParams, difficulty: float) -> float:
    """Bayes on one answer to an item of ``difficulty`` logits; no learn / forget (a
    diagnostic's answer teaches nothing)."""
    p_known = answer_probability(params, known=True, difficulty=difficulty)
    p_unknown = answer_probability(params, known=False, difficulty=difficulty)
    known = mastery * (p_known if correct else 1 - p_known)
    unknown = (1 - mastery) * (p_unknown if correct else 1 - p_unknown)
    return known / (known + unknown)


# Sequential rows: stop a skill once the observer's P(known) leaves this band (after at
# least two answers) or the bank runs out.
SEQUENTIAL_BAND = (0.1, 0.9)


@dataclass(frozen=True)
class BoundRow:
    questions: float  # per skill (the mean, for a sequential row)
    draws: int
    bayes_accuracy: float
    default_model_accuracy: float
    # Of the draws where the skill is known: the share the Bayes observer calls not known
    # (each such skill keeps its lessons in a path: wasted time no diagnostic avoids).
    bayes_missed_known: float


def bayes_bound(
    *,
    world: World,
    bank: dict[str, list[tuple[int, str]]],
    questions: int | None,
    draws: int,
    seed: int,
    now: datetime,
) -> BoundRow:
    """Accuracy of the Bayes classifier and of the default skill model on ``draws`` draws.

    ``bank``: skill slug -> (question id, authored difficulty label) of its questions.
    ``questions``: per skill, or None to ask until the observer is sure
    (``SEQUENTIAL_BAND``), the default model then reading the same answers.
    """
    rng = random.Random(f"bound-{seed}-{questions}")
    skills = sorted(slug for slug, items in bank.items() if items and slug in world.skills)
    bayes_right = default_right = asked = known_draws = missed_known = 0
    for index in range(draws):
        mind = SimLearner.draw(world=world, seed=10_000_000 + index, now=now)
        skill = rng.choice(skills)
        share = GROUP_SHARES[index % len(GROUP_SHARES)]
        if share is not None:
            mind.known[skill] = rng.random() < share
        truth_params = mind.params[skill]
        # The group is not known to the observer: its prior is the groups' mixture.
        bayes = sum(truth_params.prior if s is None else s for s in GROUP_SHARES) / len(
            GROUP_SHARES
        )
        default = bkt.DEFAULT_PARAMS.prior
        items = rng.sample(bank[skill], len(bank[skill]))[:questions]
        for count, (question_id, label) in enumerate(items, start=1):
            difficulty = world.item_difficulty(question_id=question_id, label=label)
            correct = mind.answer(skill=skill, difficulty=difficulty, now=now, teaches=False)
            bayes = _update(bayes, correct, truth_params, difficulty)
            default = float(bkt.update(default, correct, bkt.DEFAULT_PARAMS, teaches=False))
            asked += 1
            low, high = SEQUENTIAL_BAND
            if questions is None and count >= 2 and not low < bayes < high:
                break
        bayes_right += (bayes >= 0.5) == mind.known[skill]
        known_draws += mind.known[skill]
        missed_known += mind.known[skill] and bayes < 0.5
        default_right += (default >= 0.5) == mind.known[skill]
    return BoundRow(
        questions=asked / draws,
        draws=draws,
        bayes_accuracy=bayes_right / draws,
        default_model_accuracy=default_right / draws,
        bayes_missed_known=missed_known / known_draws if known_draws else 0.0,
    )


def diagnostic_bank() -> dict[str, list[tuple[int, str]]]:
    """Skill slug -> (question id, authored difficulty) of every question adaptive attempts
    may ask (``insights.diagnostic.bank_questions``)."""
    bank: dict[str, list[tuple[int, str]]] = {}
    rows = bank_questions().order_by("pk").values_list("skill__slug", "pk", "difficulty")
    for slug, question_id, label in rows:
        bank.setdefault(slug, []).append((question_id, label))
    return bank
