"""Dropout risk: who is likely to withdraw from a course, how likely, and why.

The model is a standardised logistic regression over `features.FEATURE_NAMES`, chosen over
gradient boosting because on OULAD both reach the same AUC (see BENCHMARKS.md) and a linear
model explains each prediction exactly: a factor's weight is its coefficient times the
learner's standardised value. Positive weights push the risk up and become the plain-words
factors shown to instructors and learners.

Traffic light (documented thresholds, on the predicted probability of withdrawing):
  low    p < 0.20
  medium 0.20 <= p < 0.40
  high   p >= 0.40  (about 2.5 times the OULAD withdrawal rate after day 56, 16 %)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Q, QuerySet
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from insights.ml.features import (
    FEATURE_NAMES,
    EnrollmentFeatures,
    cutoff_for_day,
    features_as_of,
)
from insights.ml.registry import LoadedModel, active_model, model_save
from insights.models import DropoutRisk, MLModel, Recommendation
from learning.models import Enrollment
from skillstudio.data_versions import learners_changed

MODEL_NAME = "dropout"
MEDIUM_FROM = 0.20
HIGH_FROM = 0.40
TOP_FACTORS = 3
SUPPORT_DAYS = 7
DEFAULT_TRAINING_DAYS = (28, 56, 84)

# Features explained together: one sentence per group, weighted by the group's total push.
FACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "missed": ("missed", "missed_share", "assessments_due"),
    "missed_recent": ("missed_last3",),
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
class DropoutArtifact:
    """What the registry stores for a dropout model version."""

    estimator: Pipeline
    feature_names: tuple[str, ...]
    days: tuple[int, ...]


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

    @property
    def matrix(self) -> np.ndarray:
        return np.array([f.vector() for f in self.features], dtype=float).reshape(
            -1, len(FEATURE_NAMES)
        )


def make_estimator(kind: str = "logistic") -> Pipeline | HistGradientBoostingClassifier:
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    if kind == "boosting":
        return HistGradientBoostingClassifier(
            random_state=0, max_iter=300, learning_rate=0.03, max_depth=4, min_samples_leaf=50
        )
    raise ValueError(f"Unknown estimator kind {kind!r} (logistic or boosting).")


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
    return (dataset.matrix[:, FEATURE_NAMES.index("missed")] > 0).astype(float)


def explain(artifact: DropoutArtifact, features: EnrollmentFeatures) -> list[dict]:
    """Top factors raising this learner's risk, strongest first, with their numbers."""
    pipeline = artifact.estimator
    scaler, model = pipeline[0], pipeline[-1]
    x = np.array([features.values[n] for n in artifact.feature_names])
    push = model.coef_[0] * (x - scaler.mean_) / scaler.scale_
    by_name = dict(zip(artifact.feature_names, push, strict=True))
    factors = []
    for group, names in FACTOR_GROUPS.items():
        weight = sum(by_name.get(n, 0.0) for n in names)
        text = factor_text(group, features.values, features.facts)
        if weight > 0 and text:
            factors.append({"factor": group, "text": text, "weight": round(float(weight), 3)})
    factors.sort(key=lambda f: -f["weight"])
    return factors[:TOP_FACTORS]


def predict(
    *, artifact: DropoutArtifact, features: Sequence[EnrollmentFeatures]
) -> list[RiskScore]:
    if not features:
        return []
    matrix = np.array([[f.values[n] for n in artifact.feature_names] for f in features])
    probabilities = artifact.estimator.predict_proba(matrix)[:, 1]
    return [
        RiskScore(
            enrollment_id=f.enrollment_id,
            probability=float(p),
            level=risk_level(float(p)),
            factors=explain(artifact, f),
            features={k: round(v, 3) for k, v in f.values.items()},
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
    x = data.matrix
    order = np.argsort([e.enrolled_at.timestamp() for e in data.enrollments], kind="stable")
    split = int(len(order) * 0.8)
    train_idx, valid_idx = order[:split], order[split:]
    validation_auc = None
    if len(set(labels[train_idx].tolist())) == 2:
        held = make_estimator().fit(x[train_idx], labels[train_idx])
        validation_auc = auc(labels[valid_idx], held.predict_proba(x[valid_idx])[:, 1])
    estimator = make_estimator().fit(x, labels)
    enrolled = [e.enrolled_at for e in data.enrollments]
    return model_save(
        name=MODEL_NAME,
        artifact=DropoutArtifact(estimator, FEATURE_NAMES, tuple(days)),
        now=now,
        parameters={"estimator": "logistic_regression", "days": list(days)},
        metrics={
            "examples": len(labels),
            "dropouts": int(labels.sum()),
            "validation_auc": validation_auc,
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


def support_reason(*, course_title: str, factors: list[dict]) -> str:
    detail = factors[0]["text"] if factors else "you have not been around much lately"
    return (
        f"Keep going with {course_title}: {detail}. A short session this week helps you "
        "catch up — and your instructor is there if something is in the way."
    )


def score_active_enrollments(
    *, now: datetime, chunk_size: int = 2000, dry_run: bool = False
) -> ScoringSummary:
    """Nightly job: refresh DropoutRisk for every active enrollment; support high risks.

    Safe to re-run: risks are upserted per enrollment and a support recommendation is only
    added when the learner has no active one for that course. `dry_run` scores and counts
    without writing anything.
    """
    summary = ScoringSummary()
    model = active_model(MODEL_NAME)
    if model is None:
        return summary
    summary.model_version = model.version
    enrollments = list(active_enrollments(now=now).order_by("id"))
    for start in range(0, len(enrollments), chunk_size):
        chunk = enrollments[start : start + chunk_size]
        by_id = {e.id: e for e in chunk}
        scores = score_enrollments(enrollments=chunk, now=now, model=model)
        summary.scored += len(scores)
        summary.high += sum(1 for s in scores if s.level == DropoutRisk.Level.HIGH)
        if dry_run:
            continue
        with transaction.atomic():
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
            support = [
                Recommendation(
                    learner_id=by_id[s.enrollment_id].learner_id,
                    kind=Recommendation.Kind.SUPPORT,
                    course_id=by_id[s.enrollment_id].course_id,
                    reason=support_reason(
                        course_title=by_id[s.enrollment_id].course.title, factors=s.factors
                    ),
                    score=s.probability,
                    payload={"factors": [f["text"] for f in s.factors]},
                    created_at=now,
                    expires_at=now + timedelta(days=SUPPORT_DAYS),
                )
                for s in scores
                if s.level == DropoutRisk.Level.HIGH
            ]
            created = Recommendation.objects.bulk_create(support, ignore_conflicts=True)
            learners_changed(r.learner_id for r in support)
        summary.support_recommendations += sum(1 for r in created if r.pk)
    if not dry_run:
        # Enrollments that are no longer active keep no stale risk.
        DropoutRisk.objects.exclude(enrollment__status=Enrollment.Status.ACTIVE).delete()
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


def evaluate_dropout(
    *, cutoff_day: int, train_prefix: str = "2013", test_prefix: str = "2014"
) -> Evaluation:
    """Train on runs whose code starts with `train_prefix`, test on `test_prefix` runs.

    Both sides go through `dropout_dataset` (the live feature pipeline) at the same day.
    """
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
    x_train, x_test = train.matrix, test.matrix
    scores = {}
    for kind in ("logistic", "boosting"):
        fitted = make_estimator(kind).fit(x_train, train.labels)
        scores[kind] = fitted.predict_proba(x_test)[:, 1]
    flagged = scores["logistic"] >= HIGH_FROM
    positives = test.labels == 1
    return Evaluation(
        cutoff_day=cutoff_day,
        train_examples=len(train.labels),
        train_dropouts=int(train.labels.sum()),
        test_examples=len(test.labels),
        test_dropouts=int(positives.sum()),
        auc_logistic=auc(test.labels, scores["logistic"]),
        auc_boosting=auc(test.labels, scores["boosting"]),
        auc_rule=auc(test.labels, rule_baseline_scores(test)),
        high_share=float(flagged.mean()),
        high_precision=float(positives[flagged].mean()) if flagged.any() else None,
        high_recall=float(flagged[positives].mean()) if positives.any() else None,
    )
