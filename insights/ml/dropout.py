"""Dropout risk: who is likely to withdraw from a course, how likely, and why.

The model is a standardised logistic regression over `MODEL_FEATURES`: the learner's
features as of the cutoff (`features.FEATURE_NAMES`) plus one course-context column, the
course's withdrawal rate among learners still enrolled at the same stage of the training
runs (a smoothed target encoding fitted on the training enrollments only and stored in the
artifact). Logistic regression is chosen over gradient boosting because on OULAD both reach
about the same AUC (see BENCHMARKS.md) and a linear model explains each prediction exactly:
a factor's weight is its coefficient times the learner's standardised value. Positive
weights push the risk up and become the plain-words factors shown to instructors and
learners.

Traffic light (on the predicted probability of withdrawing), chosen from the calibration
of the training runs (OULAD 2013) at day 56 by `calibration.thresholds_for_recall`:
"high" is the highest cut that still flags half of the learners who leave, "medium or
high" four in five (`manage.py evaluate_dropout_model`; figures in BENCHMARKS.md):
  low    p < 0.09
  medium 0.09 <= p < 0.19
  high   p >= 0.19
On the 2014 runs at day 56 that is high 27.0 % of learners (precision 0.31, recall 0.51),
medium 30.6 % (precision 0.15; recall of medium or high 0.80), low 42.4 % (of whom 7.7 %
withdrew). The earlier p >= 0.40 "high" flagged 3.7 % with recall 0.10: it missed nine in
ten of the learners who left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Q, QuerySet
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from insights.ml.calibration import (
    CalibrationBin,
    LightStats,
    Thresholds,
    brier,
    calibration_table,
    light_table,
    pr_auc,
    thresholds_for_recall,
)
from insights.ml.features import (
    FEATURE_NAMES,
    EnrollmentFeatures,
    cutoff_for_day,
    features_as_of,
)
from insights.ml.registry import LoadedModel, active_model, model_save
from insights.models import DropoutRisk, MLModel, Recommendation
from insights.recommendations import recommendations_refresh
from insights.selectors import HighRisk
from learning.models import Enrollment
from skillstudio.chunks import chunked

MODEL_NAME = "dropout"
# See the module docstring: chosen by `thresholds_for_recall` on the 2013 runs at day 56.
MEDIUM_FROM = 0.09
HIGH_FROM = 0.19
SERVED_THRESHOLDS = Thresholds(medium=MEDIUM_FROM, high=HIGH_FROM)
TOP_FACTORS = 3
# Learners refreshed together after a night's scoring (one writer call each).
REFRESH_CHUNK = 200
DEFAULT_TRAINING_DAYS = (28, 56, 84)
COURSE_RATE = "course_withdrawal_rate"
MODEL_FEATURES: tuple[str, ...] = (*FEATURE_NAMES, COURSE_RATE)
# The course rate is shrunk toward the overall rate as if every course had this many extra
# learners at the overall rate, so a course with a handful of learners gets no extreme rate.
RATE_PRIOR_LEARNERS = 20
# Training rows get their course rate from the other folds (by enrollment), so a learner's
# own outcome never feeds the value the model learns from.
RATE_FOLDS = 5

# Features explained together: one sentence per group, weighted by the group's total push.
FACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "missed": ("missed", "missed_share", "assessments_due"),
    "missed_recent": ("missed_last3",),
    "missed_weight": ("weight_missed", "weight_submitted_share"),
    "standing": ("score_percentile",),
    "course": (COURSE_RATE,),
    "inactive": ("days_since_activity",),
    "scores": ("mean_score", "min_score", "weighted_score", "no_score_yet", "submitted"),
    "late": ("late",),
    "activity_trend": ("events_recent", "events_change"),
    "lessons": ("lessons_completed_share",),
    "registration": ("registration_lead_days",),
    "prior_attempts": ("prior_attempts",),
    "workload": ("studied_credits",),
}


def _plural(n: float, word: str) -> str:
    n = round(n)
    return f"{n} {word}{'' if n == 1 else 's'}"


def factor_text(group: str, v: dict[str, float], facts: dict[str, float]) -> str | None:
    """The learner's own numbers behind a factor, in plain words (None: nothing to say)."""
    if group == "missed" and v["missed"]:
        due = _plural(v["assessments_due"], "assessment")
        return f"missed {v['missed']:.0f} of the {due} due so far"
    if group == "missed_recent" and v["missed_last3"]:
        last = _plural(facts["last3_due"], "assessment")
        return f"missed {v['missed_last3']:.0f} of the last {last}"
    if group == "inactive":
        return f"no activity for {_plural(v['days_since_activity'], 'day')}"
    if group == "scores":
        if v["no_score_yet"]:
            return "no graded assessment yet"
        return f"average score {v['mean_score']:.0f} % (lowest {v['min_score']:.0f} %)"
    if group == "missed_weight" and v["weight_missed"]:
        return (
            f"missed work worth {v['weight_missed']:.0f} % of the course grade "
            f"({1 - v['weight_submitted_share']:.0%} of the grade weight due so far)"
        )
    if group == "standing" and not v["no_score_yet"]:
        return (
            f"graded results so far ahead of {v['score_percentile']:.0%} of the course's learners"
        )
    # A course the model has not seen gets the overall rate: nothing to say about the course.
    if group == "course" and facts.get("course_seen"):
        return (
            f"in earlier runs of this course {v[COURSE_RATE]:.0%} of the learners still "
            "enrolled partway through withdrew later"
        )
    if group == "late" and v["late"]:
        return f"{_plural(v['late'], 'late submission')}"
    if group == "activity_trend":
        if facts["events_prior"] and v["events_change"] < 0:
            return f"study activity down {-v['events_change']:.0%} on the previous two weeks"
        return f"{_plural(v['events_recent'], 'learning event')} in the last 14 days"
    if group == "lessons":
        total = _plural(facts["lessons_total"], "lesson")
        return f"{facts['lessons_completed']:.0f} of {total} completed"
    if group == "registration":
        lead = v["registration_lead_days"]
        if lead < 0:
            return f"registered {_plural(-lead, 'day')} after the course started"
        return f"registered {_plural(lead, 'day')} before the course started"
    if group == "prior_attempts" and v["prior_attempts"]:
        return f"{_plural(v['prior_attempts'], 'earlier attempt')} at this course"
    if group == "workload" and v["studied_credits"]:
        return f"studying {v['studied_credits']:.0f} credits at the same time"
    return None


def risk_level(probability: float) -> str:
    if probability >= HIGH_FROM:
        return DropoutRisk.Level.HIGH
    if probability >= MEDIUM_FROM:
        return DropoutRisk.Level.MEDIUM
    return DropoutRisk.Level.LOW


@dataclass(frozen=True)
class CourseRates:
    """Smoothed withdrawal rate per course among the training examples (learners still
    enrolled at the cutoff), and the overall rate used for courses it has not seen."""

    rates: dict[int, float]
    overall: float

    def seen(self, course_id: int | None) -> bool:
        return course_id in self.rates

    def of(self, course_id: int | None) -> float:
        return self.rates.get(course_id, self.overall) if course_id is not None else self.overall


def fit_course_rates(*, course_ids: Sequence[int | None], labels: np.ndarray) -> CourseRates:
    overall = float(labels.mean()) if len(labels) else 0.0
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for course_id, label in zip(course_ids, labels.tolist(), strict=True):
        if course_id is not None:
            counts[course_id][0] += 1
            counts[course_id][1] += label
    return CourseRates(
        rates={
            course_id: (dropouts + RATE_PRIOR_LEARNERS * overall) / (n + RATE_PRIOR_LEARNERS)
            for course_id, (n, dropouts) in counts.items()
        },
        overall=overall,
    )


@dataclass(frozen=True)
class DropoutArtifact:
    """What the registry stores for a dropout model version."""

    estimator: Pipeline | HistGradientBoostingClassifier
    feature_names: tuple[str, ...]
    days: tuple[int, ...]
    # Artifacts pickled before the course rate existed have no such attribute and load with
    # this class default: they are scored on their own (older) feature list, without it.
    course_rates: CourseRates | None = None

    def values(self, features: EnrollmentFeatures) -> dict[str, float]:
        """The learner's feature values plus the course context this model was fitted with."""
        if self.course_rates is None:
            return features.values
        return {**features.values, COURSE_RATE: self.course_rates.of(features.course_id)}

    def matrix(self, features: Sequence[EnrollmentFeatures]) -> np.ndarray:
        rows = [self.values(f) for f in features]
        return np.array([[row[n] for n in self.feature_names] for row in rows], dtype=float)


@dataclass(frozen=True)
class RiskScore:
    enrollment_id: int
    probability: float
    level: str
    factors: list[dict]
    features: dict[str, float]


@dataclass
class Dataset:
    features: list[EnrollmentFeatures]
    labels: np.ndarray
    enrollments: list[Enrollment] = field(default_factory=list)

    def subset(self, index: Sequence[int]) -> Dataset:
        return Dataset(
            [self.features[i] for i in index],
            self.labels[list(index)],
            [self.enrollments[i] for i in index] if self.enrollments else [],
        )


def make_estimator(kind: str = "logistic") -> Pipeline | HistGradientBoostingClassifier:
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    if kind == "boosting":
        return HistGradientBoostingClassifier(
            random_state=0, max_iter=300, learning_rate=0.03, max_depth=4, min_samples_leaf=50
        )
    raise ValueError(f"Unknown estimator kind {kind!r} (logistic or boosting).")


def _check_known(names: Iterable[str]) -> None:
    unknown = set(names) - set(MODEL_FEATURES)
    if unknown:
        raise ValueError(f"Unknown features {sorted(unknown)}; known: {', '.join(MODEL_FEATURES)}.")


def fit_artifact(
    *,
    data: Dataset,
    days: Sequence[int],
    kind: str = "logistic",
    feature_names: Sequence[str] = MODEL_FEATURES,
) -> DropoutArtifact:
    """Fit the course rates and the estimator on `data` (the training examples only)."""
    _check_known(feature_names)
    course_ids = [f.course_id for f in data.features]
    rates = fit_course_rates(course_ids=course_ids, labels=data.labels)
    # Out-of-fold course rates for the training rows themselves (see RATE_FOLDS).
    fold = np.array([f.enrollment_id % RATE_FOLDS for f in data.features])
    own_rate = np.empty(len(data.labels))
    for k in range(RATE_FOLDS):
        rest = fold != k
        others = fit_course_rates(
            course_ids=[c for c, r in zip(course_ids, rest, strict=True) if r],
            labels=data.labels[rest],
        )
        own_rate[~rest] = [others.of(c) for c, r in zip(course_ids, rest, strict=True) if not r]
    names = tuple(feature_names)
    x = np.array(
        [[rate if n == COURSE_RATE else f.values[n] for n in names]
         for f, rate in zip(data.features, own_rate, strict=True)],
        dtype=float,
    ).reshape(-1, len(names))  # fmt: skip
    estimator = make_estimator(kind).fit(x, data.labels)
    return DropoutArtifact(estimator, names, tuple(days), rates)


def _left_at(enrollment: Enrollment) -> datetime | None:
    """When the learner withdrew: the recorded unregistration, else (for a platform drop that
    did not record one) the last change of a dropped enrollment."""
    if enrollment.unregistered_at is not None:
        return enrollment.unregistered_at
    if enrollment.status == Enrollment.Status.DROPPED:
        return enrollment.updated_at
    return None


def dropout_dataset(*, enrollments: QuerySet[Enrollment], days: Sequence[int]) -> Dataset:
    """One example per enrollment and day: features as of that day, label "withdrew later".

    Learners who registered after the cutoff, or had already withdrawn before it, are not
    scored at that cutoff (at that moment nobody would have asked about them).
    """
    pairs: list[tuple[Enrollment, datetime]] = []
    labels: list[int] = []
    for enrollment in enrollments.select_related("course_run").order_by("id"):
        for day in days:
            cutoff = cutoff_for_day(enrollment, day)
            if enrollment.enrolled_at >= cutoff:
                continue
            if (left := _left_at(enrollment)) is not None and left < cutoff:
                continue
            if enrollment.status == Enrollment.Status.COMPLETED and (
                enrollment.completed_at is not None and enrollment.completed_at < cutoff
            ):
                continue
            pairs.append((enrollment, cutoff))
            labels.append(int(enrollment.status == Enrollment.Status.DROPPED))
    return Dataset(features_as_of(pairs=pairs), np.array(labels), [e for e, _ in pairs])


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC, or None when only one class is present (AUC is undefined)."""
    if len(set(labels.tolist())) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def rule_baseline_scores(dataset: Dataset) -> np.ndarray:
    """The rule "missed an assessment due before the cutoff" as a 0/1 score."""
    return np.array([f.values["missed"] > 0 for f in dataset.features], dtype=float)


def explain(artifact: DropoutArtifact, features: EnrollmentFeatures) -> list[dict]:
    """Top factors raising this learner's risk, strongest first, with their numbers."""
    pipeline = artifact.estimator
    scaler, model = pipeline[0], pipeline[-1]
    values = artifact.values(features)
    facts = dict(features.facts)
    if artifact.course_rates is not None:
        facts["course_seen"] = float(artifact.course_rates.seen(features.course_id))
    x = np.array([values[n] for n in artifact.feature_names])
    push = model.coef_[0] * (x - scaler.mean_) / scaler.scale_
    by_name = dict(zip(artifact.feature_names, push, strict=True))
    factors = []
    for group, names in FACTOR_GROUPS.items():
        if not any(n in by_name for n in names):
            continue  # a model fitted without this group's features
        weight = sum(by_name.get(n, 0.0) for n in names)
        text = factor_text(group, values, facts)
        if weight > 0 and text:
            factors.append({"factor": group, "text": text, "weight": round(float(weight), 3)})
    factors.sort(key=lambda f: -f["weight"])
    return factors[:TOP_FACTORS]


def predict(
    *, artifact: DropoutArtifact, features: Sequence[EnrollmentFeatures]
) -> list[RiskScore]:
    if not features:
        return []
    probabilities = artifact.estimator.predict_proba(artifact.matrix(features))[:, 1]
    return [
        RiskScore(
            enrollment_id=f.enrollment_id,
            probability=float(p),
            level=risk_level(float(p)),
            factors=explain(artifact, f),
            features={k: round(v, 3) for k, v in artifact.values(f).items()},
        )
        for f, p in zip(features, probabilities, strict=True)
    ]


def train_dropout(
    *,
    enrollments: QuerySet[Enrollment],
    now: datetime,
    days: Sequence[int] = DEFAULT_TRAINING_DAYS,
    activate: bool = True,
) -> MLModel:
    """Fit on finished enrollments (completed or dropped) and store a new registry version.

    The validation AUC comes from a time split: fit on the earliest 80 % of enrollments,
    score the latest 20 %; the stored model is then refitted on all of them.
    """
    finished = enrollments.filter(
        status__in=[Enrollment.Status.COMPLETED, Enrollment.Status.DROPPED], enrolled_at__lt=now
    )
    data = dropout_dataset(enrollments=finished, days=days)
    labels = data.labels
    if len(set(labels.tolist())) < 2:
        raise ValueError(
            f"Need finished enrollments that both dropped and stayed; got {len(labels)} "
            f"examples with {int(labels.sum())} dropouts."
        )
    order = np.argsort([e.enrolled_at.timestamp() for e in data.enrollments], kind="stable")
    split = int(len(order) * 0.8)
    train_part, valid_part = data.subset(order[:split]), data.subset(order[split:])
    validation: dict = {"validation_auc": None}
    if len(set(train_part.labels.tolist())) == 2:
        # Course rates too are fitted on the earlier 80 % only.
        held = fit_artifact(data=train_part, days=days)
        p = held.estimator.predict_proba(held.matrix(valid_part.features))[:, 1]
        lights = light_table(valid_part.labels, p, SERVED_THRESHOLDS)
        validation = {
            "validation_auc": auc(valid_part.labels, p),
            "validation_pr_auc": pr_auc(valid_part.labels, p),
            "validation_brier": brier(valid_part.labels, p),
            "validation_lights": {
                s.light: {"share": s.share, "precision": s.precision, "recall": s.recall}
                for s in lights
            },
        }
    artifact = fit_artifact(data=data, days=days)
    enrolled = [e.enrolled_at for e in data.enrollments]
    return model_save(
        name=MODEL_NAME,
        artifact=artifact,
        now=now,
        parameters={
            "estimator": "logistic_regression",
            "days": list(days),
            "features": list(artifact.feature_names),
        },
        metrics={
            "examples": len(labels),
            "dropouts": int(labels.sum()),
            **validation,
            "thresholds": {"medium": MEDIUM_FROM, "high": HIGH_FROM},
        },
        window_start=min(enrolled),
        window_end=max(enrolled),
        activate=activate,
    )


def active_enrollments(*, now: datetime) -> QuerySet[Enrollment]:
    """Enrollments a nightly run scores: active, already started, course run not over."""
    return (
        Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, enrolled_at__lt=now)
        .filter(Q(course_run__isnull=True) | Q(course_run__starts_on__lte=now.date()))
        # Learners who opted out of profiling are never scored (accounts.privacy).
        .exclude(learner__profile__profiling_opt_out=True)
        .select_related("course_run", "course")
    )


def score_enrollments(
    *, enrollments: Iterable[Enrollment], now: datetime, model: LoadedModel | None = None
) -> list[RiskScore]:
    """Risk of each enrollment as of `now` with the active model (empty if none is active)."""
    model = model or active_model(MODEL_NAME)
    if model is None:
        return []
    features = features_as_of(pairs=[(e, now) for e in enrollments])
    return predict(artifact=model.artifact, features=features)


@dataclass
class ScoringSummary:
    model_version: int | None = None
    scored: int = 0
    high: int = 0
    support_recommendations: int = 0


def score_active_enrollments(
    *, now: datetime, chunk_size: int = 2000, dry_run: bool = False
) -> ScoringSummary:
    """Nightly job: refresh DropoutRisk for every active enrollment; support high risks.

    The support cards come from the recommendation writer, with the risks just scored as
    its input: the learners with a high risk and those holding a course support card (whose
    risk may have dropped) are refreshed, chunk by chunk. Safe to re-run: risks are upserted
    per enrollment and the writer keeps one active card per target. `dry_run` scores and
    counts without writing anything.
    """
    summary = ScoringSummary()
    model = active_model(MODEL_NAME)
    if model is None:
        return summary
    summary.model_version = model.version
    enrollments = list(active_enrollments(now=now).order_by("id"))
    risks: dict[int, list[HighRisk]] = defaultdict(list)
    for chunk in chunked(enrollments, chunk_size):
        by_id = {e.id: e for e in chunk}
        scores = score_enrollments(enrollments=chunk, now=now, model=model)
        summary.scored += len(scores)
        for s in scores:
            enrollment = by_id[s.enrollment_id]
            # A support card links to the course: only for a course learners can open.
            if s.level == DropoutRisk.Level.HIGH and enrollment.course.is_published:
                risks[enrollment.learner_id].append(
                    HighRisk(
                        enrollment.course_id,
                        enrollment.course.title,
                        s.probability,
                        [f["text"] for f in s.factors],
                    )
                )
        summary.high += sum(1 for s in scores if s.level == DropoutRisk.Level.HIGH)
        if dry_run:
            continue
        DropoutRisk.objects.bulk_create(
            [
                DropoutRisk(
                    enrollment_id=s.enrollment_id,
                    probability=s.probability,
                    level=s.level,
                    factors=s.factors,
                    features=s.features,
                    model_id=model.id,
                    scored_at=now,
                )
                for s in scores
            ],
            update_conflicts=True,
            unique_fields=["enrollment"],
            update_fields=["probability", "level", "factors", "features", "model", "scored_at"],
        )
    if dry_run:
        return summary
    # Enrollments that are no longer active keep no stale risk, nor do opted-out learners.
    DropoutRisk.objects.filter(
        ~Q(enrollment__status=Enrollment.Status.ACTIVE)
        | Q(enrollment__learner__profile__profiling_opt_out=True)
    ).delete()
    holding = (
        Recommendation.objects.filter(
            kind=Recommendation.Kind.SUPPORT,
            status=Recommendation.Status.ACTIVE,
            course__isnull=False,
        )
        .values_list("learner_id", flat=True)
        .order_by()
        .distinct()
    )
    due = sorted(set(risks) | set(holding))
    for learner_ids in chunked(due, REFRESH_CHUNK):
        refreshed = recommendations_refresh(
            learner_ids=learner_ids,
            now=now,
            risk={learner_id: risks.get(learner_id, []) for learner_id in learner_ids},
        )
        summary.support_recommendations += sum(
            1
            for done in refreshed.values()
            for kind, _, course_id, _ in done.created
            if kind == Recommendation.Kind.SUPPORT and course_id is not None
        )
    return summary


@dataclass(frozen=True)
class Evaluation:
    cutoff_day: int
    train_examples: int
    train_dropouts: int
    test_examples: int
    test_dropouts: int
    auc_logistic: float | None
    auc_boosting: float | None
    auc_rule: float | None
    high_share: float
    high_precision: float | None
    high_recall: float | None
    # Fitted on the training runs only; the test runs' courses are looked up in it.
    course_rates: CourseRates | None = None
    pr_auc_logistic: float | None = None
    pr_auc_rule: float | None = None
    brier_logistic: float | None = None
    # The rule as a probability: the training runs' withdrawal rate with / without a miss.
    brier_rule: float | None = None
    calibration: list[CalibrationBin] = field(default_factory=list)
    rule_calibration: list[CalibrationBin] = field(default_factory=list)
    # Thresholds the training runs' own predictions give for RECALL_TARGETS.
    chosen: Thresholds | None = None
    # On the test runs: the served lights (MEDIUM_FROM, HIGH_FROM), the chosen ones, the rule.
    lights: list[LightStats] = field(default_factory=list)
    lights_chosen: list[LightStats] = field(default_factory=list)
    rule_flagged: LightStats | None = None


def rule_probabilities(*, train: Dataset, test: Dataset) -> np.ndarray:
    """The rule as a probability: the training withdrawal rate of the test learner's group."""
    missed = rule_baseline_scores(train).astype(bool)
    rate = {
        flag: float(train.labels[missed == flag].mean()) if (missed == flag).any() else 0.0
        for flag in (False, True)
    }
    return np.array([rate[bool(x)] for x in rule_baseline_scores(test)])


def evaluate_dropout(
    *,
    cutoff_day: int,
    train_prefix: str = "2013",
    test_prefix: str = "2014",
    without: Sequence[str] = (),
) -> Evaluation:
    """Train on runs whose code starts with `train_prefix`, test on `test_prefix` runs.

    Both sides go through `dropout_dataset` (the live feature pipeline) at the same day;
    the course rates are fitted on the training runs only. `without` leaves features out
    (ablation). The thresholds are chosen from the training runs' own predictions
    (`calibration.thresholds_for_recall`); the test runs only report how they do.
    """
    _check_known(without)
    names = tuple(n for n in MODEL_FEATURES if n not in without)
    runs = Enrollment.objects.filter(course_run__isnull=False)
    train = dropout_dataset(
        enrollments=runs.filter(course_run__code__startswith=train_prefix), days=[cutoff_day]
    )
    test = dropout_dataset(
        enrollments=runs.filter(course_run__code__startswith=test_prefix), days=[cutoff_day]
    )
    if len(set(train.labels.tolist())) < 2:
        raise ValueError(
            f"The {train_prefix} runs give {len(train.labels)} examples at day {cutoff_day} "
            "without both outcomes; import OULAD first (manage.py import_oulad <dir>)."
        )
    if not len(test.labels):
        raise ValueError(f"No {test_prefix} enrollments to test on at day {cutoff_day}.")
    scores, fitted = {}, {}
    for kind in ("logistic", "boosting"):
        artifact = fit_artifact(data=train, days=[cutoff_day], kind=kind, feature_names=names)
        scores[kind] = artifact.estimator.predict_proba(artifact.matrix(test.features))[:, 1]
        fitted[kind] = artifact
    served = fitted["logistic"]
    train_probabilities = served.estimator.predict_proba(served.matrix(train.features))[:, 1]
    chosen = thresholds_for_recall(train.labels, train_probabilities)
    probabilities = scores["logistic"]
    rule = rule_probabilities(train=train, test=test)
    lights = light_table(test.labels, probabilities, SERVED_THRESHOLDS)
    high = lights[0]
    missed = rule_baseline_scores(test).astype(bool)
    positives = test.labels == 1
    return Evaluation(
        cutoff_day=cutoff_day,
        train_examples=len(train.labels),
        train_dropouts=int(train.labels.sum()),
        test_examples=len(test.labels),
        test_dropouts=int(positives.sum()),
        auc_logistic=auc(test.labels, probabilities),
        auc_boosting=auc(test.labels, scores["boosting"]),
        auc_rule=auc(test.labels, rule),
        high_share=high.share,
        high_precision=high.precision,
        high_recall=high.recall,
        course_rates=served.course_rates,
        pr_auc_logistic=pr_auc(test.labels, probabilities),
        pr_auc_rule=pr_auc(test.labels, rule),
        brier_logistic=brier(test.labels, probabilities),
        brier_rule=brier(test.labels, rule),
        calibration=calibration_table(test.labels, probabilities),
        rule_calibration=calibration_table(test.labels, rule),
        chosen=chosen,
        lights=lights,
        lights_chosen=light_table(test.labels, probabilities, chosen),
        rule_flagged=LightStats(
            light="missed",
            share=float(missed.mean()),
            precision=float(positives[missed].mean()) if missed.any() else None,
            recall=float(missed[positives].mean()) if positives.any() else None,
        ),
    )
