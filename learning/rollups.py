"""Activity rollups: each learner's events per quarter hour (LearnerActivityBucket).

Written by database triggers on learning_learnerevent (installed by migration 0004), so
every writer keeps them in the same statement and transaction as its rows: an events batch
(one set-based INSERT … ON CONFLICT DO UPDATE per statement, from the statement's
transition table, which holds only the rows really inserted: a duplicate event that
``ON CONFLICT DO NOTHING`` skipped is never counted), a bulk COPY, a fixture's single
insert, an erasure's DELETE. A late event lands in the bucket of its own ``occurred_at``.
Dropping a partition fires no trigger: ``activity_rollups_rebuild`` (the
``rebuild_rollups`` command) recomputes everything from the raw rows.

Readers (insights.analytics) need figures over windows whose ends fall anywhere: they read
``activity_intervals_sql``, the buckets that lie wholly inside the window and contain no
window end, plus the raw events of the (at most a few) buckets that do. Each row is an
interval (first, last, events) whose events share their local hour and date in every real
time zone (all offsets are whole quarter hours) and whose inner gaps are under 15 minutes,
shorter than the session gap: sessions, histograms, active days and streaks computed from
the intervals equal those computed from the raw events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

BUCKET = timedelta(minutes=15)
TABLE = "learning_learneractivitybucket"
EVENTS = "learning_learnerevent"
_BIN = "date_bin('15 minutes', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"

_ADD = f"""
    INSERT INTO {TABLE} AS b (learner_id, bucket_start, events, first_at, last_at)
    SELECT learner_id, {_BIN.format(column="occurred_at")}, COUNT(*), MIN(occurred_at),
           MAX(occurred_at)
    FROM {{source}} GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (learner_id, bucket_start) DO UPDATE
    SET events = b.events + EXCLUDED.events,
        first_at = LEAST(b.first_at, EXCLUDED.first_at),
        last_at = GREATEST(b.last_at, EXCLUDED.last_at)
"""  # noqa: S608 - table names are constants

# Recompute the touched buckets from the raw rows (deletes and updates are rare: erasure,
# fixtures); empty ones go.
_REFRESH = f"""
    WITH touched AS (
        SELECT DISTINCT learner_id, {_BIN.format(column="occurred_at")} AS bucket_start
        FROM ({{touched}}) AS t
    ), fresh AS (
        SELECT t.learner_id, t.bucket_start, COUNT(e.occurred_at) AS events,
               MIN(e.occurred_at) AS first_at, MAX(e.occurred_at) AS last_at
        FROM touched t LEFT JOIN {EVENTS} e
          ON e.learner_id = t.learner_id AND e.occurred_at >= t.bucket_start
         AND e.occurred_at < t.bucket_start + INTERVAL '15 minutes'
        GROUP BY 1, 2
    ), gone AS (
        DELETE FROM {TABLE} b USING fresh f
        WHERE b.learner_id = f.learner_id AND b.bucket_start = f.bucket_start AND f.events = 0
    )
    INSERT INTO {TABLE} (learner_id, bucket_start, events, first_at, last_at)
    SELECT learner_id, bucket_start, events, first_at, last_at FROM fresh
    WHERE events > 0 ORDER BY 1, 2
    ON CONFLICT (learner_id, bucket_start) DO UPDATE
    SET events = EXCLUDED.events, first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at
"""  # noqa: S608 - table names are constants


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body};\nRETURN NULL;\nEND $$;"
    )


INSTALL_SQL = "\n".join(
    [
        _function("learning_activity_added", _ADD.format(source="added")),
        _function(
            "learning_activity_removed",
            _REFRESH.format(touched="SELECT learner_id, occurred_at FROM removed"),
        ),
        _function(
            "learning_activity_changed",
            _REFRESH.format(
                touched="SELECT learner_id, occurred_at FROM removed "
                "UNION ALL SELECT learner_id, occurred_at FROM added"
            ),
        ),
        f"CREATE TRIGGER learning_activity_added AFTER INSERT ON {EVENTS} "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION learning_activity_added();",
        f"CREATE TRIGGER learning_activity_removed AFTER DELETE ON {EVENTS} "
        "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
        "EXECUTE FUNCTION learning_activity_removed();",
        f"CREATE TRIGGER learning_activity_changed AFTER UPDATE ON {EVENTS} "
        "REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION learning_activity_changed();",
    ]
)

UNINSTALL_SQL = "\n".join(
    [
        f"DROP TRIGGER IF EXISTS learning_activity_{name} ON {EVENTS};"
        f"DROP FUNCTION IF EXISTS learning_activity_{name}();"
        for name in ("added", "removed", "changed")
    ]
)


def activity_rollups_rebuild() -> int:
    """Recompute every bucket from the raw events; returns the number of buckets.

    Writers wait meanwhile (SHARE lock on the events), so no batch is counted twice or lost.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {EVENTS} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constant
        cursor.execute(_ADD.format(source=EVENTS))
        return cursor.rowcount


def bucket_start(at: datetime) -> datetime:
    """The start of the quarter hour (UTC-aligned, as the triggers bin) holding ``at``."""
    at = at.astimezone(UTC)
    return at - timedelta(minutes=at.minute % 15, seconds=at.second, microseconds=at.microsecond)


def activity_intervals_sql(
    *, ids_param: str, since: datetime, until: datetime, cuts: Iterable[datetime]
) -> tuple[str, dict]:
    """SQL for (learner_id, first_at, last_at, events) rows covering exactly the events of
    the learners in ``%(<ids_param>)s`` with ``since <= occurred_at <= until``, no row
    straddling ``since``, ``until`` or any of ``cuts`` (window starts); with its parameters.
    """
    split = sorted({bucket_start(at) for at in (since, until, *cuts)})
    params = {"act_since": since, "act_until": until, "act_split": split}
    sql = f"""
        SELECT learner_id, first_at, last_at, events FROM {TABLE}
        WHERE learner_id = ANY(%({ids_param})s)
          AND bucket_start >= %(act_since)s AND bucket_start <= %(act_until)s
          AND bucket_start <> ALL(%(act_split)s::timestamptz[])
        UNION ALL
        SELECT e.learner_id, e.occurred_at, e.occurred_at, 1
        FROM unnest(%(act_split)s::timestamptz[]) AS split(start)
        JOIN {EVENTS} e ON e.occurred_at >= split.start
         AND e.occurred_at < split.start + INTERVAL '15 minutes'
        WHERE e.learner_id = ANY(%({ids_param})s)
          AND e.occurred_at >= %(act_since)s AND e.occurred_at <= %(act_until)s
    """  # noqa: S608 - table names are constants, the parameter name is the caller's
    return sql, params
