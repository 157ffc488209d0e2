"""Monthly range partitions of the learner event table.

Events whose month has no partition land in the default partition. Creating a
month's partition later moves those rows into it inside one transaction, so no
event is lost or duplicated and ATTACH's validation of the default succeeds.

``maintain_partitions`` is the daily job (task ``learning.maintain_event_partitions``
and ``manage.py manage_partitions``): it creates the current month and the next
few ahead of time, gives every month found in the default partition its own
partition, and, only when asked to drop, detaches and drops partitions that lie
entirely before the retention window.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection, transaction

PARENT = "learning_learnerevent"
DEFAULT = "learning_learnerevent_default"
MONTHLY_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})_(\d{{2}})$")
MAX_MONTHS_AHEAD = 24


@dataclass(frozen=True)
class PartitionResult:
    name: str
    created: bool
    rows_moved: int


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


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


@dataclass(frozen=True)
class MonthlyPartition:
    name: str
    month: date
    rows: int


@dataclass
class MaintenanceReport:
    created: list[PartitionResult] = field(default_factory=list)
    # dry run: (month, rows that would move out of the default partition)
    would_create: list[tuple[date, int]] = field(default_factory=list)
    # partitions entirely older than the retention window
    expired: list[MonthlyPartition] = field(default_factory=list)
    dropped: list[MonthlyPartition] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "created": [(r.name, r.rows_moved) for r in self.created],
            "would_create": [(partition_name(m), rows) for m, rows in self.would_create],
            "expired": [p.name for p in self.expired],
            "dropped": [(p.name, p.rows) for p in self.dropped],
        }


def monthly_partitions() -> list[MonthlyPartition]:
    """Attached monthly partitions (the default partition excluded), oldest first."""
    found = []
    for name in existing_partitions():
        match = MONTHLY_NAME.match(name)
        if match:
            month = date(int(match[1]), int(match[2]), 1)
            found.append(MonthlyPartition(name=name, month=month, rows=_count(name)))
    return sorted(found, key=lambda p: p.month)


def default_partition_months() -> dict[date, int]:
    """Months that have rows in the default partition, with their row counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, count(*)
            FROM {DEFAULT} GROUP BY 1 ORDER BY 1
            """  # noqa: S608 - constant table name
        )
        return dict(cursor.fetchall())


def drop_partition(name: str) -> None:
    """Detach a monthly partition and drop it with its rows."""
    if not MONTHLY_NAME.match(name):
        raise ValueError(f"{name!r} is not a monthly event partition.")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")


def maintain_partitions(
    *,
    now: datetime,
    months_ahead: int = 3,
    retention_months: int | None = None,
    drop: bool = False,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> MaintenanceReport:
    """Create this month's and ``months_ahead`` months' partitions; apply retention.

    Months that have rows in the default partition get their own partition
    too, which moves those rows out of the default. With ``retention_months``
    partitions that end before the first day of the month that many months
    back are reported as expired, and detached and dropped only when ``drop``.
    """
    if not 0 <= months_ahead <= MAX_MONTHS_AHEAD:
        raise ValueError(f"months_ahead must be between 0 and {MAX_MONTHS_AHEAD}.")
    if retention_months is not None and retention_months < 1:
        raise ValueError("retention_months must be at least 1 (the current month is kept).")
    if drop and retention_months is None:
        raise ValueError("Dropping partitions needs a retention period.")
    say = progress or (lambda _line: None)
    report = MaintenanceReport()
    current = month_start(now.astimezone(UTC).date())
    in_default = default_partition_months()
    attached = {p.month for p in monthly_partitions()}
    wanted = {add_months(current, n) for n in range(months_ahead + 1)} | set(in_default)
    for month in sorted(wanted - attached):
        if dry_run:
            report.would_create.append((month, in_default.get(month, 0)))
            say(f"would create {partition_name(month)}, moving {in_default.get(month, 0)} rows")
            continue
        result = ensure_month_partition(month)
        if result.created:
            report.created.append(result)
            say(f"created {result.name}, moved {result.rows_moved} rows from the default")
    if retention_months is not None:
        cutoff = add_months(current, -retention_months)
        report.expired = [p for p in monthly_partitions() if next_month(p.month) <= cutoff]
        for partition in report.expired:
            if drop and not dry_run:
                drop_partition(partition.name)
                report.dropped.append(partition)
                say(f"dropped {partition.name} ({partition.rows} rows)")
            else:
                say(f"expired {partition.name} ({partition.rows} rows); kept: pass --drop")
    return report


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - catalogued name
        return cursor.fetchone()[0]
