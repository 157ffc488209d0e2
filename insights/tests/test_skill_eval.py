from __future__ import annotations

import math

import numpy as np
import pytest

from insights import bkt, skill_eval


def random_responses(seed: int) -> skill_eval.Responses:
    rng = np.random.default_rng(seed)
    n = 200
    return skill_eval.Responses(
        learner=np.sort(rng.integers(0, 5, size=n)),
        skill=rng.choice([4, 8, 15], size=n),
        correct=rng.random(n) < 0.6,
        order=np.arange(n),
    )


WEIGHTS = bkt.AbilityParams(prior_weight=1.0, learn_weight=0.5, emission_weight=0.5, base_rate=0.6)


def test_predictions_never_see_the_answer_they_predict_or_later_ones():
    data = random_responses(3)
    skill_ids = np.array([4, 8, 15])
    params = [bkt.DEFAULT_PARAMS] * 3
    before = bkt.predict(skill_eval.sequences(data, skill_ids), params, WEIGHTS)

    # Flip every answer from position 120 on: predictions up to 120 must not move.
    flipped = data.correct.copy()
    flipped[120:] = ~flipped[120:]
    changed = skill_eval.Responses(data.learner, data.skill, flipped, data.order)
    after = bkt.predict(skill_eval.sequences(changed, skill_ids), params, WEIGHTS)

    assert after[:121] == pytest.approx(before[:121])
    # ...while later ones do depend on the flipped answers.
    assert not np.allclose(after[121:], before[121:])


def test_ability_reads_the_last_answers_of_the_learner_only_by_hand():
    # Learner 0: 1, 0, 1 (two skills); learner 1: 0.
    data = bkt.Sequences.build(
        np.array([0, 0, 0, 1]), np.array([0, 1, 0, 0]), np.array([True, False, True, False])
    )

    sums, counts = data.by_learner.window_sums(data.correct, window=2)
    abilities = bkt.learner_abilities(data.by_learner, data.correct, 0.5)

    assert sums.tolist() == [0, 1, 1, 0]
    assert counts.tolist() == [0, 1, 2, 0]
    # No history: exactly average. After 1 of 1 right with 5 virtual answers at .5: 3.5/6.
    assert abilities[0] == abilities[3] == 0
    assert abilities[1] == pytest.approx(math.log(3.5 / 2.5))


def test_individualise_leaves_an_average_learner_alone_and_helps_an_able_one():
    params = bkt.BKTParams(prior=0.3, learn=0.1, forget=0.02, guess=0.2, slip=0.1)

    average = bkt.individualise(params, np.array([0.0]), WEIGHTS)
    able = bkt.individualise(params, np.array([1.0]), WEIGHTS)

    assert (average.prior[0], average.guess[0], average.slip[0]) == pytest.approx((0.3, 0.2, 0.1))
    assert able.prior[0] > 0.3 and able.learn[0] > 0.1
    assert able.guess[0] > 0.2 and able.slip[0] < 0.1
    assert able.forget[0] == pytest.approx(0.02)


def test_ability_params_from_stored_json_are_clamped_and_default_to_none():
    assert bkt.AbilityParams.from_dict({}) == bkt.NO_ABILITY
    clamped = bkt.AbilityParams.from_dict(
        {"prior_weight": 99, "emission_weight": "x", "learn_weight": -1, "base_rate": 2}
    )
    assert (clamped.prior_weight, clamped.emission_weight, clamped.learn_weight) == (3.0, 0, 0)
    assert clamped.base_rate == 0.95


def test_fit_model_finds_ability_when_learners_differ():
    """Able learners answer better on every skill: the fitted weights must say so."""
    rng = np.random.default_rng(5)
    learners, skills, answers = [], [], []
    for learner in range(300):
        able = learner % 2 == 0
        for skill in range(3):
            for _ in range(6):
                learners.append(learner)
                skills.append(skill)
                answers.append(rng.random() < (0.85 if able else 0.35))
    data = bkt.Sequences.build(np.array(learners), np.array(skills), np.array(answers))

    fitted = bkt.fit_model(data, 3, iterations=10)

    assert fitted.ability.emission_weight + fitted.ability.prior_weight > 0
    assert fitted.ability.base_rate == pytest.approx(np.mean(answers))


def test_auc_is_not_a_number_with_one_class_only():
    auc, rmse = skill_eval.score(np.array([1.0, 1.0]), np.array([0.5, 1.0]))

    assert math.isnan(auc)
    assert rmse == pytest.approx(math.sqrt(0.125))
