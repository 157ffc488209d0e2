"""Partition maintenance: learning.partitions.maintain_partitions and `manage_partitions`.

DDL is transactional in PostgreSQL, so partitions made here vanish with each
test's transaction. Months are far from today so no real partition interferes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from learning.models import LearnerEvent
from learning.partitions import (
    DEFAULT,
    ensure_month_partition,
    existing_partitions,
    maintain_partitions,
)
from learning.tests.factories import LearnerEventFactory

NOW = datetime(2034, 2, 10, 9, 30, tzinfo=UTC)


def rows_per_table() -> Counter[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM learning_learnerevent")
        return Counter(row[0] for row in cursor.fetchall())


def events_in(learner, *days: tuple[int, int, int]) -> list[LearnerEvent]:
    events = [
        LearnerEventFactory(learner=learner, occurred_at=datetime(y, m, d, 12, tzinfo=UTC))
        for y, m, d in days
    ]
    # Run the deferred foreign-key checks now, as a commit would: a table with
    # pending trigger events cannot be dropped inside the test's transaction.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return events


@pytest.mark.django_db
def test_creates_this_month_and_three_ahead_and_a_second_run_is_a_no_op():
    first = maintain_partitions(now=NOW, months_ahead=3)
    partitions_after_first = existing_partitions()
    second = maintain_partitions(now=NOW, months_ahead=3)

    assert [r.name for r in first.created] == [
        "learning_learnerevent_p2034_02",
        "learning_learnerevent_p2034_03",
        "learning_learnerevent_p2034_04",
        "learning_learnerevent_p2034_05",
    ]
    assert second.created == []
    assert existing_partitions() == partitions_after_first


@pytest.mark.django_db
def test_rows_in_the_default_partition_move_to_their_new_partitions_without_loss(learner):
    events_in(learner, (2034, 3, 1), (2034, 3, 15), (2034, 3, 31))  # ahead: gets created
    events_in(learner, (2033, 12, 5), (2033, 12, 6))  # a past month with no partition
    events_in(learner, (2036, 7, 4))  # far ahead, beyond the window
    assert rows_per_table() == Counter({DEFAULT: 6})

    report = maintain_partitions(now=NOW, months_ahead=3)

    moved = {r.name: r.rows_moved for r in report.created}
    assert moved == {
        "learning_learnerevent_p2033_12": 2,
        "learning_learnerevent_p2034_02": 0,
        "learning_learnerevent_p2034_03": 3,
        "learning_learnerevent_p2034_04": 0,
        "learning_learnerevent_p2034_05": 0,
        "learning_learnerevent_p2036_07": 1,
    }
    assert rows_per_table() == Counter(
        {
            "learning_learnerevent_p2033_12": 2,
            "learning_learnerevent_p2034_03": 3,
            "learning_learnerevent_p2036_07": 1,
        }
    )
    # Every event is still there exactly once.
    assert LearnerEvent.objects.filter(learner=learner).count() == 6
    assert LearnerEvent.objects.values("event_id").distinct().count() == 6


@pytest.mark.django_db
def test_dry_run_reports_and_changes_nothing(learner):
    events_in(learner, (2034, 3, 2), (2034, 3, 3))
    before = existing_partitions()

    report = maintain_partitions(now=NOW, months_ahead=1, dry_run=True)

    assert report.would_create == [(date(2034, 2, 1), 0), (date(2034, 3, 1), 2)]
    assert report.created == []
    assert existing_partitions() == before
    assert rows_per_table() == Counter({DEFAULT: 2})


@pytest.fixture
def old_months(learner):
    """Partitions for Sep, Oct and Nov 2033 holding 1, 2 and 3 events."""
    for month in (9, 10, 11):
        ensure_month_partition(date(2033, month, 1))
    events_in(learner, (2033, 9, 30), (2033, 10, 1), (2033, 10, 31))
    events_in(learner, (2033, 11, 1), (2033, 11, 2), (2033, 11, 30))


@pytest.mark.django_db
def test_retention_only_reports_expired_partitions_without_drop(old_months):
    report = maintain_partitions(now=NOW, months_ahead=0, retention_months=3)

    # Keep the current month and 3 before it (Nov, Dec, Jan): Sep and Oct expired.
    assert [(p.name, p.rows) for p in report.expired] == [
        ("learning_learnerevent_p2033_09", 1),
        ("learning_learnerevent_p2033_10", 2),
    ]
    assert report.dropped == []
    assert LearnerEvent.objects.count() == 6


@pytest.mark.django_db
def test_retention_with_drop_detaches_and_drops_only_expired_partitions(old_months):
    report = maintain_partitions(now=NOW, months_ahead=0, retention_months=3, drop=True)

    assert [p.name for p in report.dropped] == [
        "learning_learnerevent_p2033_09",
        "learning_learnerevent_p2033_10",
    ]
    partitions = existing_partitions()
    assert "learning_learnerevent_p2033_09" not in partitions
    assert "learning_learnerevent_p2033_10" not in partitions
    assert rows_per_table()["learning_learnerevent_p2033_11"] == 3
    assert LearnerEvent.objects.count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('learning_learnerevent_p2033_09')")
        assert cursor.fetchone()[0] is None


@pytest.mark.django_db
def test_command_dry_run_prints_the_plan(capsys):
    call_command("manage_partitions", "--months-ahead", "1", "--dry-run")

    out = capsys.readouterr().out
    assert "would create learning_learnerevent_p" in out
    assert "Dry run: 2 partition(s) to create, 0 expired." in out


@pytest.mark.django_db
def test_command_creates_and_then_is_a_no_op(capsys):
    call_command("manage_partitions", "--months-ahead", "2")
    first = capsys.readouterr().out
    call_command("manage_partitions", "--months-ahead", "2")
    second = capsys.readouterr().out

    # The test database may already hold this month's partition.
    assert "partition(s) created" in first
    assert second.strip() == "0 partition(s) created (0 rows moved), 0 dropped, 0 expired kept."


@pytest.mark.django_db
def test_command_keeps_expired_partitions_unless_told_to_drop(learner, capsys):
    # The command works from today's date: use a month long gone.
    ensure_month_partition(date(2020, 1, 1))
    events_in(learner, (2020, 1, 15))

    call_command("manage_partitions", "--months-ahead", "0", "--retention-months", "3")
    kept = capsys.readouterr().out
    call_command("manage_partitions", "--months-ahead", "0", "--retention-months", "3", "--drop")
    dropped = capsys.readouterr().out

    assert "expired learning_learnerevent_p2020_01 (1 rows); kept: pass --drop" in kept
    assert "dropped learning_learnerevent_p2020_01 (1 rows)" in dropped
    assert "learning_learnerevent_p2020_01" not in existing_partitions()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--drop"], "Dropping partitions needs a retention period."),
        (["--months-ahead", "-1"], "months_ahead must be between 0 and 24."),
        (["--retention-months", "0"], "retention_months must be at least 1"),
    ],
)
def test_command_rejects_bad_options_with_a_reason(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("manage_partitions", *args)
