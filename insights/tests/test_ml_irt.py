from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from accounts.models import User
from assessments.models import Answer, AssessmentAttempt
from assessments.tests.factories import AssessmentFactory, QuestionFactory
from catalog.tests.factories import SkillFactory
from insights.ml.irt import SkillFits, analyze_assessment, fit_irt
from insights.tests.ml_data import T, build_answered_quiz


def _simulate(a: np.ndarray, b: np.ndarray, persons: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=persons)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x = (rng.random(p.shape) < p).astype(float)
    x[rng.random(p.shape) < 0.2] = np.nan  # a fifth of the questions not answered
    return x


def test_1pl_fit_recovers_difficulties_of_rasch_data():
    b = np.linspace(-2, 2, 8)
    fit = fit_irt(_simulate(np.ones(8), b, persons=1500, seed=2))
    assert fit.converged
    assert np.max(np.abs(fit.difficulty - b)) < 0.3


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one item"):
        fit_irt(np.zeros((3, 0)))


@pytest.fixture
def answered_quiz(db):
    return build_answered_quiz()


@pytest.mark.django_db
def test_item_analysis_flags_broken_questions(answered_quiz, django_assert_max_num_queries):
    quiz, qs, easy_distractor = answered_quiz
    # questions with skills, their choices, the answers; one per skill fitted (Algebra, Logic)
    with django_assert_max_num_queries(5):
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
    assert [i.irt_model for i in fitted] == ["2lc"] * 3
    assert fitted[0].irt_difficulty < fitted[1].irt_difficulty < fitted[2].irt_difficulty
    assert not any(i.difficulty_predicted for i in fitted)


@pytest.mark.django_db
def test_thin_question_gets_a_predicted_difficulty_from_its_skill(answered_quiz):
    quiz, qs, _ = answered_quiz
    items = {i.question_id: i for i in analyze_assessment(assessment=quiz)}
    thin = items[qs[5].id]
    assert thin.answers == 5
    assert thin.difficulty_predicted
    assert thin.difficulty_basis == "predicted from 3 fitted beginner question(s) on Algebra"
    expected = np.mean([items[q.id].irt_difficulty for q in qs[:3]])
    assert thin.irt_difficulty == pytest.approx(expected)


@pytest.mark.django_db
def test_adaptive_routing_is_fitted_per_skill_one_person_per_attempt():
    """An adaptive attempt asks a hard question only after a right answer on the same
    skill, an easy one after a wrong one, then a third question. Learners know a skill or
    not (guess and slip as in the skill model; on Logic knowing decides almost every
    answer), and each takes two attempts, learning in between. One ability across both
    skills, or a normal ability per skill, read the hard questions as easier than they
    are; per skill, each attempt one person, known or not, the difficulties come back."""
    rng = np.random.default_rng(7)
    diagnostic = AssessmentFactory()
    true_b = {"medium": 0.0, "hard": 1.5, "easy": -1.5, "third": 0.5}
    skills = {SkillFactory(name="Algebra"): (0.2, 0.1), SkillFactory(name="Logic"): (0.02, 0.02)}
    questions = {
        (skill.pk, level): QuestionFactory(assessment=diagnostic, skill=skill)
        for skill in skills
        for level in true_b
    }
    learners = User.objects.bulk_create(
        [User(email=f"routed{j}@example.com", password="!") for j in range(500)]
    )

    def right(known: bool, guess: float, slip: float, level: str) -> bool:
        base = np.log((1 - slip) / slip) if known else np.log(guess / (1 - guess))
        return bool(rng.random() < 1 / (1 + np.exp(-(base - true_b[level]))))

    answers = []
    for learner in learners:
        known = {skill.pk: rng.random() < 0.5 for skill in skills}
        for week in range(2):
            attempt = AssessmentAttempt.objects.create(
                learner=learner,
                assessment=diagnostic,
                started_at=T + timedelta(weeks=week),
                submitted_at=T + timedelta(weeks=week),
            )
            for skill, (guess, slip) in skills.items():
                known[skill.pk] = known[skill.pk] or (week == 1 and rng.random() < 0.3)
                first = right(known[skill.pk], guess, slip, "medium")
                follow = "hard" if first else "easy"
                for level, ok in (
                    ("medium", first),
                    (follow, right(known[skill.pk], guess, slip, follow)),
                    ("third", right(known[skill.pk], guess, slip, "third")),
                ):
                    answers.append(
                        Answer(
                            attempt=attempt,
                            question=questions[(skill.pk, level)],
                            response={"value": "x"},
                            is_correct=ok,
                            answered_at=T,
                        )
                    )
    Answer.objects.bulk_create(answers)

    items = {i.question_id: i for i in analyze_assessment(assessment=diagnostic)}

    for skill in skills:
        fitted = {level: items[questions[(skill.pk, level)].pk] for level in true_b}
        assert not any(i.difficulty_predicted for i in fitted.values())
        assert {i.irt_model for i in fitted.values()} == {"2lc"}
        # Centred per skill (answer-weighted): only the gaps between questions are compared.
        b = {level: item.irt_difficulty for level, item in fitted.items()}
        if skill.name == "Algebra":
            assert b["hard"] - b["medium"] == pytest.approx(1.5, abs=0.4)
            assert b["medium"] - b["easy"] == pytest.approx(1.5, abs=0.4)
            assert b["third"] - b["medium"] == pytest.approx(0.5, abs=0.4)
        else:
            # Knowing decides almost every answer: the few exceptions carry the gaps, so
            # only the order is sharp (a normal ability read it upside down).
            assert b["easy"] + 1 < b["medium"] < b["hard"] - 1
        weights = [i.answers for i in fitted.values()]
        centre = np.average([i.irt_difficulty for i in fitted.values()], weights=weights)
        assert centre == pytest.approx(0.0, abs=0.05)


@pytest.mark.django_db
def test_a_skill_shared_by_assessments_is_fitted_once(django_assert_num_queries):
    quiz, qs, _ = build_answered_quiz()
    other = AssessmentFactory()
    QuestionFactory(assessment=other, skill=qs[0].skill)
    fits = SkillFits()
    analyze_assessment(assessment=quiz, skill_fits=fits)
    # questions, choices, answers: Algebra's fit is reused
    with django_assert_num_queries(3):
        analyze_assessment(assessment=other, skill_fits=fits)
