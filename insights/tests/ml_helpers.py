"""Test helpers for the trained models."""

from __future__ import annotations

from insights.ml import registry
from insights.ml.cf import GATE_METRIC, MODEL_NAME
from insights.models import MLModel


def open_cf_gate(name: str = MODEL_NAME) -> MLModel:
    """Record on the active version of `name` a temporal evaluation ahead of popularity.

    For tests of what the suggestions are once served: the fixtures there are too small
    for any method to beat popularity (with five courses or fewer popularity's top five
    holds every course).
    """
    version = MLModel.objects.get(name=name, is_active=True)
    version.metrics = {**version.metrics, GATE_METRIC: {"ahead_of_popularity": True}}
    version.save(update_fields=["metrics"])
    registry.loader.forget(name)
    return version
