"""Activity rollups: kept by every write equal rebuilt from raw rows, and the figures read
from them equal the figures computed from the raw events."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LearnerProfile, User
from accounts.privacy import user_erase
from accounts.tests.factories import LearnerFactory
from insights.analytics import (
    SESSION_GAP,
    activity_figures,
    current_streaks,
    engagement_patterns_for,
    event_histograms,
    session_totals,
)
from learning.events import ingest_events
from learning.models import LearnerActivityBucket, LearnerEvent
from learning.rollups import activity_rollups_rebuild
from learning.tests.factories import LearnerEventFactory

NOW = datetime(2026, 11, 24, 12, 7, 33, tzinfo=UTC)
# Whole, half and three-quarter hour offsets, and a zone west of UTC.
ZONES = ["UTC", "Asia/Kathmandu", "Asia/Kolkata", "America/New_York"]


def _buckets() -> list[tuple]:
    return sorted(
        LearnerActivityBucket.objects.values_list(
            "learner_id", "bucket_start", "events", "first_at", "last_at"
        )
    )


def _event(at: datetime, event_id: uuid.UUID | None = None) -> dict:
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "type": "heartbeat",
        "occurred_at": at.isoformat(),
        "data": {},
    }


def _random_writes(rng: random.Random, learners: list) -> None:
    """Batches (with repeats inside and across batches, and late events days old), single
    fixture inserts, deletes and moves of single events."""
    sent: dict[int, list[dict]] = {learner.pk: [] for learner in learners}
    for step in range(60):
        learner = rng.choice(learners)
        now = NOW - timedelta(days=rng.randint(0, 3), minutes=rng.randint(0, 600))
        action = rng.random()
        if action < 0.6:
            batch = []
            for _ in range(rng.randint(1, 40)):
                late = timedelta(days=rng.randint(1, 20)) if rng.random() < 0.2 else timedelta()
                batch.append(_event(now - late - timedelta(seconds=rng.randint(0, 5400))))
            if sent[learner.pk] and rng.random() < 0.5:
                batch += rng.sample(sent[learner.pk], min(5, len(sent[learner.pk])))
            if batch and rng.random() < 0.3:
                batch.append(batch[0])
            ingest_events(learner=learner, events=batch, now=now)
            sent[learner.pk] += batch
        elif action < 0.8:
            LearnerEventFactory(learner=learner, occurred_at=now - timedelta(minutes=step))
        elif action < 0.9:
            victim = LearnerEvent.objects.filter(learner=learner).order_by("?").first()
            if victim is not None:
                LearnerEvent.objects.filter(
                    event_id=victim.event_id, occurred_at=victim.occurred_at
                ).delete()
        else:
            LearnerEvent.objects.filter(
                learner=learner, occurred_at__gte=now - timedelta(hours=2)
            ).update(occurred_at=now - timedelta(days=1, minutes=rng.randint(0, 59)))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_kept_by_writes_equal_rollups_rebuilt_from_raw_rows(seed):
    rng = random.Random(seed)
    learners = LearnerFactory.create_batch(3)
    _random_writes(rng, learners)
    kept = _buckets()
    assert kept, "the writes stored events"
    assert sum(row[2] for row in kept) == LearnerEvent.objects.count()

    rebuilt_count = activity_rollups_rebuild()

    assert _buckets() == kept
    assert rebuilt_count == len(kept)


@pytest.mark.django_db
def test_duplicate_batch_counts_once_and_late_event_lands_in_its_own_bucket(learner):
    batch = [_event(NOW - timedelta(minutes=1)), _event(NOW - timedelta(days=9, minutes=3))]
    ingest_events(learner=learner, events=batch, now=NOW)
    ingest_events(learner=learner, events=batch, now=NOW + timedelta(minutes=1))

    assert [(row[1], row[2]) for row in _buckets()] == [
        (datetime(2026, 11, 15, 12, 0, tzinfo=UTC), 1),
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), 1),
    ]


def _reference_sessions(times: list[datetime], since: datetime, until: datetime):
    inside = sorted(t for t in times if since <= t <= until)
    sessions, seconds, start, previous = 0, 0.0, None, None
    for at in inside:
        if previous is None or at - previous > SESSION_GAP:
            if start is not None:
                seconds += (previous - start).total_seconds()
            sessions, start = sessions + 1, at
        previous = at
    if start is not None:
        seconds += (previous - start).total_seconds()
    return sessions, seconds


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [4, 5])
def test_figures_read_from_rollups_equal_figures_from_raw_events(seed):
    rng = random.Random(seed)
    learners = LearnerFactory.create_batch(len(ZONES))
    for learner, zone in zip(learners, ZONES, strict=True):
        LearnerProfile.objects.filter(user=learner).update(timezone=zone)
        times = [
            NOW + timedelta(minutes=4) - timedelta(seconds=rng.randint(0, 100 * 86400))
            for _ in range(400)
        ]
        # Events right at the windows' ends, and clusters that straddle them.
        times += [NOW, NOW - timedelta(days=30), NOW - timedelta(days=90, seconds=-1)]
        times += [NOW - timedelta(days=30, minutes=m) for m in range(-20, 20, 7)]
        ingest_events(learner=learner, events=[_event(at) for at in times], now=NOW)
    learners = list(
        User.objects.select_related("profile")
        .filter(pk__in=[u.pk for u in learners])
        .order_by("pk")
    )
    windows = [NOW - timedelta(days=30), NOW - timedelta(days=90)]

    totals = session_totals(learner_ids=[u.pk for u in learners], windows=windows, until=NOW)
    patterns = engagement_patterns_for(learners=learners, now=NOW)
    streaks = current_streaks(learners=learners, now=NOW)

    for learner, zone in zip(learners, ZONES, strict=True):
        times = list(
            LearnerEvent.objects.filter(learner=learner).values_list("occurred_at", flat=True)
        )
        for since in windows:
            count, seconds = totals[since][learner.pk]
            expected = _reference_sessions(times, since, NOW)
            assert (count, seconds) == pytest.approx(expected)
        local_dates = {t.astimezone(ZoneInfo(zone)).date() for t in times if windows[1] <= t <= NOW}
        assert patterns[learner.pk].active_days == len(local_dates)
        hours: dict[int, int] = {}
        for t in times:
            if windows[1] <= t <= NOW:
                hour = t.astimezone(ZoneInfo(zone)).hour
                hours[hour] = hours.get(hour, 0) + 1
        top = [h for h, _ in sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
        assert patterns[learner.pk].peak_hours == top
        active = {t.astimezone(ZoneInfo(zone)).date() for t in times if t <= NOW}
        day = NOW.astimezone(ZoneInfo(zone)).date()
        day -= timedelta(days=0 if day in active else 1)  # a streak may end yesterday
        streak = 0
        while day - timedelta(days=streak) in active:
            streak += 1
        assert streaks[learner.pk] == streak

    # The dashboard reads the three in one query: the same figures as one query each.
    with CaptureQueriesContext(connection) as together:
        figures = activity_figures(
            learners=learners, now=NOW, session_windows=windows, histograms=True, streaks=True
        )
    assert len(together) == 1
    assert figures.sessions == totals
    assert figures.streaks == streaks
    assert figures.histograms == event_histograms(learners=learners, now=NOW)
    alone = activity_figures(learners=learners, now=NOW, streaks=True)
    assert (alone.sessions, alone.histograms, alone.streaks) == (None, None, streaks)


@pytest.mark.django_db
def test_erasure_deletes_the_learners_rollups(learner, other_learner):
    for owner in (learner, other_learner):
        ingest_events(learner=owner, events=[_event(NOW - timedelta(minutes=5))], now=NOW)

    user_erase(user=learner, now=NOW)

    assert [row[0] for row in _buckets()] == [other_learner.pk]


@pytest.mark.django_db
def test_rebuild_rollups_command_restores_dropped_buckets(learner, capsys):
    ingest_events(learner=learner, events=[_event(NOW - timedelta(minutes=5))], now=NOW)
    kept = _buckets()
    LearnerActivityBucket.objects.all().delete()

    call_command("rebuild_rollups")

    assert _buckets() == kept
    assert "Rebuilt 1 activity buckets." in capsys.readouterr().out
