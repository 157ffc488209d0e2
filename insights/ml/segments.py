"""Learner segments: KMeans (fixed seed) on engagement and performance over the last 28 days.

Each segment is named and described from its centroid, e.g. "steady evening learners" or
"occasional learners who stall", with the centroid's own numbers in the description.

Fitting imports scikit-learn inside `fit_segments`; the stored model keeps only numpy
arrays (the scaler's mean and scale, the standardised centres), so assigning learners to
segments - in web processes and the nightly job - needs numpy alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet

from accounts.models import LearnerProfile, User
from assessments.models import AssessmentAttempt
from insights.ml.registry import active_model
from insights.selectors import profile_of
from learning.models import Enrollment, LearnerEvent, LessonProgress
from skillstudio.chunks import chunked
from skillstudio.data_versions import learners_changed

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
# Learners whose stored segment is refreshed per chunk (nightly), and how old a stored
# segment may be before messages stop using it (the nightly job missed, model withdrawn).
CHUNK_SIZE = 500
FRESH_FOR = timedelta(days=8)


@dataclass(frozen=True)
class Segment:
    index: int
    name: str
    description: str
    size: int
    centroid: dict[str, float]


@dataclass(frozen=True)
class SegmentModel:
    mean: np.ndarray  # per feature, for standardising as the fit did
    scale: np.ndarray
    centers: np.ndarray  # segments x FEATURES, standardised
    labels: np.ndarray  # the training learners' segments, in sorted id order
    inertia: float
    segments: list[Segment]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Nearest centre (squared Euclidean on standardised features), as KMeans predicts."""
        z = (x - self.mean) / self.scale
        distances = ((z[:, None, :] - self.centers[None, :, :]) ** 2).sum(axis=2)
        return distances.argmin(axis=1)


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
    # A centroid mapped back from standard scores can sit a hair below zero: "-0%" (walk15).
    counts = {name: max(0.0, centroid[name]) for name in FEATURES if name != "activity_trend"}
    return (
        f"active on {counts['active_days']:.0f} of the last 28 days, "
        f"{counts['lessons_completed']:.1f} lessons and {counts['quiz_attempts']:.1f} "
        f"quizzes, average score {counts['average_score']:.0f} %, "
        f"{counts['evening_share']:.0%} of activity after {EVENING_FROM_HOUR}:00, "
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
    return SegmentModel(
        mean=scaler.mean_.copy(),
        scale=scaler.scale_.copy(),
        centers=kmeans.cluster_centers_.copy(),
        labels=kmeans.labels_.copy(),
        inertia=float(kmeans.inertia_),
        segments=segments,
    )


def assign_segments(
    *, model: SegmentModel, learner_ids: Sequence[int], now: datetime
) -> dict[int, Segment]:
    """Each learner's segment under a fitted model, from their last 28 days."""
    if not learner_ids:
        return {}
    labels = model.predict(learner_features(learner_ids=learner_ids, now=now))
    return {pk: model.segments[int(c)] for pk, c in zip(learner_ids, labels, strict=True)}


def served_segments() -> tuple[int, SegmentModel] | None:
    """(version, model) of the active segments model; None until one is trained.

    Versions stored before the model became numpy arrays hold scikit-learn objects (loading
    one still imports it); they serve nothing until the weekly job trains a new version.
    """
    loaded = active_model(MODEL_NAME)
    artifact = loaded.artifact if loaded else None
    if not isinstance(artifact, SegmentModel) or "centers" not in vars(artifact):
        return None
    return loaded.version, artifact


def store_segments(*, assignments: Mapping[int, Segment], model_version: int, now: datetime) -> int:
    """Write each learner's segment to `profile.segment`.

    One UPDATE per segment (learners of a segment share the same entry), touching only that
    column, so a concurrent write of another one (the struggle check) is not lost. Returns
    the number of profiles updated.
    """
    by_segment: dict[int, list[int]] = defaultdict(list)
    for learner_id, segment in assignments.items():
        by_segment[segment.index].append(learner_id)
    segments = {segment.index: segment for segment in assignments.values()}
    updated = 0
    with transaction.atomic():
        for index, learner_ids in sorted(by_segment.items()):
            segment = segments[index]
            entry = {
                "name": segment.name,
                "description": segment.description,
                "model_version": model_version,
                "assigned_at": now.isoformat(),
            }
            updated += LearnerProfile.objects.filter(
                user_id__in=learner_ids, profiling_opt_out=False
            ).update(segment=entry, updated_at=now)
        # Cached dashboards show the segment's message: they refresh after commit.
        learners_changed(assignments)
    return updated


@dataclass(frozen=True)
class SegmentRun:
    model_version: int | None
    learners: int


def assign_active_learners(*, now: datetime, chunk_size: int = CHUNK_SIZE) -> SegmentRun:
    """Nightly: every learner with an active enrollment gets their current segment stored.

    Chunked: per chunk, the feature queries of `learner_features` and one UPDATE per
    segment, each chunk in its own transaction. Nothing happens without an active model.
    """
    served = served_segments()
    if served is None:
        return SegmentRun(None, 0)
    version, model = served
    ids = sorted(
        Enrollment.objects.filter(status=Enrollment.Status.ACTIVE)
        # Learners who opted out of profiling get no segment (accounts.privacy).
        .exclude(learner__profile__profiling_opt_out=True)
        .values_list("learner_id", flat=True)
        .distinct()
    )
    for chunk in chunked(ids, chunk_size):
        store_segments(
            assignments=assign_segments(model=model, learner_ids=chunk, now=now),
            model_version=version,
            now=now,
        )
    return SegmentRun(version, len(ids))


def segment_entry(*, learner: User, now: datetime) -> dict[str, Any] | None:
    """The learner's stored segment if assigned within FRESH_FOR, else None.

    Reads the profile the request has usually loaded already (no query then).
    """
    profile = profile_of(learner)
    entry = profile.segment if profile else None
    if not isinstance(entry, dict):
        return None
    try:
        assigned_at = datetime.fromisoformat(entry["assigned_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return entry if now - FRESH_FOR <= assigned_at <= now else None


@dataclass(frozen=True)
class SegmentCount:
    name: str
    description: str
    learners: int


def segment_overview(*, learner_ids: Iterable[int] | QuerySet) -> list[SegmentCount]:
    """How a group of learners (e.g. an instructor's) splits across the active segments.

    Counts the segments stored on their profiles by the active version (at training and
    nightly): one grouped query, however many learners, and no features computed here.
    """
    served = served_segments()
    if served is None:
        return []
    version, model = served
    counts = dict(
        LearnerProfile.objects.filter(user_id__in=learner_ids, segment__model_version=version)
        .values_list("segment__name")
        .annotate(n=Count("pk"))
        .values_list("segment__name", "n")
    )
    return [
        SegmentCount(s.name, s.description, counts[s.name])
        for s in sorted(model.segments, key=lambda s: (-counts.get(s.name, 0), s.index))
        if counts.get(s.name)
    ]
