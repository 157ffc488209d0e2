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


def test_features_never_see_the_answer_they_predict_or_later_ones():
    data = random_responses(3)
    skill_ids = np.array([4, 8, 15])
    params = bkt.ParamArrays.from_params([bkt.DEFAULT_PARAMS] * 3)
    before = skill_eval.features(skill_eval.Indexed.build(data, skill_ids), params, 0.6)

    # Flip every answer from position 120 on: features up to 120 must not move.
    flipped = data.correct.copy()
    flipped[120:] = ~flipped[120:]
    changed = skill_eval.Responses(data.learner, data.skill, flipped, data.order)
    after = skill_eval.features(skill_eval.Indexed.build(changed, skill_ids), params, 0.6)

    for name in skill_eval.FEATURES:
        assert after[name][:121] == pytest.approx(before[name][:121]), name
    # ...while later ones do depend on the flipped answers.
    assert not np.allclose(after["bkt_logit"][121:], before["bkt_logit"][121:])


def test_same_skill_streak_and_first_on_skill_by_hand():
    data = skill_eval.Responses(
        learner=np.array([0, 0, 0, 0, 1]),
        skill=np.array([4, 4, 8, 4, 4]),
        correct=np.array([True, False, True, True, False]),
        order=np.arange(5),
    )
    params = bkt.ParamArrays.from_params([bkt.DEFAULT_PARAMS] * 2)

    feats = skill_eval.features(skill_eval.Indexed.build(data, np.array([4, 8])), params, 0.5)

    assert feats["first_on_skill"].tolist() == [1, 0, 1, 0, 1]
    assert feats["same_skill_streak"].tolist() == [0, 1, 0, 0, 0]
    assert feats["skill_attempts"] == pytest.approx(np.log1p([0, 1, 0, 2, 0]))
    # Learner 0 on skill 4 before the 4th answer: .5 -> .7*.5 + .3*1 = .65 -> .7*.65 + 0 = .455
    assert feats["skill_recent"][3] == pytest.approx(math.log(0.455 / 0.545))


def test_auc_is_not_a_number_with_one_class_only():
    auc, rmse = skill_eval.score(np.array([1.0, 1.0]), np.array([0.5, 1.0]))

    assert math.isnan(auc)
    assert rmse == pytest.approx(math.sqrt(0.125))
