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


def _reference_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """80 learners x 12 answers on two skills, in time order per learner."""
    rng = np.random.default_rng(11)
    learners, answers = 80, 12
    able = rng.normal(0, 1, learners)
    rows = []
    for learner in range(learners):
        known = rng.random(2) < 0.3 + 0.1 * able[learner]
        for _ in range(answers):
            skill = int(rng.integers(0, 2))
            p = 0.9 if known[skill] else 0.2 + 0.05 * (able[learner] > 0)
            rows.append((learner, skill, rng.random() < p))
            if not known[skill]:
                known[skill] = rng.random() < 0.2
    learner, skill, correct = (np.array(column) for column in zip(*rows, strict=True))
    return learner, skill, correct.astype(bool)


@pytest.mark.parametrize("teaches", [None, "all"])
def test_every_answer_teaching_gives_exactly_the_numbers_before_the_flag(teaches):
    """The fit, the predictions and the mastery with every response teaching (the default,
    and an explicit all-True flag) are the figures the model gave before the ``teaches``
    flag existed (recorded from commit 02ee18a on the same data), to the last bit: the
    ASSISTments evaluation and every existing caller are unchanged."""
    learner, skill, correct = _reference_data()
    flags = None if teaches is None else np.ones(len(correct), dtype=bool)
    data = bkt.Sequences.build(learner, skill, correct, flags)

    fitted = bkt.fit_model(data, 2, iterations=25)
    predicted = bkt.predict(data, fitted.params, fitted.ability)
    _, mastery = bkt.forward(
        data.by_skill,
        data.correct,
        bkt.ParamArrays.from_params(fitted.params).take(data.skill),
        flags,
    )

    assert fitted.log_likelihood == -543.0349742786008
    assert fitted.em_iterations == 18
    assert fitted.params == [
        bkt.BKTParams(
            prior=0.32839260687815164,
            learn=0.16970061787437035,
            forget=0.0016688378707098675,
            guess=0.22145623036524967,
            slip=0.11011255319741318,
        ),
        bkt.BKTParams(
            prior=0.25612282479275944,
            learn=0.20343736635073914,
            forget=0.003106319994314048,
            guess=0.22404274410384417,
            slip=0.09431299795759424,
        ),
    ]
    assert float(predicted.sum()) == 580.8215822339189
    assert float(mastery.sum()) == 620.2408454532381


def test_an_answer_that_does_not_teach_gets_bayes_without_the_transition():
    wrong_quiz = float(bkt.update(PARAMS.prior, False, PARAMS))
    wrong_diagnostic = float(bkt.update(PARAMS.prior, False, PARAMS, teaches=False))

    assert wrong_diagnostic == pytest.approx(float(bkt.posterior(PARAMS.prior, False, PARAMS)))
    assert wrong_diagnostic == pytest.approx(0.0508, abs=1e-4)
    assert wrong_quiz == pytest.approx(0.1922, abs=1e-4)
    # Per response, side by side, as the vectorised recursion does it.
    both = bkt.update(np.array([0.3, 0.3]), np.array([False, False]), PARAMS, np.array([1, 0]))
    assert both == pytest.approx([wrong_quiz, wrong_diagnostic])


def test_forward_applies_no_transition_after_a_response_that_does_not_teach():
    correct = np.array([True, False, True, True, False, True])
    teaches = np.array([False, False, True, False, True, True])
    layout = bkt.Layout.build(np.zeros(6, dtype=int), np.arange(6))
    params = bkt.ParamArrays.from_params([PARAMS] * 6)

    predicted, mastery = bkt.forward(layout, correct, params, teaches)

    expected_pred, expected_mastery = bkt.trace(correct, PARAMS, teaches)
    assert predicted == pytest.approx(expected_pred)
    assert mastery == pytest.approx(expected_mastery)
    # By hand for the first: Bayes only.
    assert mastery[0] == pytest.approx(float(bkt.posterior(0.3, True, PARAMS)))
    with pytest.raises(ValueError, match="shape"):
        bkt.forward(layout, correct, params, teaches[:3])


def test_fit_recovers_learn_when_only_teaching_answers_learn():
    """Each learner takes a diagnostic of four answers that teach nothing, then ten quiz
    answers that do. Told which answers teach, the fit finds the true learn; fitted as
    if every answer taught, it underestimates it (the diagnostic's answers show none)."""
    truth = bkt.BKTParams(prior=0.3, learn=0.25, forget=0.0, guess=0.2, slip=0.1)
    rng = np.random.default_rng(5)
    learners, diagnostic, quiz = 600, 4, 10
    teaches_row = np.array([False] * diagnostic + [True] * quiz)
    known = rng.random(learners) < truth.prior
    answers = np.empty((learners, diagnostic + quiz), dtype=bool)
    for t, teaches in enumerate(teaches_row):
        answers[:, t] = rng.random(learners) < np.where(known, 1 - truth.slip, truth.guess)
        if teaches:
            known = known | (rng.random(learners) < truth.learn)
    keys = np.repeat(np.arange(learners), diagnostic + quiz)
    layout = bkt.Layout.build(keys, np.arange(len(keys)))
    skills = np.zeros(len(keys), dtype=int)
    flags = np.tile(teaches_row, learners)

    told = bkt.fit(layout, answers.ravel(), skills, 1, iterations=200, teaches=flags)
    untold = bkt.fit(layout, answers.ravel(), skills, 1, iterations=200)

    assert told.params[0].learn == pytest.approx(truth.learn, abs=0.04)
    assert told.params[0].prior == pytest.approx(truth.prior, abs=0.05)
    assert abs(untold.params[0].learn - truth.learn) > abs(told.params[0].learn - truth.learn)
    assert untold.params[0].learn < truth.learn - 0.05


def test_study_learns_and_never_forgets():
    forgetful = bkt.BKTParams(prior=0.3, learn=0.2, forget=0.3, guess=0.2, slip=0.1)

    assert bkt.study(0.9, forgetful) == pytest.approx(0.92)
    assert bkt.transition(0.9, forgetful) == pytest.approx(0.65)


def test_the_fit_reads_no_forgetting_into_study_between_answers():
    """Learners answer a diagnostic (no feedback), study, then answer one quiz question; a
    third of those who knew it miss it. Told that the diagnostic's last transition is study
    (learning only), the fit has no transition to read forgetting from and keeps the
    default; fitted as a full transition, it reads that drop as a large forget (world 2's
    PostgreSQL: 0.37 per opportunity)."""
    rng = np.random.default_rng(11)
    learners, diagnostic, quiz = 500, 3, 1
    known = rng.random(learners) < 0.8
    dropped = known & (rng.random(learners) < 1 / 3)
    answers = np.empty((learners, diagnostic + quiz), dtype=bool)
    for t in range(diagnostic):
        answers[:, t] = rng.random(learners) < np.where(known, 0.9, 0.2)
    for t in range(diagnostic, diagnostic + quiz):
        answers[:, t] = ~dropped & (rng.random(learners) < np.where(known, 0.9, 0.2))
    keys = np.repeat(np.arange(learners), diagnostic + quiz)
    layout = bkt.Layout.build(keys, np.arange(len(keys)))
    skills = np.zeros(len(keys), dtype=int)
    row = np.array([False, False, True] + [True] * quiz)
    study_row = np.array([False, False, True] + [False] * quiz)
    teaches, studied = np.tile(row, learners), np.tile(study_row, learners)

    told = bkt.fit(layout, answers.ravel(), skills, 1, teaches=teaches, studied=studied)
    untold = bkt.fit(layout, answers.ravel(), skills, 1, teaches=teaches)

    assert told.params[0].forget == pytest.approx(bkt.DEFAULT_PARAMS.forget)
    assert untold.params[0].forget > 0.15


def test_a_miss_on_a_hard_item_is_weaker_evidence_than_a_miss_on_an_easy_one():
    """KT-IDEM: with item weight 1, a hard item (b = +1.5) moves slip up and guess down."""
    weights = bkt.AbilityParams(item_weight=1.0)
    base = bkt.DEFAULT_PARAMS

    def after(correct: bool, difficulty: float) -> float:
        params = bkt.individualise(base, 0.0, weights, difficulty)
        return float(bkt.posterior(0.5, correct, params))

    assert after(False, 1.5) > after(False, 0.0) > after(False, -1.5)
    assert after(True, 1.5) > after(True, 0.0) > after(True, -1.5)
    # Without the weight, or at difficulty 0, nothing moves.
    plain = bkt.individualise(base, 0.0, bkt.NO_ABILITY, 1.5)
    assert float(plain.slip) == pytest.approx(base.slip)
    assert float(plain.guess) == pytest.approx(base.guess)


def test_the_fit_finds_the_item_weight_when_items_differ_and_none_without_items():
    """Answers drawn as the learner simulator does (P(correct) shifted by the item's
    difficulty); the grid picks item weight 1, and 0 when every difficulty is 0."""
    truth = bkt.BKTParams(prior=0.5, learn=0.1, forget=0.0, guess=0.2, slip=0.1)
    rng = np.random.default_rng(11)
    learners, answers = 800, 8
    difficulty = rng.choice([-1.5, -0.5, 0.5, 1.5], size=(learners, answers))
    known = rng.random(learners) < truth.prior
    correct = np.empty((learners, answers), dtype=bool)
    for t in range(answers):
        shifted = bkt.individualise(
            truth, 0.0, bkt.AbilityParams(item_weight=1.0), difficulty[:, t]
        )
        p = np.where(known, 1 - shifted.slip, shifted.guess)
        correct[:, t] = rng.random(learners) < p
        known = known | (rng.random(learners) < truth.learn)
    learner = np.repeat(np.arange(learners), answers)
    skill = np.zeros(learners * answers, dtype=int)

    with_items = bkt.fit_model(
        bkt.Sequences.build(learner, skill, correct.ravel(), difficulty=difficulty.ravel()), 1
    )
    without = bkt.fit_model(bkt.Sequences.build(learner, skill, correct.ravel()), 1)

    assert with_items.ability.item_weight == 1.0
    assert without.ability.item_weight == 0.0
    assert with_items.log_likelihood > without.log_likelihood


def test_fit_reads_guess_and_slip_on_an_average_item_when_hard_items_go_to_knowers():
    """An adaptive diagnostic: after a right answer a hard item (b = +1.5), after a wrong one
    an easy item (b = -1.5), four answers that teach nothing. Told the items' difficulties,
    the fit finds the skill's guess and slip on an average item; without them it reads the
    knowers' misses on hard items as the skill's slips and the others' hits on easy items as
    its guesses. With every difficulty 0 it is exactly the fit without them."""
    truth = bkt.BKTParams(prior=0.5, learn=0.1, forget=0.0, guess=0.15, slip=0.1)
    rng = np.random.default_rng(9)
    learners, questions = 2000, 4
    known = rng.random(learners) < truth.prior
    answers = np.empty((learners, questions), dtype=bool)
    difficulty = np.zeros((learners, questions))
    for t in range(questions):
        if t:
            difficulty[:, t] = np.where(answers[:, t - 1], 1.5, -1.5)
        base = np.where(known, bkt._logit(1 - truth.slip), bkt._logit(truth.guess))
        answers[:, t] = rng.random(learners) < bkt._sigmoid(base - difficulty[:, t])
    keys = np.repeat(np.arange(learners), questions)
    layout = bkt.Layout.build(keys, np.arange(len(keys)))
    skills = np.zeros(len(keys), dtype=int)
    flags = np.zeros(len(keys), dtype=bool)

    told = bkt.fit(
        layout, answers.ravel(), skills, 1, iterations=200, teaches=flags,
        difficulty=difficulty.ravel(),
    )  # fmt: skip
    untold = bkt.fit(layout, answers.ravel(), skills, 1, iterations=200, teaches=flags)
    flat = bkt.fit(
        layout, answers.ravel(), skills, 1, iterations=200, teaches=flags,
        difficulty=np.zeros(len(keys)),
    )  # fmt: skip

    assert told.params[0].slip == pytest.approx(truth.slip, abs=0.03)
    assert told.params[0].guess == pytest.approx(truth.guess, abs=0.03)
    assert told.params[0].prior == pytest.approx(truth.prior, abs=0.04)
    assert untold.params[0].slip > truth.slip + 0.05
    assert untold.params[0].guess > truth.guess + 0.05
    assert flat.params == untold.params
