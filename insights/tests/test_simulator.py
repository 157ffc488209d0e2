"""The learner simulator: its generative model, the adaptivity benchmark's command, and the
demo cohort seed_demo builds with it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from assessments.tests.adaptive import make_bank
from catalog.demo_seed import seed_demo
from insights import bkt
from insights.ml.registry import active_model
from insights.ml.selectors import risks_for_instructor
from insights.models import (
    ItemAnalysisRun,
    LearningPathSnapshot,
    MLModel,
    PendingJob,
    QuestionItemAnalysis,
    Recommendation,
)
from insights.sim.bound import bayes_bound
from insights.sim.cohort import COHORT_DOMAIN, seed_cohort
from insights.sim.driver import Actor, CatalogView
from insights.sim.generative import SimLearner, World, load_params
from learning.models import Enrollment, LearnerEvent, LearningGoal
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _world(seed: int = 3) -> World:
    return World.draw(skill_slugs=["python", "sql"], seed=seed, params=load_params())


def test_shipped_parameters_come_from_the_assistments_fit_and_stay_in_bounds():
    params = load_params()
    assert "ASSISTments 2009" in params.source
    assert len(params.skill_params) >= 50
    for p in params.skill_params:
        assert p.guess + p.slip < 1
        for name in bkt.PARAM_NAMES:
            low, high = bkt.BOUNDS[name]
            assert low <= getattr(p, name) <= high
    # Skills differ as real ones do: not one tuple repeated.
    assert len({p.learn for p in params.skill_params}) > 10
    assert 0.3 < params.ability_sd < 2
    assert 0.3 < params.item_difficulty_sd < 2


def test_known_skills_are_answered_better_and_hard_items_worse():
    learner = SimLearner.draw(world=_world(), seed=1, now=NOW, known={"python": True, "sql": False})
    assert learner.p_correct(skill="python", difficulty=0) > learner.p_correct(
        skill="sql", difficulty=0
    )
    assert learner.p_correct(skill="python", difficulty=1.5) < learner.p_correct(
        skill="python", difficulty=-1.5
    )


def test_studying_teaches_and_idle_weeks_forget():
    world = _world()
    learners = [
        SimLearner.draw(world=world, seed=i, now=NOW, known={"python": False}) for i in range(300)
    ]
    for learner in learners:
        learner.study(skills=["python"], minutes=60, now=NOW)
    learnt = sum(learner.known["python"] for learner in learners)
    assert learnt > 30  # six opportunities each with the skill's learn rate

    forgetful = [
        SimLearner.draw(world=world, seed=i, now=NOW, known={"python": True}) for i in range(300)
    ]
    for learner in forgetful:
        learner.params["python"] = bkt.BKTParams(
            **{**learner.params["python"].as_dict(), "forget": 0.2}
        )
        learner.pass_time(now=NOW + timedelta(weeks=10))
    kept = sum(learner.known["python"] for learner in forgetful)
    assert kept < 100  # 0.8 ** 10 = 11 % expected


def _eager(learner: SimLearner, skill: str) -> SimLearner:
    """The learner learns ``skill`` from any one opportunity that teaches (learn = 1)."""
    learner.params[skill] = bkt.BKTParams(**{**learner.params[skill].as_dict(), "learn": 1.0})
    return learner


def test_an_answer_teaches_the_simulated_learner_only_with_feedback():
    world = _world()
    measured = _eager(
        SimLearner.draw(world=world, seed=1, now=NOW, known={"python": False}), "python"
    )
    for _ in range(20):
        measured.answer(skill="python", difficulty=0.0, now=NOW, teaches=False)
    assert measured.known["python"] is False

    quizzed = _eager(
        SimLearner.draw(world=world, seed=1, now=NOW, known={"python": False}), "python"
    )
    quizzed.answer(skill="python", difficulty=0.0, now=NOW, teaches=True)
    assert quizzed.known["python"] is True


def test_the_simulated_learner_learns_nothing_from_an_adaptive_attempt_but_from_a_quiz(db):
    bank = make_bank(("python",))
    user = LearnerFactory()
    goal = LearningGoalFactory(learner=user, title="Python")
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"], target_level=7)
    world = _world()
    mind = _eager(SimLearner.draw(world=world, seed=1, now=NOW, known={"python": False}), "python")
    actor = Actor(user=user, mind=mind, now=NOW)
    catalog = CatalogView.load()

    diagnostic = actor.take(assessment=bank["diagnostic"], catalog=catalog)

    assert diagnostic.is_submitted and diagnostic.is_adaptive
    assert actor.answers_by_skill["python"] >= 3
    assert mind.known["python"] is False  # learn = 1, yet no answer taught anything

    quiz = actor.take(assessment=bank["quiz"], catalog=catalog)

    assert quiz.is_submitted and not quiz.is_adaptive
    assert mind.known["python"] is True


def test_a_world_is_reproducible_from_its_seed():
    a, b = _world(5), _world(5)
    assert a.skills == b.skills
    assert a.item_difficulty(question_id=7, label="advanced") == b.item_difficulty(
        question_id=7, label="advanced"
    )
    first = SimLearner.draw(world=a, seed=2, now=NOW)
    again = SimLearner.draw(world=b, seed=2, now=NOW)
    assert first.known == again.known and first.ability == again.ability
    assert random.Random(1).random() == random.Random(1).random()


@pytest.mark.slow
def test_benchmark_command_prints_the_four_metrics_and_keeps_nothing(db):
    seed_demo(now=NOW)
    users_before, jobs_before = User.objects.count(), PendingJob.objects.count()
    out = StringIO()

    call_command("simulate_adaptivity", "--learners", "8", "--seed", "2", stdout=out)

    text = out.getvalue()
    assert "8 simulated learners" in text
    assert "diagnostic accuracy:" in text and "questions per skill:" in text
    assert "wasted path time (as followed):" in text
    assert "course challenges taken first:" in text
    assert "time to goal" in text and "half" in text
    assert "h of prerequisite courses teaching no goal skill" in text
    assert "recommendation precision:" in text
    assert "  after the diagnostic: " in text and "  after the path: " in text
    # One rolled-back transaction: no simulated learner, goal or job is left behind.
    assert User.objects.count() == users_before
    assert PendingJob.objects.count() == jobs_before


@pytest.mark.slow
def test_benchmark_fits_the_skill_model_on_a_history_and_can_run_the_true_model(db):
    from insights.sim.benchmark import run_benchmark
    from insights.skills import load_skill_model

    seed_demo(now=NOW)

    report = run_benchmark(learners=4, seed=2, now=NOW, history=12)

    # The weekly re-fit ran on the history learners' answers (those of the measured ones
    # came after it), inside the transaction that was rolled back.
    assert report.skill_model.startswith("version 1, fitted by the weekly re-fit on ")
    assert "after 12 history learners (and the nightly item analysis)" in report.skill_model
    assert "skill model: version 1" in "\n".join(report.lines())
    assert not MLModel.objects.filter(name="skill_model").exists()

    report = run_benchmark(learners=1, seed=2, now=NOW, true_model=True, keep=True)

    assert "true parameters" in report.skill_model
    model = load_skill_model()
    world = World.draw(skill_slugs=model.params, seed=2, params=load_params())
    assert model.params == world.skills
    assert model.ability == world.params.ability_weights


def test_benchmark_command_rejects_bad_options_and_an_empty_catalogue(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("simulate_adaptivity", "--learners", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="at least 1"):
        call_command("simulate_adaptivity", "--bound", "--draws", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate_adaptivity", "--learners", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate_adaptivity", "--bound", stdout=StringIO())
    with pytest.raises(CommandError, match="0 or more"):
        call_command("simulate_adaptivity", "--history", "-1", stdout=StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("simulate_adaptivity", "--history", "5", "--true-model", stdout=StringIO())


def test_the_bayes_bound_beats_the_default_model_and_grows_with_the_questions():
    """The observer who knows the true parameters classifies better than the default skill
    model on the same answers, more questions help it, and asking until sure needs fewer
    questions than a fixed test for as much accuracy."""
    world = World.draw(skill_slugs=["python", "sql", "git"], seed=3, params=load_params())
    labels = ("beginner", "intermediate", "advanced")
    bank = {
        slug: [(100 * n + i, labels[i % 3]) for i in range(8)]
        for n, slug in enumerate(world.skills)
    }
    rows = {
        questions: bayes_bound(
            world=world, bank=bank, questions=questions, draws=3000, seed=1, now=NOW
        )
        for questions in (1, 4, 8, None)
    }

    # One answer says little to either; from a few answers on, knowing the truth shows.
    assert rows[1].bayes_accuracy >= rows[1].default_model_accuracy - 0.01
    for questions in (4, 8):
        assert rows[questions].bayes_accuracy > rows[questions].default_model_accuracy + 0.01
    assert rows[1].bayes_accuracy < rows[4].bayes_accuracy < rows[8].bayes_accuracy
    # A diagnostic's answers teach nothing, so the truth holds still while it is measured
    # and eight fixed answers pin it down best; asking until sure does better than a fixed
    # test of four on fewer questions.
    assert rows[None].questions < 4
    assert rows[None].bayes_accuracy >= rows[4].bayes_accuracy
    # Known skills called not known: fewer with more answers, never none on a few (slips
    # and guesses happen).
    assert 0 < rows[8].bayes_missed_known < rows[1].bayes_missed_known < 1


@pytest.mark.slow
def test_demo_cohort_after_seed_demo_on_an_empty_database(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)

    cohort = User.objects.filter(email__endswith=f"@{COHORT_DOMAIN}")
    assert cohort.count() >= 150
    instructor = User.objects.get(email="instructor@skillstudio.test")
    learner = User.objects.get(email="learner@skillstudio.test")
    # The instructor's courses have learners, some of whom dropped, some finished.
    statuses = set(
        Enrollment.objects.filter(learner__in=cohort, course__owner=instructor).values_list(
            "status", flat=True
        )
    )
    assert {Enrollment.Status.ACTIVE, Enrollment.Status.DROPPED} <= statuses
    assert LearnerEvent.objects.filter(learner__in=cohort).exists()
    # Models trained on the cohort and active; risks scored with factors.
    for name in ("dropout", "segments", "course_cf", "lesson_cf"):
        assert active_model(name) is not None, name
        assert MLModel.objects.filter(name=name, is_active=True).exists()
    risks = risks_for_instructor(user=instructor)
    assert risks.exists()
    assert any(risk.factors for risk in risks)
    # Item analysis has figures, not just rows.
    assert ItemAnalysisRun.objects.exists()
    assert QuestionItemAnalysis.objects.filter(share_correct__isnull=False).count() >= 10
    # The demo learner has a goal, a path and recommendations.
    goal = LearningGoal.objects.get(learner=learner)
    assert LearningPathSnapshot.objects.filter(goal=goal).exists()
    assert Recommendation.objects.filter(learner=learner, status="active").exists()
    # The cohort's follow-ups already ran: nothing queued for a worker.
    assert not PendingJob.objects.filter(
        status=PendingJob.Status.PENDING,
        kwargs__learner_id__in=list(cohort.values_list("pk", flat=True)),
    ).exists()

    # Idempotent: a second run adds no learner and trains nothing new.
    models_before = MLModel.objects.count()
    again = seed_cohort(now=NOW + timedelta(days=1))
    assert again.learners == 0
    assert MLModel.objects.count() == models_before
    assert "already present" in again.text()


def test_item_recovery_compares_fitted_gaps_within_skills_and_skips_predicted_ones(db):
    from insights.sim.benchmark import item_recovery

    bank = make_bank()
    world = _world()
    questions = sorted(bank["quiz"].questions.all(), key=lambda q: q.pk)
    run = ItemAnalysisRun.objects.create(assessment=bank["quiz"], answers=0, computed_at=NOW)
    assert item_recovery(world) is None  # nothing fitted yet

    # Each skill's fitted difficulties are the true ones shifted by a per-skill constant
    # (the fit centres them): a perfect recovery, whatever the shift.
    shift = {bank["skills"]["python"].pk: 2.0, bank["skills"]["sql"].pk: -1.0}
    for q in questions:
        true = world.item_difficulty(question_id=q.pk, label=q.difficulty)
        QuestionItemAnalysis.objects.create(
            run=run, question=q, answers=50, irt_difficulty=true + shift[q.skill_id]
        )
    recovery = item_recovery(world)
    assert recovery.questions == 12
    assert recovery.correlation == pytest.approx(1.0)

    # A predicted difficulty is not a fit: left out, even when far off.
    QuestionItemAnalysis.objects.filter(question=questions[0]).update(
        irt_difficulty=-50, difficulty_predicted=True
    )
    assert item_recovery(world).questions == 11
    assert item_recovery(world).correlation == pytest.approx(1.0)
    # Reversed gaps within each skill read as r = -1.
    for row in QuestionItemAnalysis.objects.filter(difficulty_predicted=False):
        true = world.item_difficulty(question_id=row.question_id, label=row.question.difficulty)
        row.irt_difficulty = -true
        row.save()
    assert item_recovery(world).correlation == pytest.approx(-1.0)
