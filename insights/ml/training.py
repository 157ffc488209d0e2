"""One entry point per model name, shared by `manage.py train_models` and the weekly job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from insights.ml import cf, dropout, segments
from insights.ml.registry import model_save
from insights.models import MLModel
from learning.models import Enrollment


def _train_dropout(*, now: datetime, activate: bool) -> MLModel:
    return dropout.train_dropout(enrollments=Enrollment.objects.all(), now=now, activate=activate)


def _train_segments(*, now: datetime, activate: bool) -> MLModel:
    learner_ids = sorted(
        Enrollment.objects.filter(enrolled_at__lt=now)
        .values_list("learner_id", flat=True)
        .distinct()
    )
    fitted = segments.fit_segments(learner_ids=learner_ids, now=now)
    with transaction.atomic():
        version = model_save(
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
                "inertia": fitted.inertia,
            },
            window_start=now - segments.WINDOW,
            window_end=now,
            activate=activate,
        )
        if activate:
            # The fit already placed every training learner (labels in sorted id order):
            # their profiles get the new segments now rather than at the next nightly run.
            segments.store_segments(
                assignments={
                    pk: fitted.segments[int(label)]
                    for pk, label in zip(learner_ids, fitted.labels, strict=True)
                },
                model_version=version.version,
                now=now,
            )
    return version


def _train_cf(
    *,
    name: str,
    interactions: list[tuple[int, int, float]],
    fit: Callable[[list[tuple[int, int, float]]], cf.ItemSimilarity],
    what: str,
    neighbours: int | None,
    now: datetime,
    activate: bool,
) -> MLModel:
    if not interactions:
        raise ValueError(f"No {what} to learn similarities from.")
    similarity = fit(interactions)
    return model_save(
        name=name,
        artifact=similarity,
        now=now,
        parameters={
            "completion_weight": cf.COMPLETION_WEIGHT,
            "similarity": "cosine",
            "neighbours": neighbours,
        },
        metrics={
            "interactions": len(interactions),
            "items": len(similarity.items),
            "suggestible": len(similarity.items) - len(similarity.unsuggestible),
            "similar_pairs": len(similarity.data),
        },
        window_end=now,
        activate=activate,
    )


def _train_course_cf(*, now: datetime, activate: bool) -> MLModel:
    """The course model for "learners like you", chosen and gated by a temporal evaluation.

    Each learner's latest courses are held out (`cf.split_temporal`); the cosine model and
    the sequence-aware one (what learners took next) are compared with popularity. The
    better of the two is stored; its result goes into the version's metrics under
    `cf.GATE_METRIC`, and personal suggestions are served only when it is ahead of
    popularity (`cf.passes_gate`).
    """
    interactions = cf.course_interactions()
    if not interactions:
        raise ValueError("No enrollments to learn similarities from.")
    sequences = cf.course_sequences()
    evaluation = cf.evaluate_recommenders(sequences, split="temporal")
    method = "next" if evaluation.precision_at_5["next"] > evaluation.precision_at_5["cf"] else "cf"
    if method == "next":
        similarity = cf.fit_next_course_model(sequences)
    else:
        similarity = cf.fit_course_similarity(interactions)
    return model_save(
        name=cf.MODEL_NAME,
        artifact=similarity,
        now=now,
        parameters={
            "method": method,
            "completion_weight": cf.COMPLETION_WEIGHT,
            "similarity": "cosine" if method == "cf" else "next_items",
            "window": cf.NEXT_WINDOW if method == "next" else None,
            "neighbours": None,
        },
        metrics={
            "interactions": len(interactions),
            "items": len(similarity.items),
            "suggestible": len(similarity.items) - len(similarity.unsuggestible),
            "similar_pairs": len(similarity.data),
            cf.GATE_METRIC: {
                **evaluation.as_metrics(),
                "served": method,
                "ahead_of_popularity": evaluation.ahead_of_popularity(method),
            },
        },
        window_end=now,
        activate=activate,
    )


def _train_lesson_cf(*, now: datetime, activate: bool) -> MLModel:
    return _train_cf(
        name=cf.LESSON_MODEL_NAME,
        interactions=cf.lesson_interactions(),
        fit=cf.fit_lesson_similarity,
        what="lesson progress",
        neighbours=cf.LESSON_NEIGHBOURS,
        now=now,
        activate=activate,
    )


TRAINERS: dict[str, Callable[..., MLModel]] = {
    dropout.MODEL_NAME: _train_dropout,
    segments.MODEL_NAME: _train_segments,
    cf.MODEL_NAME: _train_course_cf,
    cf.LESSON_MODEL_NAME: _train_lesson_cf,
}


def train_model(*, name: str, now: datetime, activate: bool = True) -> MLModel:
    """Train `name` on the current data; raises ValueError when the data cannot support it."""
    if name not in TRAINERS:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(sorted(TRAINERS))}.")
    return TRAINERS[name](now=now, activate=activate)
