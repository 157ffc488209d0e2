from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AssessmentAttemptFactory
from insights.ml import registry
from insights.ml.registry import model_save
from insights.ml.segments import assign_segments, fit_segments, learner_segment, segment_overview
from learning.models import LearnerEvent

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def fresh_loader():
    # The process-wide loader would otherwise serve a model cached by an earlier test.
    registry.loader.clear()
    yield
    registry.loader.clear()


@pytest.fixture
def two_kinds(db):
    """4 learners active on 20 evenings scoring 90; 4 active twice, mornings, 3 weeks ago."""
    steady = LearnerFactory.create_batch(4)
    drifting = LearnerFactory.create_batch(4)
    events = []
    for learner in steady:
        events += [(learner, NOW.replace(hour=20) - d * DAY) for d in range(1, 21)]
        at = NOW - 2 * DAY
        AssessmentAttemptFactory(learner=learner, started_at=at, submitted_at=at, score=90)
    for learner in drifting:
        events += [(learner, NOW.replace(hour=10) - d * DAY) for d in (20, 25)]
        at = NOW - 20 * DAY
        AssessmentAttemptFactory(learner=learner, started_at=at, submitted_at=at, score=40)
    LearnerEvent.objects.bulk_create(
        LearnerEvent(
            event_id=uuid.uuid4(),
            learner=learner,
            occurred_at=at,
            received_at=at,
            event_type=LearnerEvent.Type.LESSON_VIEWED,
        )
        for learner, at in events
    )
    return steady, drifting


def test_segments_are_named_from_centroids_and_deterministic(two_kinds):
    steady, drifting = two_kinds
    ids = [u.id for u in steady + drifting]
    model = fit_segments(learner_ids=ids, now=NOW, k=2)
    names = sorted(s.name for s in model.segments)
    assert names == [
        "occasional struggling daytime learners who stall",
        "steady high-scoring evening learners picking up pace",
    ]
    assigned = assign_segments(model=model, learner_ids=ids, now=NOW)
    assert {assigned[u.id].name for u in steady} == {names[1]}
    assert {assigned[u.id].name for u in drifting} == {names[0]}
    evening = assigned[steady[0].id]
    assert evening.size == 4
    # 20 evenings in 28 days: 14 in the last two weeks, 6 before -> (14 - 6) / 20 = 40 % more.
    assert evening.description.startswith("active on 20 of the last 28 days")
    assert "average score 90 %" in evening.description
    assert "100% of activity after 18:00" in evening.description
    assert "40% more active in the last two weeks" in evening.description

    again = fit_segments(learner_ids=list(reversed(ids)), now=NOW, k=2)
    assert [s.name for s in again.segments] == [s.name for s in model.segments]
    assert (again.kmeans.labels_ == model.kmeans.labels_).all()


def test_identical_learners_cannot_be_segmented(db):
    ids = [u.id for u in LearnerFactory.create_batch(4)]
    with pytest.raises(ValueError, match="Only 1 distinct activity profile"):
        fit_segments(learner_ids=ids, now=NOW, k=2)


def test_overview_and_learner_segment_use_the_active_model(two_kinds):
    steady, drifting = two_kinds
    assert learner_segment(learner_id=steady[0].id, now=NOW) is None
    ids = [u.id for u in steady + drifting]
    model_save(name="segments", artifact=fit_segments(learner_ids=ids, now=NOW, k=2), now=NOW,
               activate=True)  # fmt: skip
    registry.loader.clear()
    assert learner_segment(learner_id=drifting[0].id, now=NOW).name == (
        "occasional struggling daytime learners who stall"
    )
    overview = segment_overview(learner_ids=[*ids[:5]], now=NOW)  # 4 steady, 1 drifting
    assert [(s.name, s.learners) for s in overview] == [
        ("steady high-scoring evening learners picking up pace", 4),
        ("occasional struggling daytime learners who stall", 1),
    ]
