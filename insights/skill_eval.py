"""Measuring the skill model on ASSISTments-format data (SPEC R-SKILL, BENCHMARKS.md).

Protocol, so that figures compare with published ones: the model is fitted on
the training file only; every test response is predicted from the same
learner's *earlier* responses; AUC and RMSE pooled over all test predictions.

The model measured here is the one learners get, fitted by the same function
(``insights.bkt.fit_model``, which ``fit_skill_model`` calls on the platform's
answers) and run by the same equations (``insights.bkt.individualise`` and
``update``, which ``insights.skills.process_attempt`` applies answer by
answer): BKT with forgetting per skill, individualised by the learner's
ability (their smoothed correct rate over their last ``bkt.ABILITY_WINDOW``
answers on any skill). Nothing else sits between the model and the figure.

Besides the file split, ``resplits`` pools both files and re-splits them by
learner several times; on every re-split it reports the gain of each ability
weight (the AUC lost when that weight alone is fitted at 0), so a weight whose
gain does not hold on every split can be seen and dropped.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from insights import bkt

RECENCY_DECAYS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
# Virtual answers at the overall rate that smooth a skill's training correct rate.
RATE_PSEUDO_COUNT = 5.0


class DatasetError(ValueError):
    """A data file that does not follow the three-lines-per-learner format."""


@dataclass(frozen=True)
class Responses:
    """Responses in file order: who, which skill, correct or not, position in time."""

    learner: np.ndarray
    skill: np.ndarray
    correct: np.ndarray
    order: np.ndarray

    @property
    def n_learners(self) -> int:
        return len(np.unique(self.learner))


def _ints(text: str, *, path: Path, line_no: int, what: str) -> list[int]:
    # Lines may end with a trailing comma: empty fields are dropped.
    try:
        return [int(field) for field in text.split(",") if field.strip()]
    except ValueError:
        raise DatasetError(f"{path.name} line {line_no}: {what} must be integers.") from None


def read_builder_csv(path: Path) -> Responses:
    """Parse the ASSISTments builder format: per learner, a count line, skill ids, 1/0 answers."""
    try:
        raw_lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    lines = [(no, text.strip()) for no, text in enumerate(raw_lines, start=1) if text.strip()]
    if len(lines) % 3:
        raise DatasetError(
            f"{path.name}: expected three lines per learner, found {len(lines)} non-empty lines."
        )
    learners: list[np.ndarray] = []
    skills: list[int] = []
    answers: list[int] = []
    for learner, i in enumerate(range(0, len(lines), 3)):
        (count_no, count_text), (skill_no, skill_text), (answer_no, answer_text) = lines[i : i + 3]
        counts = _ints(count_text, path=path, line_no=count_no, what="the response count")
        if len(counts) != 1 or counts[0] < 0:
            raise DatasetError(f"{path.name} line {count_no}: expected one response count.")
        row_skills = _ints(skill_text, path=path, line_no=skill_no, what="skill ids")
        row_answers = _ints(answer_text, path=path, line_no=answer_no, what="answers")
        if len(row_skills) != counts[0] or len(row_answers) != counts[0]:
            raise DatasetError(
                f"{path.name} line {count_no}: {counts[0]} responses announced, "
                f"{len(row_skills)} skill ids and {len(row_answers)} answers given."
            )
        if any(a not in (0, 1) for a in row_answers):
            raise DatasetError(f"{path.name} line {answer_no}: answers must be 0 or 1.")
        learners.append(np.full(counts[0], learner, dtype=np.int64))
        skills.extend(row_skills)
        answers.extend(row_answers)
    if not answers:
        raise DatasetError(f"{path.name} holds no responses.")
    learner_ids = np.concatenate(learners)
    return Responses(
        learner=learner_ids,
        skill=np.array(skills, dtype=np.int64),
        correct=np.array(answers, dtype=bool),
        order=np.arange(len(answers), dtype=np.int64),
    )


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def sequences(responses: Responses, skill_ids: np.ndarray) -> bkt.Sequences:
    """The responses in file order with skills mapped to 0..len(skill_ids)-1."""
    return bkt.Sequences.build(
        responses.learner, np.searchsorted(skill_ids, responses.skill), responses.correct
    )


@dataclass(frozen=True)
class Row:
    model: str
    auc: float
    rmse: float
    seconds: float
    note: str = ""


@dataclass
class Report:
    train_responses: int
    train_learners: int
    test_responses: int
    test_learners: int
    skills: int
    train_skills: int
    rows: list[Row] = field(default_factory=list)
    ability: bkt.AbilityParams | None = None
    # AUC of the model refitted with one ability weight held at 0, per weight.
    ablations: dict[str, float] = field(default_factory=dict)
    em_iterations: int = 0


def score(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Pooled AUC and RMSE (AUC is undefined when the test set has one class only)."""
    auc = float(roc_auc_score(y, predicted)) if len(np.unique(y)) == 2 else float("nan")
    return auc, float(np.sqrt(np.mean((predicted - y) ** 2)))


WEIGHTS = tuple(bkt.ABILITY_GRID)
MODEL_ROW = "SkillStudio model: individualised BKT"


def _without(name: str) -> dict[str, tuple[float, ...]]:
    return {**bkt.ABILITY_GRID, name: (0.0,)}


def ablations(
    train: bkt.Sequences, test: bkt.Sequences, params: list[bkt.BKTParams]
) -> dict[str, float]:
    """Test AUC with each ability weight held at 0 and the others refitted on train."""
    y = test.correct.astype(float)
    base_rate = min(max(float(train.correct.mean()), 0.05), 0.95)
    row_params = bkt.ParamArrays.from_params(params).take(train.skill)
    abilities = bkt.learner_abilities(train.by_learner, train.correct, base_rate)
    out = {}
    for name in WEIGHTS:
        weights, _ = bkt.fit_ability(
            train.by_skill,
            train.correct,
            row_params,
            abilities,
            base_rate=base_rate,
            grid=_without(name),
        )
        out[name] = score(y, bkt.predict(test, params, weights))[0]
    return out


def evaluate(
    train: Responses,
    test: Responses,
    *,
    iterations: int = 40,
    extra: Callable[[Responses, Responses], list[Row]] | None = None,
) -> Report:
    """Fit on ``train``, predict every ``test`` response from earlier ones, score each model."""
    skill_ids = np.unique(np.concatenate([train.skill, test.skill]))
    n_skills = len(skill_ids)
    tr = sequences(train, skill_ids)
    te = sequences(test, skill_ids)
    y_train = train.correct.astype(float)
    y_test = test.correct.astype(float)
    report = Report(
        train_responses=len(y_train),
        train_learners=train.n_learners,
        test_responses=len(y_test),
        test_learners=test.n_learners,
        skills=n_skills,
        train_skills=len(np.unique(train.skill)),
    )
    overall = float(y_train.mean())
    # Each skill's training correct rate, pulled towards the overall rate when thin.
    skill_rate = (
        np.bincount(tr.skill, weights=y_train, minlength=n_skills) + RATE_PSEUDO_COUNT * overall
    ) / (np.bincount(tr.skill, minlength=n_skills) + RATE_PSEUDO_COUNT)
    first_guess = skill_rate[te.skill]

    def add(model: str, started: float, predicted: np.ndarray, note: str = "") -> None:
        auc, rmse = score(y_test, predicted)
        report.rows.append(Row(model, auc, rmse, time.perf_counter() - started, note))

    started = time.perf_counter()
    add(
        "Running per-skill average",
        started,
        te.by_skill.running_average(y_test, init=first_guess),
        "mean of the learner's earlier answers on the skill",
    )
    started = time.perf_counter()
    # The baseline gets its best shot: its decay is the one that ranks train answers best.
    decay = max(
        RECENCY_DECAYS,
        key=lambda d: score(
            y_train, tr.by_skill.running_mean(y_train, decay=d, init=skill_rate[tr.skill])
        )[0],
    )
    add(
        "Recency-weighted per-skill average",
        started,
        te.by_skill.running_mean(y_test, decay=decay, init=first_guess),
        f"exponential decay {decay}, chosen on train",
    )

    started = time.perf_counter()
    fitted = bkt.fit_model(tr, n_skills, iterations=iterations)
    report.em_iterations = fitted.em_iterations
    report.ability = fitted.ability
    seconds = time.perf_counter() - started
    no_ability = bkt.AbilityParams(base_rate=fitted.ability.base_rate)
    add(
        "BKT with forgetting per skill (ability weights at 0)",
        time.perf_counter() - seconds,
        bkt.predict(te, fitted.params, no_ability),
        "EM fit on train",
    )
    add(
        MODEL_ROW,
        time.perf_counter() - seconds,
        bkt.predict(te, fitted.params, fitted.ability),
        "EM + ability weights fitted on train",
    )
    report.ablations = ablations(tr, te, fitted.params)
    if extra is not None:
        report.rows.extend(extra(train, test))
    return report


@dataclass(frozen=True)
class SplitResult:
    seed: int
    train_learners: int
    test_learners: int
    bkt_auc: float
    model_auc: float
    ability: bkt.AbilityParams
    ablations: dict[str, float]

    def gain(self, name: str) -> float:
        """AUC the model loses when ``name`` is held at 0 (positive: the weight helps)."""
        return self.model_auc - self.ablations[name]


def _subset(responses: Responses, keep: np.ndarray) -> Responses:
    return Responses(
        learner=responses.learner[keep],
        skill=responses.skill[keep],
        correct=responses.correct[keep],
        order=np.arange(int(keep.sum()), dtype=np.int64),
    )


def resplits(
    train: Responses,
    test: Responses,
    *,
    seeds: Sequence[int],
    test_share: float = 0.2,
    iterations: int = 40,
) -> list[SplitResult]:
    """Pool both files, split the learners at random (``test_share`` to test) once per seed,
    and measure plain BKT, the model and each ability weight's gain on every split."""
    pooled = Responses(
        learner=np.concatenate([train.learner, test.learner + int(train.learner.max()) + 1]),
        skill=np.concatenate([train.skill, test.skill]),
        correct=np.concatenate([train.correct, test.correct]),
        order=np.arange(len(train.correct) + len(test.correct), dtype=np.int64),
    )
    skill_ids = np.unique(pooled.skill)
    learners = np.unique(pooled.learner)
    results = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        held_out = rng.permutation(learners)[: max(1, round(test_share * len(learners)))]
        is_test = np.isin(pooled.learner, held_out)
        tr = sequences(_subset(pooled, ~is_test), skill_ids)
        te = sequences(_subset(pooled, is_test), skill_ids)
        fitted = bkt.fit_model(tr, len(skill_ids), iterations=iterations)
        y = te.correct.astype(float)
        no_ability = bkt.AbilityParams(base_rate=fitted.ability.base_rate)
        results.append(
            SplitResult(
                seed=seed,
                train_learners=len(learners) - len(held_out),
                test_learners=len(held_out),
                bkt_auc=score(y, bkt.predict(te, fitted.params, no_ability))[0],
                model_auc=score(y, bkt.predict(te, fitted.params, fitted.ability))[0],
                ability=fitted.ability,
                ablations=ablations(tr, te, fitted.params),
            )
        )
    return results


def import_pybkt() -> type | None:
    """pyBKT's Model class, or None when pyBKT is not installed (evaluation-only dependency).

    pyBKT 1.4.3 probes every scikit-learn metric with plain lists when its
    metrics module is imported, which raises under scikit-learn 1.9. We never
    use pyBKT's metrics (scores are computed here, the same way for every
    model), so a minimal stand-in module takes its place before import.
    """
    try:
        import pyBKT.util  # optional, evaluation-only dependency
    except ImportError:
        return None
    stand_in = types.ModuleType("pyBKT.util.metrics")
    stand_in.rmse = lambda y, p: score(np.asarray(y, float), np.asarray(p, float))[1]
    stand_in.auc = lambda y, p: score(np.asarray(y, float), np.asarray(p, float))[0]
    stand_in.SUPPORTED_METRICS = {"rmse": stand_in.rmse, "auc": stand_in.auc}
    sys.modules["pyBKT.util.metrics"] = stand_in
    pyBKT.util.metrics = stand_in
    try:
        from pyBKT.models import Model
    except ImportError:
        return None
    return Model


def pybkt_rows(model_class: type, train: Responses, test: Responses) -> list[Row]:
    """pyBKT's BKT and BKT with forgetting on the same split, scored like every other row."""
    import pandas as pd  # installed with pyBKT

    def frame(r: Responses) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "user_id": r.learner.astype(str),
                "skill_name": r.skill.astype(str),
                "correct": r.correct.astype(int),
                "order_id": r.order,
            }
        )

    rows = []
    train_frame, test_frame = frame(train), frame(test)
    for label, options in (("pyBKT BKT", {}), ("pyBKT BKT + forgetting", {"forgets": True})):
        started = time.perf_counter()
        model = model_class(seed=42)
        model.fit(data=train_frame, **options)
        predicted = model.predict(data=test_frame)
        auc, rmse = score(
            predicted["correct"].to_numpy(float), predicted["correct_predictions"].to_numpy(float)
        )
        rows.append(Row(label, auc, rmse, time.perf_counter() - started, "pyBKT 1.4.3 defaults"))
    return rows
