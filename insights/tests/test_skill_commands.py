from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from accounts.models import LearnerProfile
from accounts.tests.factories import LearnerFactory
from assessments.models import Answer
from assessments.tests.factories import AssessmentAttemptFactory, QuestionFactory
from catalog.models import Skill
from catalog.tests.factories import LessonFactory, SkillFactory
from insights import bkt, skill_eval, skills
from insights.models import LearnerSkillState, MLModel
from learning.models import LessonProgress
from learning.tests.factories import LessonProgressFactory

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def write_builder(path: Path, learners: list[tuple[list[int], list[int]]]) -> None:
    """ASSISTments layout; every other learner's lines end with a trailing comma."""
    lines = []
    for i, (skill_ids, answers) in enumerate(learners):
        end = "," if i % 2 == 0 else ""
        lines += [
            f"{len(skill_ids)}{end}",
            ",".join(map(str, skill_ids)) + end,
            ",".join(map(str, answers)) + end,
        ]
    path.write_text("\n".join(lines) + "\n")


def simulated_learners(count: int, *, seed: int) -> list[tuple[list[int], list[int]]]:
    """Two skills (ids 12 and 40) practised in blocks, answers drawn from a known BKT."""
    rng = np.random.default_rng(seed)
    params = bkt.BKTParams(prior=0.3, learn=0.3, forget=0.02, guess=0.15, slip=0.1)
    learners = []
    for _ in range(count):
        skill_ids, answers = [], []
        for skill in (12, 40):
            known = rng.random() < params.prior
            for _ in range(int(rng.integers(4, 12))):
                p = 1 - params.slip if known else params.guess
                answers.append(int(rng.random() < p))
                skill_ids.append(skill)
                known = rng.random() >= params.forget if known else rng.random() < params.learn
        learners.append((skill_ids, answers))
    return learners


def test_read_builder_csv_handles_trailing_commas(tmp_path):
    path = tmp_path / "builder_train.csv"
    write_builder(path, [([7, 7, 3], [1, 0, 1]), ([3], [0])])

    data = skill_eval.read_builder_csv(path)

    assert data.learner.tolist() == [0, 0, 0, 1]
    assert data.skill.tolist() == [7, 7, 3, 3]
    assert data.correct.tolist() == [True, False, True, False]
    assert data.order.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2,\n7,7,\n1,\n", "line 1: 2 responses announced, 2 skill ids and 1 answers given"),
        ("1\n7\n2\n", "line 3: answers must be 0 or 1"),
        ("1\nseven\n1\n", "line 2: skill ids must be integers"),
        ("1\n7\n", "expected three lines per learner"),
    ],
)
def test_malformed_file_is_a_clear_command_error(tmp_path, text, message):
    (tmp_path / "builder_train.csv").write_text(text)
    write_builder(tmp_path / "builder_test.csv", [([7], [1])])

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("evaluate_skill_model", data=str(tmp_path), stdout=StringIO())


def test_evaluate_prints_auc_for_every_model(tmp_path):
    train = simulated_learners(120, seed=1)
    test = simulated_learners(40, seed=2)
    write_builder(tmp_path / "builder_train.csv", train)
    write_builder(tmp_path / "builder_test.csv", test)
    out = StringIO()

    call_command("evaluate_skill_model", data=str(tmp_path), compare_pybkt=True, stdout=out)

    text = out.getvalue()
    train_responses = sum(len(a) for _, a in train)
    test_responses = sum(len(a) for _, a in test)
    assert f"train: {train_responses:,} responses from 120 learners" in text
    assert f"test: {test_responses:,} responses from 40 learners; 2 skills (2 seen" in text
    aucs = {
        match[0].strip(): float(match[1])
        for match in re.findall(r"^(\S.*?)\s+(0\.\d{4})\s+0\.\d{4}", text, re.M)
    }
    assert set(aucs) >= {
        "Running per-skill average",
        "Recency-weighted per-skill average",
        "BKT with forgetting per skill (ability weights at 0)",
        skill_eval.MODEL_ROW,
    }
    # Answers follow a BKT with strong learning: the model must rank them far above chance.
    assert aucs[skill_eval.MODEL_ROW] > 0.7
    assert "Ability weights (fitted on train" in text
    for name in ("prior_weight", "learn_weight", "emission_weight"):
        assert re.search(rf"without {name}: 0\.\d{{4}} \(gain [+-]0\.\d{{4}}\)", text)
    if skill_eval.import_pybkt() is None:
        assert "pyBKT is not importable" in text


def test_evaluate_resplits_report_every_split_and_a_verdict_per_weight(tmp_path):
    write_builder(tmp_path / "builder_train.csv", simulated_learners(60, seed=3))
    write_builder(tmp_path / "builder_test.csv", simulated_learners(20, seed=4))
    out = StringIO()

    call_command("evaluate_skill_model", data=str(tmp_path), resplits=2, stdout=out)

    text = out.getvalue()
    assert "Learner-level re-splits" in text
    # One line per seed: seed, BKT AUC, model AUC, gain, one gain per weight.
    assert len(re.findall(r"^\s+[12]\s+0\.\d{4}\s+0\.\d{4}\s+[+-]0\.\d{4}", text, re.M)) == 2
    for name in ("prior_weight", "learn_weight", "emission_weight"):
        assert re.search(rf"{name}: gain (holds|does NOT hold) on every split", text)


def test_evaluate_refuses_negative_resplits(tmp_path):
    write_builder(tmp_path / "builder_train.csv", [([7], [1])])
    write_builder(tmp_path / "builder_test.csv", [([7], [1])])
    with pytest.raises(CommandError, match="--resplits"):
        call_command("evaluate_skill_model", data=str(tmp_path), resplits=-1, stdout=StringIO())


def test_evaluate_requires_data(tmp_path):
    with pytest.raises(CommandError, match="--data is required"):
        call_command("evaluate_skill_model", stdout=StringIO())
    with pytest.raises(CommandError, match="no such directory"):
        call_command("evaluate_skill_model", data=str(tmp_path / "nope"), stdout=StringIO())
    write_builder(tmp_path / "builder_train.csv", [([7], [1])])
    with pytest.raises(CommandError, match=r"missing builder_test\.csv"):
        call_command("evaluate_skill_model", data=str(tmp_path), stdout=StringIO())


def add_answers(learner, skill, outcomes, *, submitted_at):
    attempt = AssessmentAttemptFactory(
        learner=learner, started_at=submitted_at - timedelta(hours=1), submitted_at=submitted_at
    )
    questions = [
        QuestionFactory(assessment=attempt.assessment, skill=skill, order=i + 1)
        for i in range(len(outcomes))
    ]
    Answer.objects.bulk_create(
        Answer(
            attempt=attempt,
            question=question,
            response={"text": "an answer"},
            is_correct=correct,
            answered_at=submitted_at - timedelta(minutes=59 - i),
        )
        for i, (question, correct) in enumerate(zip(questions, outcomes, strict=True))
    )
    return attempt


@pytest.fixture
def history(db):
    python = SkillFactory(slug="python", name="Python")
    sql = SkillFactory(slug="sql", name="SQL")
    learners = [LearnerFactory() for _ in range(3)]
    for i, learner in enumerate(learners):
        # Wrong at first, then right: a learning curve EM should see.
        add_answers(learner, python, [False] * (3 + i) + [True] * 12, submitted_at=NOW)
    add_answers(learners[0], sql, [True, False], submitted_at=NOW + timedelta(days=1))
    return learners


def test_fit_skill_model_stores_and_activates_versions(history):
    out = StringIO()

    call_command("fit_skill_model", min_answers=20, stdout=out)
    call_command("fit_skill_model", min_answers=20, stdout=StringIO())

    first, second = MLModel.objects.filter(name="skill_model").order_by("version")
    assert (first.version, first.is_active, second.version, second.is_active) == (1, False, 2, True)
    assert second.metrics["answers"] == 3 * 15 + 3 + 2
    assert second.metrics["skills_fitted"] == ["python"]
    assert second.metrics["skills_defaulted"] == ["sql"]
    assert second.parameters["sql"] == bkt.DEFAULT_PARAMS.as_dict()
    fitted = second.parameters["python"]
    # Learners answer wrong first and right after: the fit starts low and learns fast.
    assert fitted["prior"] < bkt.DEFAULT_PARAMS.prior
    assert fitted["learn"] > bkt.DEFAULT_PARAMS.learn
    assert second.training_window_end == NOW + timedelta(days=1) - timedelta(minutes=58)
    assert "python: prior=" in out.getvalue()
    assert "Stored and activated skill_model v1 (active)" in out.getvalue()
    # The live model now uses the fitted numbers, ability weights included.
    live = skills.load_skill_model()
    assert live.for_skill("python") == bkt.BKTParams.from_dict(fitted)
    assert live.ability == bkt.AbilityParams.from_dict(second.parameters[skills.ABILITY_KEY])
    assert second.metrics["ability"] == second.parameters[skills.ABILITY_KEY]
    assert "learner ability weights: prior_weight=" in out.getvalue()


def test_fit_skill_model_dry_run_stores_nothing(history):
    out = StringIO()

    call_command("fit_skill_model", min_answers=20, dry_run=True, stdout=out)

    assert "Dry run: nothing stored." in out.getvalue()
    assert not MLModel.objects.exists()


def test_fit_skill_model_leaves_blank_answers_out(history):
    Answer.objects.filter(question__skill__slug="sql").update(response={})

    call_command("fit_skill_model", min_answers=1, stdout=StringIO())

    stored = MLModel.objects.get(name="skill_model")
    assert stored.metrics["answers"] == 3 * 15 + 3
    assert "sql" not in stored.parameters


def test_fit_reads_which_answers_teach_with_the_answers(history, django_assert_max_num_queries):
    """Answers of adaptive attempts teach nothing: with every python answer from a
    diagnostic, the fit has no teaching transition to estimate learn or forget from and
    keeps their defaults, while the sql quiz answers still teach."""
    python = Skill.objects.get(slug="python")
    for attempt in {a.attempt for a in Answer.objects.filter(question__skill=python)}:
        attempt.adaptive_skills = [python.pk]
        attempt.save(update_fields=["adaptive_skills"])

    # The answers (with whether each teaches), the questions' IRT difficulties, the lessons
    # completed (study between answers).
    with django_assert_max_num_queries(3):
        fitted = skills.fit_skill_parameters(min_answers=1)

    assert fitted.metrics["answers"] == 3 * 15 + 3 + 2
    assert fitted.metrics["teaching_answers"] == 2
    python_params = fitted.parameters["python"]
    assert python_params["learn"] == bkt.DEFAULT_PARAMS.learn
    assert python_params["forget"] == bkt.DEFAULT_PARAMS.forget


def test_the_fit_reads_study_after_a_diagnostic_answer_as_its_transition(history):
    """A lesson on python completed between a learner's diagnostic and the next python
    answer makes the transition after the diagnostic's last answer happen, as the skill
    model reads it (``insights.skills``); a skimmed lesson, or study of another skill, does
    not."""
    python = Skill.objects.get(slug="python")
    for attempt in {a.attempt for a in Answer.objects.filter(question__skill=python)}:
        attempt.adaptive_skills = [python.pk]
        attempt.save(update_fields=["adaptive_skills"])
    studied, skimmed, elsewhere = history
    later = NOW + timedelta(days=2)
    for learner in history:
        add_answers(learner, python, [True, True], submitted_at=later)
    lesson_at = NOW + timedelta(days=1, hours=1)
    for learner, skill, skim in ((studied, python, False), (skimmed, python, True)):
        LessonProgressFactory(
            learner=learner,
            lesson=LessonFactory(skills=[skill]),
            status=LessonProgress.Status.COMPLETED,
            completed_at=lesson_at,
            skimmed=skim,
        )
    LessonProgressFactory(
        learner=elsewhere,
        lesson=LessonFactory(skills=[Skill.objects.get(slug="sql")]),
        status=LessonProgress.Status.COMPLETED,
        completed_at=lesson_at,
    )

    fitted = skills.fit_skill_parameters(min_answers=1)

    # The quiz answers (sql 2, python 3 x 2) teach; of the diagnostics' last answers, only
    # the one followed by a full lesson on python.
    assert fitted.metrics["teaching_after_study"] == 1
    assert fitted.metrics["teaching_answers"] == 2 + 3 * 2 + 1


def test_fit_skill_model_without_answers_fails_clearly(db):
    with pytest.raises(CommandError, match="No answers of submitted attempts"):
        call_command("fit_skill_model", stdout=StringIO())
    with pytest.raises(CommandError, match="--min-answers must be at least 1"):
        call_command("fit_skill_model", min_answers=0, stdout=StringIO())


def test_recompute_skills_reports_progress_and_level_changes(history):
    out = StringIO()

    call_command("recompute_skills", stdout=out)

    text = out.getvalue()
    first = history[0]
    level = LearnerSkillState.objects.get(learner=first, skill__slug="python").level
    assert f"[1/3] learner {first.pk}: 2 attempts replayed; python -→{level}, sql -→" in text
    assert "3 of 3 learners recomputed." in text
    assert set(LearnerProfile.objects.get(user=first).skill_levels) == {"python", "sql"}


def test_recompute_skills_dry_run_rolls_back(history):
    out = StringIO()

    call_command("recompute_skills", learner=history[1].pk, dry_run=True, stdout=out)

    assert f"[1/1] learner {history[1].pk}: 1 attempts replayed; python -→" in out.getvalue()
    assert "1 of 1 learners would be recomputed (dry run, nothing saved)." in out.getvalue()
    assert not LearnerSkillState.objects.exists()
    assert LearnerProfile.objects.get(user=history[1]).skill_levels == {}


def test_recompute_skills_unknown_learner(db):
    with pytest.raises(CommandError, match="No user with id 999999"):
        call_command("recompute_skills", learner=999999, stdout=StringIO())


def test_one_failing_learner_does_not_stop_the_rest(history, monkeypatch):
    broken = history[1]
    real = skills.recompute_learner_skills

    def failing_for_one(*, learner, now):
        # Fault injection: simulate corrupt data for exactly one learner.
        if learner.pk == broken.pk:
            raise ValueError("corrupt answer")
        return real(learner=learner, now=now)

    monkeypatch.setattr(skills, "recompute_learner_skills", failing_for_one)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=f"1 learners failed: {broken.pk}"):
        call_command("recompute_skills", stdout=out, stderr=err)

    assert f"learner {broken.pk}: failed: ValueError('corrupt answer')" in err.getvalue()
    assert "2 of 3 learners recomputed." in out.getvalue()
    assert LearnerSkillState.objects.filter(learner=history[2]).exists()
    assert not LearnerSkillState.objects.filter(learner=broken).exists()
