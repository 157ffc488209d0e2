from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from insights.ml import registry
from insights.ml.registry import (
    ModelLoader,
    RegistryError,
    model_activate,
    model_rollback,
    model_save,
)
from insights.models import MLModel

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _classifier(sign: int) -> LogisticRegression:
    """A one-feature classifier whose prediction for x=1 is high (sign=1) or low (sign=-1)."""
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1]) if sign > 0 else np.array([1, 1, 0, 0])
    return LogisticRegression().fit(x, y)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.django_db
def test_versions_are_numbered_and_only_one_is_active():
    v1 = model_save(name="dropout", artifact={"a": 1}, now=NOW, metrics={"auc": 0.7}, activate=True)
    v2 = model_save(name="dropout", artifact={"a": 2}, now=NOW, metrics={"auc": 0.8})
    assert (v1.version, v2.version) == (1, 2)
    assert list(MLModel.objects.filter(is_active=True).values_list("version", flat=True)) == [1]

    model_activate(name="dropout", version=2)
    assert list(MLModel.objects.filter(is_active=True).values_list("version", flat=True)) == [2]
    assert MLModel.objects.get(version=2).metrics == {"auc": 0.8}

    rolled = model_rollback(name="dropout")
    assert rolled.version == 1
    assert list(MLModel.objects.filter(is_active=True).values_list("version", flat=True)) == [1]


@pytest.mark.django_db
def test_bad_activation_and_rollback_say_why():
    model_save(name="dropout", artifact={}, now=NOW, activate=True)
    with pytest.raises(RegistryError, match="No version 7"):
        model_activate(name="dropout", version=7)
    with pytest.raises(RegistryError, match="oldest version"):
        model_rollback(name="dropout")
    with pytest.raises(RegistryError, match="no active version"):
        model_rollback(name="segments")


@pytest.mark.django_db
def test_loader_serves_a_newly_activated_version_without_restart(django_assert_num_queries):
    clock = FakeClock()
    loader = ModelLoader(check_seconds=30, clock=clock)
    model_save(name="dropout", artifact=_classifier(+1), now=NOW, activate=True)
    model_save(name="dropout", artifact=_classifier(-1), now=NOW)

    def served_probability() -> float:
        return float(loader.get("dropout").artifact.predict_proba([[1.0]])[0, 1])

    assert served_probability() > 0.5
    # Within the interval the cached version is served without touching the database.
    with django_assert_num_queries(0):
        assert loader.get("dropout").version == 1

    model_activate(name="dropout", version=2)
    clock.t += 10
    assert served_probability() > 0.5  # still cached: the check interval has not passed
    clock.t += 25
    assert served_probability() < 0.5  # picked up v2 without a restart
    assert loader.get("dropout").version == 2

    # An unchanged active version costs one small query per interval, not an artifact load.
    clock.t += 31
    with django_assert_num_queries(1):
        assert loader.get("dropout").version == 2


@pytest.mark.django_db
def test_loader_returns_none_without_an_active_version():
    loader = ModelLoader(check_seconds=0, clock=FakeClock())
    assert loader.get("dropout") is None
    model_save(name="dropout", artifact={"x": 1}, now=NOW, activate=True)
    assert loader.get("dropout").artifact == {"x": 1}


@pytest.mark.django_db
def test_activating_in_this_process_is_served_at_once():
    registry.loader.clear()
    model_save(name="dropout", artifact={"v": 1}, now=NOW, activate=True)
    model_save(name="dropout", artifact={"v": 2}, now=NOW)
    assert registry.active_model("dropout").artifact == {"v": 1}
    model_activate(name="dropout", version=2)
    assert registry.active_model("dropout").artifact == {"v": 2}
    registry.loader.clear()
