from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import LearnerProfile
from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AssessmentAttemptFactory
from insights.ml import registry
from insights.ml.registry import model_save
from insights.ml.segments import (
    SegmentRun,
    assign_active_learners,
    assign_segments,
    describe,
    fit_segments,
    segment_overview,
    served_segments,
    store_segments,
)
from insights.ml.training import train_model
from insights.tasks import score_dropout_risk
from learning.models import LearnerEvent
from learning.tests.factories import EnrollmentFactory
from skillstudio.data_versions import learner_version

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


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
    assert (again.labels == model.labels).all()


def test_identical_learners_cannot_be_segmented(db):
    ids = [u.id for u in LearnerFactory.create_batch(4)]
    with pytest.raises(ValueError, match="Only 1 distinct activity profile"):
        fit_segments(learner_ids=ids, now=NOW, k=2)


def test_overview_and_learner_segment_use_the_active_model(two_kinds):
    steady, drifting = two_kinds
    assert learner_segment(learner_id=steady[0].id, now=NOW) is None
    ids = [u.id for u in steady + drifting]
    model = fit_segments(learner_ids=ids, now=NOW, k=2)
    model_save(name="segments", artifact=model, now=NOW, activate=True)
    registry.loader.clear()
    assert learner_segment(learner_id=drifting[0].id, now=NOW).name == (
        "occasional struggling daytime learners who stall"
    )
    assert segment_overview(learner_ids=ids) == []  # nothing stored yet
    store_segments(
        assignments=assign_segments(model=model, learner_ids=ids, now=NOW),
        model_version=1,
        now=NOW,
    )
    overview = segment_overview(learner_ids=[*ids[:5]])  # 4 steady, 1 drifting
    assert [(s.name, s.learners) for s in overview] == [
        ("steady high-scoring evening learners picking up pace", 4),
        ("occasional struggling daytime learners who stall", 1),
    ]
    # Segments stored by another version are not counted.
    store_segments(assignments={drifting[0].id: model.segments[0]}, model_version=7, now=NOW)
    assert [(s.name, s.learners) for s in segment_overview(learner_ids=ids[:5])] == [
        ("steady high-scoring evening learners picking up pace", 4)
    ]


def learner_segment(*, learner_id: int, now):
    """The learner's segment under the active model (None until one is trained)."""
    served = served_segments()
    if served is None:
        return None
    return assign_segments(model=served[1], learner_ids=[learner_id], now=now)[learner_id]


def _entry(segment, version: int, at: datetime = NOW) -> dict:
    return {
        "name": segment.name,
        "description": segment.description,
        "model_version": version,
        "assigned_at": at.isoformat(),
    }


def test_training_stores_every_learners_segment_and_keeps_other_metrics(
    two_kinds, django_capture_on_commit_callbacks
):
    steady, drifting = two_kinds
    # Two more activity profiles, so that the default four segments can form.
    idle, lunch = LearnerFactory(), LearnerFactory()
    LearnerEvent.objects.bulk_create(
        LearnerEvent(
            event_id=uuid.uuid4(),
            learner=lunch,
            occurred_at=NOW.replace(hour=12) - d * DAY,
            received_at=NOW,
            event_type=LearnerEvent.Type.LESSON_VIEWED,
        )
        for d in (3, 4, 5)
    )
    learners = [*steady, *drifting, idle, lunch]
    for learner in learners:
        EnrollmentFactory(learner=learner, enrolled_at=NOW - 30 * DAY)
    LearnerProfile.objects.filter(user=idle).update(struggle={"x": 1})
    before = learner_version(idle.id)

    with django_capture_on_commit_callbacks(execute=True):
        version = train_model(name="segments", now=NOW)

    assigned = assign_segments(
        model=registry.artifact_of(version), learner_ids=[u.id for u in learners], now=NOW
    )
    stored = dict(
        LearnerProfile.objects.filter(user__in=learners).values_list("user_id", "segment")
    )
    assert stored == {pk: _entry(segment, version.version) for pk, segment in assigned.items()}
    assert len({assigned[u.id].name for u in steady}) == 1
    assert LearnerProfile.objects.get(user=idle).struggle == {"x": 1}  # left alone
    assert learner_version(idle.id) != before  # cached dashboards refresh


def test_nightly_job_stores_segments_of_active_learners_in_chunks(
    two_kinds, django_assert_max_num_queries
):
    steady, drifting = two_kinds
    ids = [u.id for u in steady + drifting]
    model = fit_segments(learner_ids=ids, now=NOW, k=2)
    model_save(name="segments", artifact=model, now=NOW, activate=True)
    for learner in [*steady, drifting[0]]:
        EnrollmentFactory(learner=learner)
    EnrollmentFactory(learner=drifting[1], status="completed")

    # The registry's check and load (2), the ids (1), then per chunk four feature queries
    # and, inside a savepoint (2), one UPDATE per segment (2).
    with django_assert_max_num_queries(11):
        run = assign_active_learners(now=NOW)
    assert run == SegmentRun(model_version=1, learners=5)
    stored = dict(LearnerProfile.objects.values_list("user_id", "segment"))
    steady_name = "steady high-scoring evening learners picking up pace"
    assert {stored[u.id]["name"] for u in steady} == {steady_name}
    assert stored[drifting[0].id]["name"] == ("occasional struggling daytime learners who stall")
    assert stored[drifting[1].id] is None  # no active enrollment

    # A day later through the nightly task, then in chunks of two: the same segments.
    later = NOW + DAY
    result = score_dropout_risk.apply(kwargs={"now": later.isoformat()}).result
    assert (result["segments_model_version"], result["segmented"]) == (1, 5)
    assert LearnerProfile.objects.get(user=steady[0]).segment["assigned_at"] == later.isoformat()
    again = assign_active_learners(now=later, chunk_size=2)
    assert again == run
    assert dict(LearnerProfile.objects.values_list("user_id", "segment")) == {
        **stored,
        **{
            pk: {**stored[pk], "assigned_at": later.isoformat()}
            for pk in [u.id for u in steady] + [drifting[0].id]
        },
    }


def test_no_active_model_stores_nothing(two_kinds):
    EnrollmentFactory(learner=two_kinds[0][0])
    assert assign_active_learners(now=NOW) == SegmentRun(model_version=None, learners=0)
    assert not LearnerProfile.objects.filter(segment__isnull=False).exists()


def test_a_version_in_an_older_format_serves_nothing(two_kinds):
    model_save(name="segments", artifact={"kmeans": "old"}, now=NOW, activate=True)
    steady = two_kinds[0]
    EnrollmentFactory(learner=steady[0])
    assert learner_segment(learner_id=steady[0].id, now=NOW) is None
    assert segment_overview(learner_ids=[steady[0].id]) == []
    assert assign_active_learners(now=NOW) == SegmentRun(model_version=None, learners=0)


def test_assign_segments_command(two_kinds):
    with pytest.raises(CommandError, match="No active segments model: run `manage"):
        call_command("assign_segments", stdout=StringIO())
    steady, drifting = two_kinds
    ids = [u.id for u in steady + drifting]
    model_save(
        name="segments", artifact=fit_segments(learner_ids=ids, now=NOW, k=2), now=NOW,
        activate=True,
    )  # fmt: skip
    for learner in (steady[0], drifting[0]):
        EnrollmentFactory(learner=learner)
    out = StringIO()
    call_command("assign_segments", stdout=out)
    assert out.getvalue() == "Stored segments v1 for 2 learners with an active enrollment.\n"
    assert LearnerProfile.objects.filter(segment__isnull=False).count() == 2


def test_a_centroid_a_hair_below_zero_reads_as_none():
    """walk15: "-0% of activity after 18:00" (a centroid mapped back from standard scores)."""
    centroid = {
        "active_days": 3.0,
        "lessons_completed": -0.0004,
        "quiz_attempts": 1.0,
        "average_score": 60.0,
        "evening_share": -0.002,
        "activity_trend": -0.25,
    }

    text = describe(centroid)

    assert "0.0 lessons" in text and "-0.0" not in text
    assert "0% of activity after 18:00" in text and "-0%" not in text
    assert text.endswith("25% less active in the last two weeks than the two before")
