from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from learning.models import LearnerEvent
from learning.partitions import ensure_month_partition, existing_partitions
from learning.tests.factories import LearnerEventFactory


def partition_of(event: LearnerEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM learning_learnerevent WHERE event_id = %s",
            [event.event_id],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_event_without_a_monthly_partition_lands_in_default(learner):
    event = LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 5, 4, tzinfo=UTC))

    assert partition_of(event) == "learning_learnerevent_default"


@pytest.mark.django_db
def test_event_lands_in_its_monthly_partition(learner):
    ensure_month_partition(date(2031, 6, 1))

    event = LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 6, 30, 23, tzinfo=UTC))

    assert partition_of(event) == "learning_learnerevent_p2031_06"


@pytest.mark.django_db
def test_creating_a_partition_moves_default_rows_once(learner):
    in_month = [
        LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 7, d, tzinfo=UTC))
        for d in (1, 15, 31)
    ]
    LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 8, 1, tzinfo=UTC))

    first = ensure_month_partition(date(2031, 7, 1))
    second = ensure_month_partition(date(2031, 7, 1))

    assert (first.created, first.rows_moved) == (True, 3)
    assert (second.created, second.rows_moved) == (False, 0)
    assert {partition_of(e) for e in in_month} == {"learning_learnerevent_p2031_07"}
    assert LearnerEvent.objects.filter(learner=learner).count() == 4
    assert "learning_learnerevent_p2031_07" in existing_partitions()


@pytest.mark.django_db
def test_orm_filters_events_by_learner_and_time_range(learner, other_learner):
    inside = LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 9, 10, tzinfo=UTC))
    LearnerEventFactory(learner=learner, occurred_at=datetime(2031, 10, 10, tzinfo=UTC))
    LearnerEventFactory(learner=other_learner, occurred_at=datetime(2031, 9, 10, tzinfo=UTC))

    found = LearnerEvent.objects.filter(
        learner=learner,
        occurred_at__gte=datetime(2031, 9, 1, tzinfo=UTC),
        occurred_at__lt=datetime(2031, 10, 1, tzinfo=UTC),
    )

    assert [e.event_id for e in found] == [inside.event_id]


@pytest.mark.django_db
def test_duplicate_event_ids_are_ignored_by_bulk_insert(learner):
    when = datetime(2031, 11, 2, tzinfo=UTC)
    original = LearnerEventFactory(learner=learner, occurred_at=when)
    retry = LearnerEvent(
        event_id=original.event_id,
        occurred_at=when,
        received_at=when,
        learner=learner,
        event_type=LearnerEvent.Type.HEARTBEAT,
    )

    LearnerEvent.objects.bulk_create([retry], ignore_conflicts=True)

    assert LearnerEvent.objects.filter(event_id=original.event_id).count() == 1
