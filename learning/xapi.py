"""xAPI 1.0.3 statements: built, validated and sent to a learning record store (LRS).

The mapping (verbs and activity types as Open edX's event-routing-backends uses them) is
``EVENT_VERBS`` plus the attempt and completion statements; the README's xAPI section has
it as a table.

Heartbeats and quiz_submitted events are left out (the attempt statement carries the result).
The actor is an account on ``XAPI_ACTIVITY_BASE`` named by a keyed hash of the learner id:
the LRS never sees an e-mail or a name. Statement ids are UUIDv5 of the record they come
from, so sending a statement again is a no-op at the LRS.

Delivery goes through the outbox, one job per write: the services that create the records
(``ingest_events``, ``lesson_complete``, ``attempt_submit`` / an adaptive attempt's end,
``recommendation_act``) call ``xapi_queue`` inside their transaction, which defers one
``learning.send_xapi_statements`` job carrying the records' keys (only while an LRS is
configured). The task builds the statements from the keys when it runs (``record_statements``):
a record erased in between is simply not sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from assessments.models import AssessmentAttempt
from insights.models import Recommendation
from learning.models import LearnerEvent, LessonProgress
from skillstudio.jobs import defer

SEND_TASK = "learning.send_xapi_statements"

VERSION = "1.0.3"
NAMESPACE = uuid.UUID("6f1c3e1e-5b8a-4d5e-9a51-3c2f0b8d7a10")

VIEWED = ("http://id.tincanapi.com/verb/viewed", "viewed")
INITIALIZED = ("http://adlnet.gov/expapi/verbs/initialized", "initialized")
COMPLETED = ("http://adlnet.gov/expapi/verbs/completed", "completed")
PLAYED = ("https://w3id.org/xapi/video/verbs/played", "played")
PAUSED = ("https://w3id.org/xapi/video/verbs/paused", "paused")
SEEKED = ("https://w3id.org/xapi/video/verbs/seeked", "seeked")
ATTEMPTED = ("http://adlnet.gov/expapi/verbs/attempted", "attempted")
EVALUATED = ("http://adlnet.gov/expapi/verbs/evaluated", "evaluated")
ACCEPTED = ("http://activitystrea.ms/schema/1.0/accept", "accepted")
SKIPPED = ("http://id.tincanapi.com/verb/skipped", "skipped")

LESSON = "http://adlnet.gov/expapi/activities/lesson"
VIDEO = "https://w3id.org/xapi/video/activity-type/video"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
RECOMMENDATION = "http://id.tincanapi.com/activitytype/recommendation"
COURSE = "http://adlnet.gov/expapi/activities/course"

# A recommendation's action (recommendation_act); "ignored" is not a learner's statement.
RECOMMENDATION_VERBS = {
    Recommendation.Status.ACCEPTED: ACCEPTED,
    Recommendation.Status.SKIPPED: SKIPPED,
}

T = LearnerEvent.Type
EVENT_VERBS: dict[str, tuple[tuple[str, str], str]] = {
    T.LESSON_VIEWED: (VIEWED, LESSON),
    T.PAGE_VIEWED: (VIEWED, LESSON),
    T.LESSON_STARTED: (INITIALIZED, LESSON),
    T.LESSON_COMPLETED: (COMPLETED, LESSON),
    T.VIDEO_PLAY: (PLAYED, VIDEO),
    T.VIDEO_PAUSE: (PAUSED, VIDEO),
    T.VIDEO_SEEK: (SEEKED, VIDEO),
    T.QUIZ_STARTED: (ATTEMPTED, ASSESSMENT),
    T.RECOMMENDATION_SHOWN: (VIEWED, RECOMMENDATION),
    T.RECOMMENDATION_ACCEPTED: (ACCEPTED, RECOMMENDATION),
    T.RECOMMENDATION_SKIPPED: (SKIPPED, RECOMMENDATION),
}


def _base() -> str:
    return settings.XAPI_ACTIVITY_BASE.rstrip("/")


def statement_id(kind: str, key: Any) -> str:
    """Stable id of the statement for one record (a re-send is idempotent at the LRS)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def actor(learner_id: int) -> dict:
    """A pseudonymous account: a keyed hash of the id, never the e-mail or the name."""
    key = settings.SECRET_KEY.encode()
    name = hmac.new(key, f"xapi-actor:{learner_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return {"objectType": "Agent", "account": {"homePage": _base(), "name": name}}


def _verb(verb: tuple[str, str]) -> dict:
    return {"id": verb[0], "display": {"en-US": verb[1]}}


def _activity(kind: str, pk: int | None, activity_type: str) -> dict:
    return {
        "objectType": "Activity",
        "id": f"{_base()}/{kind}/{pk}",
        "definition": {"type": activity_type},
    }


def _course_context(course_id: int | None) -> dict:
    if not course_id:
        return {}
    return {
        "context": {
            "contextActivities": {"parent": [_activity("course", course_id, COURSE)]},
        }
    }


def _timestamp(moment: datetime) -> str:
    return moment.isoformat()


def event_statement(event: LearnerEvent) -> dict | None:
    """The statement of one learner event; None for events xAPI does not carry."""
    mapping = EVENT_VERBS.get(event.event_type)
    if mapping is None:
        return None
    verb, activity_type = mapping
    if activity_type == RECOMMENDATION:
        target = _activity("recommendation", event.data.get("recommendation_id"), activity_type)
    elif activity_type == ASSESSMENT:
        target = _activity("assessment", event.assessment_id, activity_type)
    else:
        target = _activity("lesson", event.lesson_id, activity_type)
    return {
        "id": statement_id("event", event.event_id),
        "actor": actor(event.learner_id),
        "verb": _verb(verb),
        "object": target,
        "timestamp": _timestamp(event.occurred_at),
        "version": VERSION,
        **_course_context(event.course_id),
    }


def attempt_statement(attempt: AssessmentAttempt) -> dict | None:
    """A submitted attempt with its result: scaled score and success (passed)."""
    if attempt.submitted_at is None:
        return None
    result: dict[str, Any] = {"completion": True}
    if attempt.score is not None:
        score = Decimal(attempt.score)
        result["score"] = {"scaled": float(score / 100), "raw": float(score), "min": 0, "max": 100}
    # No success for a diagnostic or skill check: they measure, nothing is passed.
    if attempt.pass_result is not None:
        result["success"] = attempt.pass_result
    return {
        "id": statement_id("attempt", attempt.pk),
        "actor": actor(attempt.learner_id),
        "verb": _verb(EVALUATED),
        "object": _activity("assessment", attempt.assessment_id, ASSESSMENT),
        "result": result,
        "timestamp": _timestamp(attempt.submitted_at),
        "version": VERSION,
        **_course_context(attempt.assessment.course_id),
    }


def completion_statement(progress: LessonProgress) -> dict | None:
    if progress.status != LessonProgress.Status.COMPLETED or progress.completed_at is None:
        return None
    return {
        "id": statement_id("completion", progress.pk),
        "actor": actor(progress.learner_id),
        "verb": _verb(COMPLETED),
        "object": _activity("lesson", progress.lesson_id, LESSON),
        "result": {"completion": True},
        "timestamp": _timestamp(progress.completed_at),
        "version": VERSION,
        **_course_context(progress.lesson.module.course_id),
    }


def recommendation_statement(recommendation: Recommendation) -> dict | None:
    """A recommendation the learner accepted or skipped (``recommendation_act``)."""
    verb = RECOMMENDATION_VERBS.get(recommendation.status)
    if verb is None or recommendation.acted_at is None:
        return None
    lesson = recommendation.lesson
    course_id = recommendation.course_id or (lesson.module.course_id if lesson else None)
    return {
        "id": statement_id("recommendation", f"{recommendation.pk}:{recommendation.status}"),
        "actor": actor(recommendation.learner_id),
        "verb": _verb(verb),
        "object": _activity("recommendation", recommendation.pk, RECOMMENDATION),
        "timestamp": _timestamp(recommendation.acted_at),
        "version": VERSION,
        **_course_context(course_id),
    }


def _validated(rows: Iterable, build: Any) -> Iterator[dict]:
    for row in rows:
        statement = build(row)
        if statement is None:
            continue
        problems = validate(statement)
        if problems:
            raise ValueError(f"Invalid statement {statement['id']}: {problems}")
        yield statement


def xapi_enabled() -> bool:
    """Whether statements are sent at all (an LRS is configured)."""
    return bool(settings.XAPI_LRS_ENDPOINT)


def xapi_queue(
    *,
    learner_id: int,
    events: Iterable[Any] = (),
    attempt_ids: Iterable[int] = (),
    progress_ids: Iterable[int] = (),
    recommendation_ids: Iterable[int] = (),
) -> bool:
    """Defer one job sending the statements of these new records; call inside the write's
    transaction. ``events`` are new events (anything with event_id, event_type and
    occurred_at). Nothing is queued without an LRS, or when no record maps to a statement.

    Events are keyed by (event_id, occurred_at span), so the task's lookup touches only the
    partitions the batch fell into.
    """
    if not xapi_enabled():
        return False
    mapped = [event for event in events if event.event_type in EVENT_VERBS]
    keys: dict[str, Any] = {
        "attempt_ids": sorted(set(attempt_ids)),
        "progress_ids": sorted(set(progress_ids)),
        "recommendation_ids": sorted(set(recommendation_ids)),
    }
    if mapped:
        keys["event_ids"] = sorted(str(event.event_id) for event in mapped)
        keys["occurred_from"] = min(event.occurred_at for event in mapped).isoformat()
        keys["occurred_to"] = max(event.occurred_at for event in mapped).isoformat()
    keys = {name: value for name, value in keys.items() if value}
    if not keys:
        return False
    defer(SEND_TASK, learner_id=learner_id, **keys)
    return True


def record_statements(
    *,
    learner_id: int,
    event_ids: Iterable[str] = (),
    occurred_from: str | None = None,
    occurred_to: str | None = None,
    attempt_ids: Iterable[int] = (),
    progress_ids: Iterable[int] = (),
    recommendation_ids: Iterable[int] = (),
) -> Iterator[dict]:
    """The statements of the records a queued job names, read now and validated.

    Only records still the learner's count: an erased learner's events and recommendations
    are gone and their attempts and progress belong to the anonymous placeholder, so a job
    queued before the erasure sends nothing.
    """
    event_ids = list(event_ids)
    if event_ids and occurred_from and occurred_to:
        events = LearnerEvent.objects.filter(
            learner_id=learner_id,
            event_id__in=event_ids,
            occurred_at__gte=datetime.fromisoformat(occurred_from),
            occurred_at__lte=datetime.fromisoformat(occurred_to),
            event_type__in=list(EVENT_VERBS),
        ).order_by("occurred_at", "event_id")
        yield from _validated(events, event_statement)
    attempts = (
        AssessmentAttempt.objects.filter(
            learner_id=learner_id, pk__in=list(attempt_ids), submitted_at__isnull=False
        )
        .select_related("assessment")
        .order_by("submitted_at", "pk")
    )
    yield from _validated(attempts, attempt_statement)
    progress = (
        LessonProgress.objects.filter(learner_id=learner_id, pk__in=list(progress_ids))
        .select_related("lesson__module")
        .order_by("completed_at", "pk")
    )
    yield from _validated(progress, completion_statement)
    recommendations = (
        Recommendation.objects.filter(learner_id=learner_id, pk__in=list(recommendation_ids))
        .select_related("lesson__module")
        .order_by("acted_at", "pk")
    )
    yield from _validated(recommendations, recommendation_statement)


def statements(
    *, since: datetime | None = None, until: datetime | None = None, learner_id: int | None = None
) -> Iterator[dict]:
    """Every statement in the window, oldest records first per kind, each validated."""
    events = LearnerEvent.objects.filter(event_type__in=list(EVENT_VERBS)).order_by("occurred_at")
    attempts = AssessmentAttempt.objects.filter(submitted_at__isnull=False).select_related(
        "assessment"
    )
    progress = LessonProgress.objects.filter(
        status=LessonProgress.Status.COMPLETED, completed_at__isnull=False
    ).select_related("lesson__module")
    recommendations = Recommendation.objects.filter(
        status__in=list(RECOMMENDATION_VERBS), acted_at__isnull=False
    ).select_related("lesson__module")
    if learner_id is not None:
        events = events.filter(learner_id=learner_id)
        attempts = attempts.filter(learner_id=learner_id)
        progress = progress.filter(learner_id=learner_id)
        recommendations = recommendations.filter(learner_id=learner_id)
    # Events by when the server received them: an offline batch arriving late still falls
    # into the window being sent.
    if since is not None:
        events = events.filter(received_at__gte=since)
        attempts = attempts.filter(submitted_at__gte=since)
        progress = progress.filter(completed_at__gte=since)
        recommendations = recommendations.filter(acted_at__gte=since)
    if until is not None:
        events = events.filter(received_at__lt=until)
        attempts = attempts.filter(submitted_at__lt=until)
        progress = progress.filter(completed_at__lt=until)
        recommendations = recommendations.filter(acted_at__lt=until)
    sources: list[tuple[Iterable, Any]] = [
        (events.iterator(chunk_size=2000), event_statement),
        (attempts.order_by("submitted_at", "pk").iterator(chunk_size=2000), attempt_statement),
        (progress.order_by("completed_at", "pk").iterator(chunk_size=2000), completion_statement),
        (
            recommendations.order_by("acted_at", "pk").iterator(chunk_size=2000),
            recommendation_statement,
        ),
    ]
    for rows, build in sources:
        yield from _validated(rows, build)


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and "://" in value and " " not in value


def validate(statement: dict) -> list[str]:
    """What makes the statement invalid under xAPI 1.0.3 (the parts we produce); [] if valid."""
    problems = []
    try:
        uuid.UUID(str(statement.get("id")))
    except ValueError:
        problems.append("id is not a UUID")
    account = (statement.get("actor") or {}).get("account") or {}
    if not (_is_iri(account.get("homePage")) and account.get("name")):
        problems.append("actor needs an account with homePage and name")
    verb = statement.get("verb") or {}
    if not _is_iri(verb.get("id")) or not isinstance(verb.get("display"), dict):
        problems.append("verb needs an IRI id and a display map")
    target = statement.get("object") or {}
    if target.get("objectType") != "Activity" or not _is_iri(target.get("id")):
        problems.append("object must be an Activity with an IRI id")
    elif not _is_iri((target.get("definition") or {}).get("type")):
        problems.append("activity definition needs an IRI type")
    scaled = ((statement.get("result") or {}).get("score") or {}).get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        problems.append("result.score.scaled must be within [-1, 1]")
    try:
        datetime.fromisoformat(statement.get("timestamp", ""))
    except (TypeError, ValueError):
        problems.append("timestamp is not ISO 8601")
    if statement.get("version") != VERSION:
        problems.append(f"version must be {VERSION}")
    return problems


# --- Sending ---------------------------------------------------------------------------------


class LrsUnavailable(Exception):
    """The LRS did not take the batch (5xx, timeout, refused): worth retrying later."""


class LrsRejected(Exception):
    """The LRS refused the batch as invalid (4xx other than a duplicate): not retried."""


@dataclass
class SendReport:
    sent: int = 0
    batches: int = 0


def _post(batch: list[dict]) -> None:
    endpoint = settings.XAPI_LRS_ENDPOINT.rstrip("/") + "/statements"
    request = urllib.request.Request(  # noqa: S310 - the operator configures an http(s) URL
        endpoint,
        data=json.dumps(batch).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Experience-API-Version": VERSION},
    )
    if settings.XAPI_LRS_USERNAME:
        pair = f"{settings.XAPI_LRS_USERNAME}:{settings.XAPI_LRS_PASSWORD}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    try:
        with urllib.request.urlopen(request, timeout=settings.XAPI_LRS_TIMEOUT) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        if error.code == 409:
            return  # the LRS holds these ids already: a re-send after a crash
        if error.code >= 500 or error.code == 429:
            raise LrsUnavailable(f"LRS answered {error.code}") from error
        raise LrsRejected(f"LRS answered {error.code}: {error.read()[:500]!r}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise LrsUnavailable(str(error)) from error


def lrs_send(items: Iterable[dict], *, batch_size: int | None = None) -> SendReport:
    """POST the statements to the configured LRS in batches; raises LrsUnavailable to retry.

    Batches already sent before a failure are not lost work: their ids make the retry's
    re-send a no-op at the LRS.
    """
    if not settings.XAPI_LRS_ENDPOINT:
        return SendReport()
    size = batch_size or settings.XAPI_BATCH_SIZE
    report = SendReport()
    batch: list[dict] = []
    iterator = iter(items)
    try:
        for statement in iterator:
            batch.append(statement)
            if len(batch) >= size:
                _post(batch)
                report.sent += len(batch)
                report.batches += 1
                batch = []
        if batch:
            _post(batch)
            report.sent += len(batch)
            report.batches += 1
    finally:
        # A failed batch leaves the statements generator mid-way: close its server-side
        # cursors now, inside the transaction, not whenever it is garbage-collected.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    return report
