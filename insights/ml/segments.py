"""Learner segments: KMeans (fixed seed) on engagement and performance over the last 28 days.

Each segment is named and described from its centroid, e.g. "steady evening learners" or
"occasional learners who stall", with the centroid's own numbers in the description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.db.models import Avg, Count, Q

from accounts.models import LearnerProfile
from assessments.models import AssessmentAttempt
from insights.ml.registry import active_model
from learning.models import LearnerEvent, LessonProgress

if TYPE_CHECKING:
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

MODEL_NAME = "segments"
WINDOW = timedelta(days=28)
HALF = timedelta(days=14)
SEED = 0
EVENING_FROM_HOUR = 18
FEATURES = (
    "active_days",
    "lessons_completed",
    "quiz_attempts",
    "average_score",
    "evening_share",
    "activity_trend",
)
# A centroid this many standard deviations from the mean earns the descriptor.
NOTABLE = 0.5


@dataclass(frozen=True)
class Segment:
    index: int
    name: str
    description: str
    size: int
    centroid: dict[str, float]


@dataclass(frozen=True)
class SegmentModel:
    scaler: StandardScaler
    kmeans: KMeans
    segments: list[Segment]


def learner_features(*, learner_ids: Sequence[int], now: datetime) -> np.ndarray:
    """learners x FEATURES over [now - 28 days, now); four grouped queries."""
    start = now - WINDOW
    index = {pk: i for i, pk in enumerate(learner_ids)}
    x = np.zeros((len(learner_ids), len(FEATURES)))
    zones = {
        user_id: _zone(tz)
        for user_id, tz in LearnerProfile.objects.filter(user_id__in=learner_ids).values_list(
            "user_id", "timezone"
        )
    }
    window = LearnerEvent.objects.filter(
        learner_id__in=learner_ids, occurred_at__gte=start, occurred_at__lt=now
    )
    days: dict[int, set] = {}
    recent: dict[int, int] = {}
    earlier: dict[int, int] = {}
    evening: dict[int, int] = {}
    for learner_id, occurred_at in window.values_list("learner_id", "occurred_at").iterator():
        local = occurred_at.astimezone(zones.get(learner_id) or ZoneInfo("UTC"))
        days.setdefault(learner_id, set()).add(local.date())
        bucket = recent if occurred_at >= now - HALF else earlier
        bucket[learner_id] = bucket.get(learner_id, 0) + 1
        evening[learner_id] = evening.get(learner_id, 0) + (local.hour >= EVENING_FROM_HOUR)
    lessons = dict(
        LessonProgress.objects.filter(
            learner_id__in=learner_ids, completed_at__gte=start, completed_at__lt=now
        )
        .values("learner_id")
        .annotate(n=Count("id"))
        .values_list("learner_id", "n")
    )
    quizzes = {
        row["learner_id"]: row
        for row in AssessmentAttempt.objects.filter(
            learner_id__in=learner_ids, submitted_at__gte=start, submitted_at__lt=now
        )
        .values("learner_id")
        .annotate(n=Count("id"), avg=Avg("score", filter=Q(score__isnull=False)))
    }
    for pk, i in index.items():
        total = recent.get(pk, 0) + earlier.get(pk, 0)
        x[i] = [
            len(days.get(pk, ())),
            lessons.get(pk, 0),
            quizzes.get(pk, {}).get("n", 0),
            float(quizzes.get(pk, {}).get("avg") or 0),
            evening.get(pk, 0) / total if total else 0.0,
            (recent.get(pk, 0) - earlier.get(pk, 0)) / total if total else 0.0,
        ]
    return x


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def name_segment(z: dict[str, float]) -> str:
    """A short name from the centroid's standardised values."""
    words = []
    if z["active_days"] >= NOTABLE:
        words.append("steady")
    elif z["active_days"] <= -NOTABLE:
        words.append("occasional")
    if z["average_score"] >= NOTABLE:
        words.append("high-scoring")
    elif z["average_score"] <= -NOTABLE:
        words.append("struggling")
    if z["evening_share"] >= NOTABLE:
        words.append("evening")
    elif z["evening_share"] <= -NOTABLE:
        words.append("daytime")
    name = " ".join(words or ["typical"]) + " learners"
    if z["activity_trend"] <= -NOTABLE:
        name += " who stall"
    elif z["activity_trend"] >= NOTABLE:
        name += " picking up pace"
    elif z["lessons_completed"] >= NOTABLE:
        name += " moving fast"
    return name


def describe(centroid: dict[str, float]) -> str:
    trend = centroid["activity_trend"]
    direction = "more" if trend >= 0 else "less"
    return (
        f"active on {centroid['active_days']:.0f} of the last 28 days, "
        f"{centroid['lessons_completed']:.1f} lessons and {centroid['quiz_attempts']:.1f} "
        f"quizzes, average score {centroid['average_score']:.0f} %, "
        f"{centroid['evening_share']:.0%} of activity after {EVENING_FROM_HOUR}:00, "
        f"{abs(trend):.0%} {direction} active in the last two weeks than the two before"
    )


def fit_segments(*, learner_ids: Sequence[int], now: datetime, k: int = 4) -> SegmentModel:
    """Cluster learners; deterministic for the same data (fixed seed, sorted ids)."""
    ids = sorted(learner_ids)
    if len(ids) < k:
        raise ValueError(f"Need at least {k} learners to form {k} segments, got {len(ids)}.")
    x = learner_features(learner_ids=ids, now=now)
    distinct = len(np.unique(x, axis=0))
    if distinct < k:
        raise ValueError(
            f"Only {distinct} distinct activity profile(s) among {len(ids)} learners in the "
            f"last 28 days; {k} segments need more varied activity."
        )
    # Imported here: web processes that only serve pages need not load scikit-learn.
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    kmeans = KMeans(n_clusters=k, random_state=SEED, n_init=10).fit(scaler.transform(x))
    sizes = np.bincount(kmeans.labels_, minlength=k)
    raw = scaler.inverse_transform(kmeans.cluster_centers_)
    segments = []
    names: dict[str, int] = {}
    for c in range(k):
        z = dict(zip(FEATURES, kmeans.cluster_centers_[c], strict=True))
        centroid = {f: float(v) for f, v in zip(FEATURES, raw[c], strict=True)}
        name = name_segment(z)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:  # two centroids alike on every named axis: keep names unique
            name = f"{name} ({names[name]})"
        segments.append(Segment(c, name, describe(centroid), int(sizes[c]), centroid))
    return SegmentModel(scaler, kmeans, segments)


def assign_segments(
    *, model: SegmentModel, learner_ids: Sequence[int], now: datetime
) -> dict[int, Segment]:
    """Each learner's segment under a fitted model, from their last 28 days."""
    if not learner_ids:
        return {}
    labels = model.kmeans.predict(
        model.scaler.transform(learner_features(learner_ids=learner_ids, now=now))
    )
    return {pk: model.segments[int(c)] for pk, c in zip(learner_ids, labels, strict=True)}


def learner_segment(*, learner_id: int, now: datetime) -> Segment | None:
    """The learner's segment under the active model (None until one is trained)."""
    loaded = active_model(MODEL_NAME)
    if loaded is None:
        return None
    return assign_segments(model=loaded.artifact, learner_ids=[learner_id], now=now)[learner_id]


@dataclass(frozen=True)
class SegmentCount:
    name: str
    description: str
    learners: int


def segment_overview(*, learner_ids: Sequence[int], now: datetime) -> list[SegmentCount]:
    """How a group of learners (e.g. an instructor's) splits across the active segments."""
    loaded = active_model(MODEL_NAME)
    if loaded is None or not learner_ids:
        return []
    counts: dict[int, int] = {}
    for segment in assign_segments(
        model=loaded.artifact, learner_ids=learner_ids, now=now
    ).values():
        counts[segment.index] = counts.get(segment.index, 0) + 1
    return [
        SegmentCount(s.name, s.description, counts[s.index])
        for s in sorted(loaded.artifact.segments, key=lambda s: -counts.get(s.index, 0))
        if counts.get(s.index)
    ]
