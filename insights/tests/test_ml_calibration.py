"""Calibration table, PR-AUC / Brier and the traffic light chosen from calibration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from insights.ml.calibration import (
    RECALL_TARGETS,
    Thresholds,
    brier,
    calibration_table,
    light_table,
    pr_auc,
    threshold_for_recall,
    thresholds_for_recall,
)
from insights.ml.dropout import HIGH_FROM, MEDIUM_FROM, risk_level


def calibrated_sample(n: int = 2000, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities from a skewed distribution; each label drawn with its probability."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 6, size=n)
    return (rng.random(n) < p).astype(int), p


def recall_at(labels, p, t) -> float:
    return float((p[labels == 1] >= t).mean())


def test_calibration_table_has_equal_count_bins_covering_every_learner():
    labels, p = calibrated_sample()
    table = calibration_table(labels, p)
    assert len(table) == 10
    assert sum(b.learners for b in table) == 2000
    assert all(b.learners == 200 for b in table)
    # Bins are ordered and disjoint; each reports its own mean prediction.
    assert all(b.lower <= b.predicted <= b.upper for b in table)
    assert all(a.upper < b.lower for a, b in itertools.pairwise(table))
    # A calibrated sample: observed withdrawal tracks the predictions.
    assert table[-1].observed > table[0].observed
    assert max(abs(b.observed - b.predicted) for b in table) < 0.1
    assert sum(b.observed * b.learners for b in table) == labels.sum()


def test_calibration_table_keeps_ties_in_one_bin_and_handles_nothing():
    labels = np.array([0, 1, 0, 0, 1, 1])
    table = calibration_table(labels, np.array([0.1, 0.1, 0.1, 0.1, 0.6, 0.6]))
    assert [(b.learners, b.predicted, b.observed) for b in table] == [
        (4, pytest.approx(0.1), 0.25),
        (2, pytest.approx(0.6), 1.0),
    ]
    assert calibration_table(np.array([]), np.array([])) == []


def test_pr_auc_and_brier():
    labels = np.array([0, 0, 1, 1])
    assert pr_auc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert pr_auc(np.array([1, 1]), np.array([0.1, 0.2])) is None  # one class: undefined
    assert brier(labels, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    assert brier(labels, np.full(4, 0.5)) == pytest.approx(0.25)
    assert brier(np.array([]), np.array([])) is None


def test_thresholds_are_the_highest_cuts_meeting_the_recall_targets():
    labels, p = calibrated_sample()
    exact = threshold_for_recall(labels, p, 0.5)
    assert recall_at(labels, p, exact) >= 0.5
    assert recall_at(labels, p, np.nextafter(exact, 1)) < 0.5  # any higher cut misses more

    chosen = thresholds_for_recall(labels, p)
    assert chosen.medium < chosen.high
    assert recall_at(labels, p, chosen.high) >= RECALL_TARGETS["high"]
    assert recall_at(labels, p, chosen.medium) >= RECALL_TARGETS["medium"]
    # Rounded down to two decimals: one step up would break the target.
    assert recall_at(labels, p, chosen.high + 0.01) < RECALL_TARGETS["high"]
    assert chosen.high == round(chosen.high, 2)
    with pytest.raises(ValueError, match="No positive example"):
        threshold_for_recall(np.zeros(3), np.array([0.1, 0.2, 0.3]), 0.5)


def test_light_table_reports_share_precision_and_recall_per_light():
    labels = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.5, 0.5, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.05])
    high, medium, low = light_table(labels, p, Thresholds(medium=0.3, high=0.5))
    assert (high.light, high.share, high.precision, high.recall) == ("high", 0.3, 2 / 3, 0.5)
    assert (medium.share, medium.precision, medium.recall) == (0.3, 1 / 3, 0.75)
    assert (low.share, low.precision, low.recall) == (0.4, 0.25, 1.0)


def test_the_served_light_uses_the_thresholds_chosen_from_calibration():
    # Chosen on the OULAD 2013 runs at day 56 (BENCHMARKS.md, evaluate_dropout_model):
    # well below the former 0.20 / 0.40, which flagged one in ten of the learners who left.
    assert (MEDIUM_FROM, HIGH_FROM) == (0.09, 0.19)
    assert risk_level(HIGH_FROM) == "high"
    assert risk_level(np.nextafter(HIGH_FROM, 0)) == "medium"
    assert risk_level(MEDIUM_FROM) == "medium"
    assert risk_level(np.nextafter(MEDIUM_FROM, 0)) == "low"
