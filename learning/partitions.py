"""Monthly range partitions of the learner event table.

Events whose month has no partition land in the default partition. Creating a
month's partition later moves those rows into it inside one transaction, so no
event is lost or duplicated and ATTACH's validation of the default succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

PARENT = "learning_learnerevent"
DEFAULT = "learning_learnerevent_default"


@dataclass(frozen=True)
class PartitionResult:
    name: str
    created: bool
    rows_moved: int


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month.year:04d}_{month.month:02d}"


def existing_partitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s ORDER BY child.relname
            """,
            [PARENT],
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_month_partition(month: date) -> PartitionResult:
    """Create the partition for ``month`` (idempotent), moving rows out of the default."""
    month = month_start(month)
    name = partition_name(month)
    lower = datetime(month.year, month.month, 1, tzinfo=UTC)
    upper_day = next_month(month)
    upper = datetime(upper_day.year, upper_day.month, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        # Serialises concurrent maintenance runs and blocks inserts into the
        # default partition while its rows for this month are moved.
        cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return PartitionResult(name=name, created=False, rows_moved=0)
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"""
            WITH moved AS (
                DELETE FROM {DEFAULT} WHERE occurred_at >= %s AND occurred_at < %s RETURNING *
            )
            INSERT INTO {name} SELECT * FROM moved
            """,  # noqa: S608 - table names come from partition_name(), not input
            [lower, upper],
        )
        moved = cursor.rowcount
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [lower, upper],
        )
    return PartitionResult(name=name, created=True, rows_moved=max(moved, 0))
