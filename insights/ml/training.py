"""One entry point per model name, shared by `manage.py train_models` and the weekly job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from insights.ml import dropout
from insights.models import MLModel
from learning.models import Enrollment


def _train_dropout(*, now: datetime, activate: bool) -> MLModel:
    return dropout.train_dropout(enrollments=Enrollment.objects.all(), now=now, activate=activate)


TRAINERS: dict[str, Callable[..., MLModel]] = {
    dropout.MODEL_NAME: _train_dropout,
}


def train_model(*, name: str, now: datetime, activate: bool = True) -> MLModel:
    """Train `name` on the current data; raises ValueError when the data cannot support it."""
    if name not in TRAINERS:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(sorted(TRAINERS))}.")
    return TRAINERS[name](now=now, activate=activate)
