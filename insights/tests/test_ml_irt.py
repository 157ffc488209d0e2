from __future__ import annotations

import numpy as np
import pytest

from insights.ml.irt import analyze_assessment, fit_irt
from insights.tests.ml_data import build_answered_quiz


def _simulate(a: np.ndarray, b: np.ndarray, persons: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=persons)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x = (rng.random(p.shape) < p).astype(float)
    x[rng.random(p.shape) < 0.2] = np.nan  # a fifth of the questions not answered
    return x


def test_2pl_fit_recovers_simulated_parameters():
    a = np.array([0.8, 1.0, 1.2, 1.5, 1.8, 0.9, 1.3, 2.0, 1.1, 0.7])
    b = np.array([-1.5, -1.0, -0.5, 0.0, 0.3, 0.6, 1.0, 1.4, -0.2, 0.8])
    fit = fit_irt(_simulate(a, b, persons=3000, seed=1), model="2pl")
    assert fit.converged
    assert np.max(np.abs(fit.difficulty - b)) < 0.3
    assert np.max(np.abs(fit.discrimination - a)) < 0.35


def test_1pl_fit_recovers_difficulties_of_rasch_data():
    b = np.linspace(-2, 2, 8)
    fit = fit_irt(_simulate(np.ones(8), b, persons=1500, seed=2), model="1pl")
    assert np.all(fit.discrimination == 1)
    assert np.max(np.abs(fit.difficulty - b)) < 0.3


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="Unknown IRT model"):
        fit_irt(np.zeros((3, 2)), model="3pl")


@pytest.fixture
def answered_quiz(db):
    return build_answered_quiz()


@pytest.mark.django_db
def test_item_analysis_flags_broken_questions(answered_quiz, django_assert_max_num_queries):
    quiz, qs, easy_distractor = answered_quiz
    # questions with skills, their choices, the answers
    with django_assert_max_num_queries(3):
        items = {i.question_id: i for i in analyze_assessment(assessment=quiz)}

    assert items[qs[0].id].answers == 40
    assert items[qs[0].id].share_correct == 0.75
    assert items[qs[0].id].discrimination > 0.3  # diluted by the broken and trivial ones
    assert items[qs[0].id].flags == []

    assert items[qs[3].id].discrimination < 0
    assert items[qs[3].id].flags[0].startswith("negative discrimination")

    easy = items[qs[4].id]
    assert "almost everyone answers correctly (100%)" in easy.flags
    assert "distractor nobody picks: “Nobody falls for this”" in easy.flags
    assert {d["choice_id"]: d["picked"] for d in easy.distractors}[easy_distractor.id] == 0

    # Fitted (1PL: too few answers for 2PL): harder questions get higher difficulty.
    fitted = [items[q.id] for q in qs[:3]]
    assert [i.irt_model for i in fitted] == ["1pl"] * 3
    assert fitted[0].irt_difficulty < fitted[1].irt_difficulty < fitted[2].irt_difficulty
    assert not any(i.difficulty_predicted for i in fitted)


@pytest.mark.django_db
def test_thin_question_gets_a_predicted_difficulty_from_its_skill(answered_quiz):
    quiz, qs, _ = answered_quiz
    items = {i.question_id: i for i in analyze_assessment(assessment=quiz)}
    thin = items[qs[5].id]
    assert thin.answers == 5
    assert thin.difficulty_predicted
    assert thin.difficulty_basis == "predicted from 3 fitted question(s) on Algebra"
    expected = np.mean([items[q.id].irt_difficulty for q in qs[:3]])
    assert thin.irt_difficulty == pytest.approx(expected)
