"""One entry point per model name, shared by `manage.py train_models` and the weekly job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from insights.ml import cf, dropout, segments
from insights.ml.registry import model_save
from insights.models import MLModel
from learning.models import Enrollment


def _train_dropout(*, now: datetime, activate: bool) -> MLModel:
    return dropout.train_dropout(enrollments=Enrollment.objects.all(), now=now, activate=activate)


def _train_segments(*, now: datetime, activate: bool) -> MLModel:
    learner_ids = list(
        Enrollment.objects.filter(enrolled_at__lt=now)
        .values_list("learner_id", flat=True)
        .distinct()
    )
    fitted = segments.fit_segments(learner_ids=learner_ids, now=now)
    return model_save(
        name=segments.MODEL_NAME,
        artifact=fitted,
        now=now,
        parameters={
            "k": len(fitted.segments),
            "seed": segments.SEED,
            "features": segments.FEATURES,
        },
        metrics={
            "learners": len(learner_ids),
            "segments": [{"name": s.name, "size": s.size} for s in fitted.segments],
            "inertia": float(fitted.kmeans.inertia_),
        },
        window_start=now - segments.WINDOW,
        window_end=now,
        activate=activate,
    )


def _train_course_cf(*, now: datetime, activate: bool) -> MLModel:
    interactions = cf.course_interactions()
    if not interactions:
        raise ValueError("No enrollments to learn course similarities from.")
    similarity = cf.item_similarity(interactions)
    return model_save(
        name=cf.MODEL_NAME,
        artifact=similarity,
        now=now,
        parameters={"completion_weight": cf.COMPLETION_WEIGHT, "similarity": "cosine"},
        metrics={
            "interactions": len(interactions),
            "courses": len(similarity.items),
            "similar_pairs": int(similarity.matrix.nnz // 2),
        },
        window_end=now,
        activate=activate,
    )


TRAINERS: dict[str, Callable[..., MLModel]] = {
    dropout.MODEL_NAME: _train_dropout,
    segments.MODEL_NAME: _train_segments,
    cf.MODEL_NAME: _train_course_cf,
}


def train_model(*, name: str, now: datetime, activate: bool = True) -> MLModel:
    """Train `name` on the current data; raises ValueError when the data cannot support it."""
    if name not in TRAINERS:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(sorted(TRAINERS))}.")
    return TRAINERS[name](now=now, activate=activate)
