"""Batch ingestion of learner events (SPEC R-EVENTS).

A batch is a list of up to 500 event objects. A malformed batch (not a list,
too many events) raises ValidationError and stores nothing. Inside a well-formed
batch each event is checked on its own: valid ones are stored, an event whose
``event_id`` this learner already sent is acknowledged as a duplicate and not
stored again, and invalid ones are reported by index with the reason.

Event shape::

    {"event_id": "<uuid>", "type": "video_play", "occurred_at": "2026-11-24T20:15:00Z",
     "course_id": 1, "lesson_id": 2, "assessment_id": null, "data": {"position": 42}}
"""

from __future__ import annotations

import json
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from assessments.selectors import assessments_visible_to
from catalog.selectors import courses_visible_to, lessons_visible_to
from learning import xapi
from learning.models import LearnerEvent
from skillstudio.data_versions import ACTIVITY, learners_changed

MAX_EVENTS = 500
MAX_DATA_BYTES = 4096
# Client clocks drift; an event a few minutes "ahead" of the server is still plausible.
FUTURE_SKEW = timedelta(minutes=5)
# Real UTC offsets run from -12:00 to +14:00; PostgreSQL refuses some larger ones.
MAX_UTC_OFFSET = timedelta(hours=14)
ALLOWED_KEYS = {
    "event_id",
    "type",
    "occurred_at",
    "course_id",
    "lesson_id",
    "assessment_id",
    "data",
}
# What the learner may see, per kind of target: a hidden (draft) id is reported
# exactly like one that does not exist.
TARGETS = (
    ("course_id", courses_visible_to),
    ("lesson_id", lessons_visible_to),
    ("assessment_id", assessments_visible_to),
)
# Type.values builds a new list on every access; validation checks each of 500 events.
EVENT_TYPES = frozenset(LearnerEvent.Type.values)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def received(self) -> int:
        return self.stored + self.duplicates + len(self.errors)


@dataclass(frozen=True)
class _Clean:
    index: int
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    course_id: int | None
    lesson_id: int | None
    assessment_id: int | None
    data: str  # JSON text, already size-checked


class _Invalid(Exception):
    pass


def _parse_uuid(value) -> uuid.UUID:
    if not isinstance(value, str):
        raise _Invalid("event_id must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Invalid(f"event_id {value[:40]!r} is not a valid UUID.") from None


def _parse_time(value, *, now: datetime) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise _Invalid("occurred_at must be an ISO 8601 date-time.")
    else:
        raise _Invalid("occurred_at must be an ISO 8601 date-time.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Invalid("occurred_at must include a time zone (e.g. a trailing Z).")
    if abs(moment.utcoffset()) > MAX_UTC_OFFSET:
        raise _Invalid("occurred_at has a time-zone offset beyond ±14:00.")
    if moment > now + FUTURE_SKEW:
        raise _Invalid("occurred_at is in the future (more than 5 minutes ahead of the server).")
    if moment.year < 2000:
        raise _Invalid("occurred_at is before the year 2000.")
    # Stored as UTC: the database never sees an offset with seconds or odd digits.
    return moment.astimezone(UTC)


def _parse_id(event: dict, key: str) -> int | None:
    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise _Invalid(f"{key} must be a positive integer or null.")
    return value


def _clean(index: int, event, *, now: datetime) -> _Clean:
    if not isinstance(event, dict):
        raise _Invalid("Each event must be a JSON object.")
    extra = sorted(set(event) - ALLOWED_KEYS)
    if extra:
        raise _Invalid(f"Unknown field(s): {', '.join(str(k)[:40] for k in extra)}.")
    event_type = event.get("type")
    # A frozenset lookup needs a hashable value: anything but a string is unknown anyway.
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise _Invalid(f"Unknown event type {str(event_type)[:40]!r}.")
    data = event.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Invalid("data must be a JSON object.")
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise _Invalid("data must not contain NaN or infinite numbers.") from None
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise _Invalid("data must be valid Unicode text (no lone surrogates).") from None
    if size > MAX_DATA_BYTES:
        raise _Invalid(f"data is larger than {MAX_DATA_BYTES} bytes.")
    if "\\u0000" in text:
        # PostgreSQL's jsonb cannot hold NUL characters.
        raise _Invalid("data must not contain NUL characters.")
    return _Clean(
        index=index,
        event_id=_parse_uuid(event.get("event_id")),
        event_type=event_type,
        occurred_at=_parse_time(event.get("occurred_at"), now=now),
        course_id=_parse_id(event, "course_id"),
        lesson_id=_parse_id(event, "lesson_id"),
        assessment_id=_parse_id(event, "assessment_id"),
        data=text,
    )


def validate_batch(events) -> None:
    """Reject a batch that is not a list of at most MAX_EVENTS items (nothing is stored)."""
    if not isinstance(events, list):
        raise ValidationError({"events": "Send a JSON list of events."})
    if not events:
        raise ValidationError({"events": "Send at least one event."})
    if len(events) > MAX_EVENTS:
        raise ValidationError(
            {"events": f"At most {MAX_EVENTS} events per batch ({len(events)} sent)."}
        )


def _json_id(value: int | None) -> str:
    return "null" if value is None else str(value)


def _json_row(row: _Clean) -> str:
    """One event as a JSON object for jsonb_to_recordset.

    Written out directly: every value is already validated (a UUID, an ISO date-time, a
    known event type, integers) and row.data is JSON text, so json.dumps would only
    re-encode what is known to be safe.
    """
    return (
        f'{{"event_id":"{row.event_id}","occurred_at":"{row.occurred_at.isoformat()}",'
        f'"event_type":"{row.event_type}","course_id":{_json_id(row.course_id)},'
        f'"lesson_id":{_json_id(row.lesson_id)},'
        f'"assessment_id":{_json_id(row.assessment_id)},"data":{row.data}}}'
    )


def _insert(learner, rows: list[_Clean], *, now: datetime) -> int:
    """INSERT … ON CONFLICT DO NOTHING: the row count is exactly how many rows were new.

    (bulk_create(ignore_conflicts=True) cannot tell stored rows from conflicts,
    and a before/after count is wrong when two requests race on one batch.)
    The batch travels as one JSON document expanded by jsonb_to_recordset(): four
    parameters whatever the batch size. Nine placeholders per event made psycopg
    splice a 4,500-placeholder statement on every request, and per-column arrays
    made it quote every element; both dominated the request's CPU time.
    """
    if not rows:
        return 0
    sql = f"""
        INSERT INTO {LearnerEvent._meta.db_table}
            (event_id, occurred_at, learner_id, event_type, course_id, lesson_id,
             assessment_id, received_at, data)
        SELECT e.event_id, e.occurred_at, %(learner)s, e.event_type, e.course_id, e.lesson_id,
               e.assessment_id, %(now)s, e.data
        FROM jsonb_to_recordset(%(rows)s::jsonb)
             AS e(event_id uuid, occurred_at timestamptz, event_type text, course_id bigint,
                  lesson_id bigint, assessment_id bigint, data jsonb)
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - only the table name (from model metadata) is interpolated
    params = {
        "learner": learner.pk,
        "now": now,
        "rows": "[" + ",".join(_json_row(row) for row in rows) + "]",
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _existing_ids(visible, ids: set[int], *, learner) -> set[int]:
    """Which of `ids` the learner can see, passed as one text parameter (see _already_stored).

    order_by() drops the default ordering, which would join and sort for nothing.
    """
    listed = RawSQL("SELECT unnest(string_to_array(%s, ',')::bigint[])", [",".join(map(str, ids))])
    queryset = visible(user=learner).filter(pk__in=listed).order_by()
    return set(queryset.values_list("pk", flat=True))


def _already_stored(learner, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `event_ids` this learner has stored before, whatever their occurred_at.

    One text parameter rather than an IN list of up to 500 placeholders (see _insert).
    """
    if not event_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT event_id FROM {LearnerEvent._meta.db_table} "  # noqa: S608 - table name from metadata
            "WHERE learner_id = %s AND event_id = ANY(string_to_array(%s, ',')::uuid[])",
            [learner.pk, ",".join(str(event_id) for event_id in event_ids)],
        )
        return {event_id for (event_id,) in cursor.fetchall()}


def ingest_events(*, learner, events: list[dict], now: datetime) -> IngestResult:
    """Validate and store a batch of events for ``learner``; see the module docstring."""
    validate_batch(events)
    result = IngestResult()
    cleaned: list[_Clean] = []
    for index, event in enumerate(events):
        try:
            cleaned.append(_clean(index, event, now=now))
        except _Invalid as exc:
            result.errors.append({"index": index, "reason": str(exc)})

    # Referenced catalog ids must exist: one query per kind of target.
    for key, visible in TARGETS:
        wanted = {getattr(row, key) for row in cleaned} - {None}
        if not wanted:
            continue
        allowed = _existing_ids(visible, wanted, learner=learner) | {None}
        for row in [r for r in cleaned if getattr(r, key) not in allowed]:
            result.errors.append(
                {"index": row.index, "reason": f"{key} {getattr(row, key)} does not exist."}
            )
            cleaned.remove(row)

    # Duplicates: the same event_id already stored for this learner (whatever its
    # occurred_at), or repeated inside this batch.
    already = _already_stored(learner, [row.event_id for row in cleaned])
    fresh: list[_Clean] = []
    seen: set[uuid.UUID] = set()
    for row in cleaned:
        if row.event_id in already or row.event_id in seen:
            result.duplicates += 1
        else:
            seen.add(row.event_id)
            fresh.append(row)

    # The insert is one statement; a transaction of its own is needed only when the xAPI
    # job's outbox row must commit with the events (two round trips saved per batch).
    with transaction.atomic() if xapi.xapi_enabled() else nullcontext():
        result.stored = _insert(learner, fresh, now=now)
        if result.stored:
            learners_changed([learner.pk], kinds=[ACTIVITY])  # events only
            xapi.xapi_queue(learner_id=learner.pk, events=fresh)
    # Rows that lost a race with a concurrent request carrying the same events.
    result.duplicates += len(fresh) - result.stored
    result.errors.sort(key=lambda error: error["index"])
    return result
