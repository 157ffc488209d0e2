from __future__ import annotations

import numpy as np
import pytest

from insights import bkt

PARAMS = bkt.BKTParams(prior=0.3, learn=0.15, forget=0.02, guess=0.2, slip=0.1)


def test_three_answers_match_hand_computed_posteriors():
    # Answers: correct, wrong, correct. By hand (known = K, "then" = learn/forget step):
    # 1) P(c) = .3*.9 + .7*.2 = .41; P(K|c) = .27/.41 = .6585366;
    #    then .6585366*.98 + .3414634*.15 = .6453659 + .0512195 = .6965854
    # 2) P(c) = .6965854*.9 + .3034146*.2 = .6269268 + .0606829 = .6876098;
    #    P(K|w) = .6965854*.1 / (.0696585 + .3034146*.8) = .0696585/.3123902 = .2229856;
    #    then .2229856*.98 + .7770144*.15 = .2185259 + .1165522 = .3350781
    # 3) P(c) = .3350781*.9 + .6649219*.2 = .3015703 + .1329844 = .4345547;
    #    P(K|c) = .3015703/.4345547 = .6939755;
    #    then .6939755*.98 + .3060245*.15 = .6800960 + .0459037 = .7259996
    predicted, mastery = bkt.trace([True, False, True], PARAMS)

    assert predicted == pytest.approx([0.41, 0.6876098, 0.4345547], abs=1e-6)
    assert mastery == pytest.approx([0.6965854, 0.3350781, 0.7259996], abs=1e-6)
    assert float(bkt.posterior(0.3, True, PARAMS)) == pytest.approx(0.6585366, abs=1e-6)


def test_forgetting_pulls_mastery_down_without_evidence_of_it():
    # A learner who surely knew (P = 1 after Bayes) keeps 1 - forget of it.
    assert float(bkt.transition(1.0, PARAMS)) == pytest.approx(0.98)


def test_from_dict_clips_to_bounds_and_falls_back_on_garbage():
    params = bkt.BKTParams.from_dict({"prior": 2, "guess": 0.9, "slip": "x", "learn": None})

    assert params.prior == 0.99
    assert params.guess == 0.45  # a guess above 0.45 would make "known" meaningless
    assert params.slip == bkt.DEFAULT_PARAMS.slip
    assert params.learn == bkt.DEFAULT_PARAMS.learn


def test_layout_walks_sequences_in_time_order():
    # Two sequences (keys 7 and 3) interleaved in file order, order column scrambled.
    keys = np.array([7, 3, 7, 3, 7])
    order = np.array([2, 9, 0, 5, 1])
    layout = bkt.Layout.build(keys, order)

    # Key 7 in time: index 2 (order 0), 4 (order 1), 0 (order 2); key 3: index 3, then 1.
    assert layout.rank.tolist() == [2, 1, 0, 0, 1]
    assert layout.next_index.tolist() == [-1, -1, 4, 1, 0]
    assert layout.previous_index().tolist() == [4, 3, -1, -1, 2]
    assert [sorted(step.tolist()) for step in layout.steps] == [[2, 3], [1, 4], [0]]


def test_running_means_use_only_earlier_values():
    layout = bkt.Layout.build(np.zeros(4, dtype=int), np.arange(4))
    values = np.array([1.0, 0.0, 1.0, 1.0])

    # Before each value: init .5; then 1; then (1 + 0)/2; then 2/3.
    assert layout.running_average(values, init=0.5) == pytest.approx([0.5, 1, 0.5, 2 / 3])
    # decay .5: .5 -> .5*.5 + .5*1 = .75 -> .375 + 0 = .375 -> .1875 + .5 = .6875
    assert layout.running_mean(values, decay=0.5, init=0.5) == pytest.approx(
        [0.5, 0.75, 0.375, 0.6875]
    )


def test_batch_forward_matches_single_trace_and_never_looks_ahead():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 3, size=30)
    correct = rng.random(30) < 0.6
    layout = bkt.Layout.build(keys, np.arange(30))
    params = bkt.ParamArrays.from_params([PARAMS] * 30)

    predicted, mastery = bkt.forward(layout, correct, params)
    for key in range(3):
        rows = np.flatnonzero(keys == key)
        expected_pred, expected_mastery = bkt.trace(correct[rows], PARAMS)
        assert predicted[rows] == pytest.approx(expected_pred)
        assert mastery[rows] == pytest.approx(expected_mastery)

    # Flipping the last 10 answers changes no prediction made before them.
    flipped = correct.copy()
    flipped[20:] = ~flipped[20:]
    assert bkt.forward(layout, flipped, params)[0][:21] == pytest.approx(predicted[:21])


def simulate(params: bkt.BKTParams, *, learners: int, answers: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    known = rng.random(learners) < params.prior
    out = np.empty((learners, answers), dtype=bool)
    for t in range(answers):
        p = np.where(known, 1 - params.slip, params.guess)
        out[:, t] = rng.random(learners) < p
        stay = rng.random(learners)
        known = np.where(known, stay >= params.forget, stay < params.learn)
    return out


def test_em_fit_recovers_simulated_parameters():
    truth = [
        bkt.BKTParams(prior=0.2, learn=0.25, forget=0.05, guess=0.15, slip=0.1),
        bkt.BKTParams(prior=0.6, learn=0.1, forget=0.0, guess=0.3, slip=0.2),
    ]
    keys, skills, correct = [], [], []
    for skill, params in enumerate(truth):
        answers = simulate(params, learners=500, answers=15, seed=skill)
        keys.append(np.repeat(np.arange(500) * 2 + skill, 15))
        skills.append(np.full(answers.size, skill))
        correct.append(answers.ravel())
    keys_all, skills_all = np.concatenate(keys), np.concatenate(skills)
    layout = bkt.Layout.build(keys_all, np.arange(len(keys_all)))

    result = bkt.fit(layout, np.concatenate(correct), skills_all, 2, iterations=200)

    for fitted, expected in zip(result.params, truth, strict=True):
        for name in bkt.PARAM_NAMES:
            assert getattr(fitted, name) == pytest.approx(getattr(expected, name), abs=0.08), name


def test_fit_keeps_defaults_for_a_skill_without_data():
    layout = bkt.Layout.build(np.zeros(3, dtype=int), np.arange(3))

    result = bkt.fit(layout, np.array([True, True, False]), np.zeros(3, dtype=int), 2)

    assert result.params[1] == bkt.DEFAULT_PARAMS
