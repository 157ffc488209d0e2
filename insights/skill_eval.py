"""Measuring the skill model on ASSISTments-format data (SPEC R-SKILL, BENCHMARKS.md).

Protocol, so that figures compare with published ones: one set of BKT
parameters per skill fitted on the training file only; every test response is
predicted from the same learner's *earlier* responses; AUC and RMSE pooled
over all test predictions.

The model measured here is the one learners see. Its core is
``insights.bkt`` (BKT with forgetting per skill), the very functions
``insights.skills.process_attempt`` uses to move a learner's mastery and level.
On top of it sits a small logistic *calibration* that turns the BKT estimate
into P(next answer correct) using a handful of transparent features, each
computed from earlier responses only:

- ``bkt_logit``: logit of BKT's P(correct) for this skill (mastery-based),
- ``first_on_skill``: 1 for the learner's first answer on the skill,
- ``skill_recent``: recency-weighted correctness on the skill (decay 0.7),
- ``skill_attempts``: log(1 + earlier answers on the skill),
- ``learner_recent``: recency-weighted correctness over all skills (decay 0.7),
- ``learner_longrun``: the same with a long memory (decay 0.9),
- ``learner_attempts``: log(1 + earlier answers on any skill),
- ``same_skill_streak``: 1 when the previous answer was on the same skill.

The last four look at the learner's earlier answers on *other* skills too, so
the evaluation also reports the calibration with the skill-only features
(strictly the per-skill protocol). The calibration's coefficients are printed
with the results so anyone can see what drives a prediction.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from insights import bkt

SKILL_RECENT_DECAY = 0.7
RECENCY_DECAYS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
LEARNER_RECENT_DECAY = 0.7
LEARNER_LONGRUN_DECAY = 0.9
# Virtual answers at the overall rate that smooth a skill's training correct rate.
RATE_PSEUDO_COUNT = 5.0
FEATURES = (
    "bkt_logit",
    "first_on_skill",
    "skill_recent",
    "skill_attempts",
    "learner_recent",
    "learner_longrun",
    "learner_attempts",
    "same_skill_streak",
)
SKILL_ONLY_FEATURES = FEATURES[:4]


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


@dataclass(frozen=True)
class Indexed:
    """Responses with skills mapped to 0..n_skills-1 and their per-skill sequences laid out."""

    responses: Responses
    skill_index: np.ndarray
    by_skill: bkt.Layout  # one sequence per learner and skill
    by_learner: bkt.Layout  # one sequence per learner, all skills

    @classmethod
    def build(cls, responses: Responses, skill_ids: np.ndarray) -> Indexed:
        skill_index = np.searchsorted(skill_ids, responses.skill)
        keys = responses.learner * len(skill_ids) + skill_index
        return cls(
            responses=responses,
            skill_index=skill_index,
            by_skill=bkt.Layout.build(keys, responses.order),
            by_learner=bkt.Layout.build(responses.learner, responses.order),
        )


def features(
    data: Indexed, skill_params: bkt.ParamArrays, overall_rate: float
) -> dict[str, np.ndarray]:
    """The calibration features of every response, from earlier responses only."""
    y = data.responses.correct.astype(float)
    predicted, _ = bkt.forward(
        data.by_skill, data.responses.correct, skill_params.take(data.skill_index)
    )
    previous = data.by_learner.previous_index()
    previous_skill = np.where(previous >= 0, data.skill_index[np.maximum(previous, 0)], -1)
    return {
        "bkt_logit": logit(predicted),
        "first_on_skill": (data.by_skill.rank == 0).astype(float),
        "skill_recent": logit(
            data.by_skill.running_mean(y, decay=SKILL_RECENT_DECAY, init=overall_rate)
        ),
        "skill_attempts": np.log1p(data.by_skill.rank),
        "learner_recent": logit(
            data.by_learner.running_mean(y, decay=LEARNER_RECENT_DECAY, init=overall_rate)
        ),
        "learner_longrun": logit(
            data.by_learner.running_mean(y, decay=LEARNER_LONGRUN_DECAY, init=overall_rate)
        ),
        "learner_attempts": np.log1p(data.by_learner.rank),
        "same_skill_streak": (previous_skill == data.skill_index).astype(float),
    }


@dataclass(frozen=True)
class Calibration:
    names: tuple[str, ...]
    intercept: float
    coefficients: dict[str, float]

    @classmethod
    def fit(
        cls, feats: dict[str, np.ndarray], y: np.ndarray, names: tuple[str, ...]
    ) -> Calibration:
        model = LogisticRegression(max_iter=1000).fit(_matrix(feats, names), y)
        return cls(
            names=names,
            intercept=float(model.intercept_[0]),
            coefficients=dict(zip(names, model.coef_[0].tolist(), strict=True)),
        )

    def predict(self, feats: dict[str, np.ndarray]) -> np.ndarray:
        weights = np.array([self.coefficients[n] for n in self.names])
        return 1 / (1 + np.exp(-(self.intercept + _matrix(feats, self.names) @ weights)))


def _matrix(feats: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([feats[n] for n in names])


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
    calibration: Calibration | None = None
    em_iterations: int = 0


def score(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Pooled AUC and RMSE (AUC is undefined when the test set has one class only)."""
    auc = float(roc_auc_score(y, predicted)) if len(np.unique(y)) == 2 else float("nan")
    return auc, float(np.sqrt(np.mean((predicted - y) ** 2)))


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
    tr = Indexed.build(train, skill_ids)
    te = Indexed.build(test, skill_ids)
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
        np.bincount(tr.skill_index, weights=y_train, minlength=n_skills)
        + RATE_PSEUDO_COUNT * overall
    ) / (np.bincount(tr.skill_index, minlength=n_skills) + RATE_PSEUDO_COUNT)
    first_guess = skill_rate[te.skill_index]

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
            y_train,
            tr.by_skill.running_mean(y_train, decay=d, init=skill_rate[tr.skill_index]),
        )[0],
    )
    add(
        "Recency-weighted per-skill average",
        started,
        te.by_skill.running_mean(y_test, decay=decay, init=first_guess),
        f"exponential decay {decay}, chosen on train",
    )

    started = time.perf_counter()
    fitted = bkt.fit(tr.by_skill, train.correct, tr.skill_index, n_skills, iterations=iterations)
    report.em_iterations = fitted.iterations
    skill_params = bkt.ParamArrays.from_params(fitted.params)
    bkt_predicted, _ = bkt.forward(te.by_skill, test.correct, skill_params.take(te.skill_index))
    add("BKT with forgetting (per skill)", started, bkt_predicted, "EM fit on train")
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    feats_train = features(tr, skill_params, overall)
    feats_test = features(te, skill_params, overall)
    # The calibrated rows' time includes the BKT fit and the features they build on.
    upstream_seconds = fit_seconds + time.perf_counter() - started
    for names, label, note in (
        (FEATURES, "SkillStudio model: BKT + calibration", "all features"),
        (SKILL_ONLY_FEATURES, "  same, skill-only features", "strict per-skill protocol"),
    ):
        started = time.perf_counter() - upstream_seconds
        calibration = Calibration.fit(feats_train, y_train, names)
        add(label, started, calibration.predict(feats_test), note)
        if names == FEATURES:
            report.calibration = calibration
    if extra is not None:
        report.rows.extend(extra(train, test))
    return report


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
