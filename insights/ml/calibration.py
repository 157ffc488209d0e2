"""How far a risk model's probabilities can be trusted, and the traffic light chosen from it.

Pure functions over (labels, probabilities) arrays, shared by `evaluate_dropout_model`, the
dropout model's thresholds and their tests:

- `pr_auc` (average precision) and `brier` next to the ROC AUC;
- `calibration_table`: learners sorted by predicted probability into equal-count bins, each
  bin's mean prediction next to the share that actually withdrew;
- `thresholds_for_recall`: the traffic light's thresholds chosen from the predictions of
  the training runs, as the highest probability cut that still flags a target share of the
  learners who leave (RECALL_TARGETS);
- `light_table`: per light, the share of learners it shows, its precision (how many of
  them left) and the recall of that light or above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss

CALIBRATION_BINS = 10
# "high" must flag at least half of the learners who leave (the p >= 0.40 light flagged one
# in ten at day 56), "medium or high" four in five.
RECALL_TARGETS = {"high": 0.5, "medium": 0.8}


def _both_classes(labels: np.ndarray) -> bool:
    return len(set(np.asarray(labels).tolist())) == 2


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the precision-recall curve (average precision); None with one class."""
    if not _both_classes(labels):
        return None
    return float(average_precision_score(labels, scores))


def brier(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Mean squared error of the probabilities (lower is better); None without examples."""
    if not len(labels):
        return None
    return float(brier_score_loss(labels, probabilities))


@dataclass(frozen=True)
class CalibrationBin:
    lower: float  # lowest and highest predicted probability in the bin
    upper: float
    learners: int
    predicted: float  # mean predicted probability
    observed: float  # share who withdrew


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, *, bins: int = CALIBRATION_BINS
) -> list[CalibrationBin]:
    """Equal-count bins by predicted probability (ties stay in one bin: fewer bins then)."""
    labels, probabilities = np.asarray(labels, dtype=float), np.asarray(probabilities)
    if not len(labels):
        return []
    order = np.argsort(probabilities, kind="stable")
    edges = np.unique(np.quantile(probabilities, np.linspace(0, 1, bins + 1)[1:-1]))
    # Bin k holds the probabilities in (edges[k-1], edges[k]]: equal values share a bin.
    which = np.searchsorted(edges, probabilities[order], side="left")
    out = []
    for k in np.unique(which):
        members = order[which == k]
        p = probabilities[members]
        out.append(
            CalibrationBin(
                lower=float(p.min()),
                upper=float(p.max()),
                learners=len(members),
                predicted=float(p.mean()),
                observed=float(labels[members].mean()),
            )
        )
    return out


@dataclass(frozen=True)
class Thresholds:
    medium: float
    high: float


def threshold_for_recall(labels: np.ndarray, probabilities: np.ndarray, recall: float) -> float:
    """The highest cut t such that p >= t flags at least `recall` of the positives."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    positives = np.sort(probabilities[labels == 1])[::-1]
    if not len(positives):
        raise ValueError("No positive example to choose a threshold from.")
    needed = max(1, int(np.ceil(recall * len(positives))))
    return float(positives[needed - 1])


def thresholds_for_recall(
    labels: np.ndarray,
    probabilities: np.ndarray,
    *,
    targets: dict[str, float] = RECALL_TARGETS,
    decimals: int = 2,
) -> Thresholds:
    """Thresholds meeting the recall targets, rounded DOWN to `decimals` (recall kept)."""
    scale = 10**decimals
    cut = {
        light: np.floor(threshold_for_recall(labels, probabilities, recall) * scale) / scale
        for light, recall in targets.items()
    }
    return Thresholds(medium=float(min(cut["medium"], cut["high"])), high=float(cut["high"]))


@dataclass(frozen=True)
class LightStats:
    light: str
    share: float  # of all learners, in this light
    precision: float | None  # of the learners in this light, share who withdrew
    recall: float | None  # of those who withdrew, share in this light or a higher one


def light_table(
    labels: np.ndarray, probabilities: np.ndarray, thresholds: Thresholds
) -> list[LightStats]:
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    positives = labels == 1
    bands = {
        "high": probabilities >= thresholds.high,
        "medium": (probabilities >= thresholds.medium) & (probabilities < thresholds.high),
        "low": probabilities < thresholds.medium,
    }
    at_or_above = {
        "high": bands["high"],
        "medium": probabilities >= thresholds.medium,
        "low": np.ones(len(labels), dtype=bool),
    }
    out = []
    for light, members in bands.items():
        out.append(
            LightStats(
                light=light,
                share=float(members.mean()) if len(labels) else 0.0,
                precision=float(positives[members].mean()) if members.any() else None,
                recall=float(at_or_above[light][positives].mean()) if positives.any() else None,
            )
        )
    return out
