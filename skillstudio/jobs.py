"""Background jobs: a transactional outbox in front of Celery, and the task base class.

Why an outbox
    A learner's write (lesson progress, quiz answers, events) often needs
    follow-up work in a worker: struggle detection, fresh recommendations.
    Sending that task straight to Redis would make the write depend on Redis:
    inside the transaction a dead broker fails the request, after it the task
    is silently lost. Instead ``defer()`` inserts an ``insights.PendingJob``
    row *in the caller's transaction*, so the job exists exactly when the
    write does, and only after commit tries to hand it to Celery.

Life of a job
    ``pending``  recorded; not yet accepted by the broker.
    ``sent``     the broker accepted it (``sent_at``).
    ``done``     a worker finished it (``finished_at``).
    ``failed``   a worker gave up after its retries, or it was sent
                 ``MAX_SENDS`` times without ever finishing; ``last_error`` says
                 why. ``manage.py relay_jobs --retry-failed`` re-queues them.

    The on-commit send uses its own short broker timeouts, so with Redis down
    the request only pays a failed connect and the row stays ``pending``. The
    relay (``relay_pending_jobs``: a beat task every minute and ``manage.py
    relay_jobs``) sends ``pending`` rows and re-sends ``sent`` rows that never
    finished: at once when they were sent before the broker last started
    without an append-only file (a Redis restart lost them), otherwise after
    twice the broker's visibility timeout (lost some other way). ``/healthz``
    counts jobs sent but unfinished for longer than ``STUCK_AFTER``.

At most once, effectively
    Delivery is at least once: a message can be re-sent by the relay, or
    redelivered because tasks acknowledge late (``acks_late``) and a worker
    died mid-task. Every task is therefore idempotent (unique constraints,
    per-week or per-attempt markers in the functions they call), and a job
    already marked ``done`` is skipped before its function runs. Sender and
    relay lock the row (``SELECT … FOR UPDATE SKIP LOCKED``) so they never
    publish the same row at the same moment.

Tasks subclass ``JobTask``: late acknowledgement, automatic retry with
exponential backoff on transient errors (database and broker connectivity),
and the row bookkeeping above. Tasks take ids and plain values, never model
instances, and call one function.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import kombu.connection
import kombu.exceptions
import redis.exceptions
from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from insights.models import PendingJob
from skillstudio.celery import app as celery_app

logger = logging.getLogger(__name__)

# The follow-up after a learner's write (progress, quiz, goal, enrollment, path, sign-up):
# struggle check and fresh recommendations. Services defer it inside their transaction,
# so every door (page, API, command) gets the same follow-up from the same outbox row.
LEARNER_FOLLOW_UP = "insights.refresh_recommendations"

# Worth retrying: the database or the broker was briefly unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
# What publishing raises when the broker is down or unreachable.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.RedisError,
    OSError,
)
# A web request waits at most this long for a dead broker.
SEND_TIMEOUT_SECONDS = 1.0
# A job sent this many times without finishing is given up (status failed).
MAX_SENDS = 5
RELAY_BATCH = 500
KEEP_DONE_FOR = timedelta(days=7)
# Broker uptime is reported in whole seconds: a job sent this close to a
# restart is left to the slow rule rather than risk re-sending a kept one.
RESTART_MARGIN = timedelta(seconds=2)
# /healthz flags jobs sent but not finished for this long.
STUCK_AFTER = timedelta(minutes=15)


def defer(task_name: str, **kwargs: Any) -> None:
    """Record the task in the caller's transaction and send it to Celery on commit.

    ``kwargs`` must be JSON values (ids, strings, numbers). If the broker is
    down the job stays pending and the relay sends it later; the caller's
    write never fails because of Redis.
    """
    if task_name not in registered_task_names():
        raise ValueError(f"Unknown task {task_name!r}: not registered with the Celery app.")
    job = PendingJob.objects.create(task_name=task_name, kwargs=kwargs)
    # robust: an error while sending is logged; the committed write stands.
    transaction.on_commit(partial(send_job, job_id=job.pk, job=job), robust=True)


def registered_task_names() -> set[str]:
    """Every task the Celery app knows, so a typo in defer() fails at the call site."""
    _import_task_modules()
    return set(celery_app.tasks.keys())


_IMPORTED = threading.Event()
_IMPORT_LOCK = threading.Lock()


def _import_task_modules() -> None:
    # Web processes never import the tasks modules otherwise; import them once, not per call.
    # Under a lock: in a threaded web worker (gunicorn gthread), a second request arriving
    # while the first is still importing saw a half-filled registry and refused a known task.
    if _IMPORTED.is_set():
        return
    with _IMPORT_LOCK:
        if not _IMPORTED.is_set():
            celery_app.loader.import_default_modules()
            _IMPORTED.set()


def send_job(*, job_id: int, job: PendingJob | None = None) -> bool:
    """Send one pending job now; False if the broker refused or it was already taken.

    One statement claims the job and marks it sent (no transaction of its own: one round
    trip after the caller's commit instead of four), then it is published; if the broker
    refuses, it goes back to pending with the error, for the relay. A process that dies in
    between leaves it sent and never delivered: the relay sends it again after
    ``resend_after()``, as it does a job the broker lost. ``job``: the row as ``defer``
    created it (its task, arguments and id never change), so it is not read again.
    """
    now = timezone.now()
    claimed = PendingJob.objects.filter(pk=job_id, status=PendingJob.Status.PENDING).update(
        status=PendingJob.Status.SENT,
        sent_at=now,
        send_attempts=F("send_attempts") + 1,
        last_error="",
    )
    if not claimed:
        return False
    if job is None:
        job = PendingJob.objects.get(pk=job_id)
    sent, error = _broadcast([job])
    if not sent:
        PendingJob.objects.filter(pk=job_id, status=PendingJob.Status.SENT, sent_at=now).update(
            status=PendingJob.Status.PENDING, sent_at=None, last_error=error
        )
    return bool(sent)


@dataclass
class RelayReport:
    sent: int = 0
    unsent: int = 0
    given_up: int = 0
    purged: int = 0
    error: str = ""

    def __str__(self) -> str:
        text = (
            f"{self.sent} sent, {self.unsent} still pending, {self.given_up} given up, "
            f"{self.purged} old done jobs purged"
        )
        return f"{text} (broker: {self.error})" if self.error else text


def resend_after() -> timedelta:
    # Redis redelivers an unacknowledged message itself after the visibility
    # timeout; only a job still unfinished well after that was lost.
    return timedelta(seconds=2 * settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])


def broker_lost_messages_before() -> datetime | None:
    """When the broker last started with an empty memory, or None if unknown.

    Redis without an append-only file forgets every queued and unacknowledged
    message when it restarts; a job sent before that moment and not finished
    will never be delivered. (With AOF on, or the broker unreachable: None.)
    """
    try:
        with broker_connection() as connection:
            info = connection.default_channel.client.info()
    except BROKER_ERRORS:
        return None
    if info.get("aof_enabled"):
        return None
    uptime = timedelta(seconds=int(info.get("uptime_in_seconds", 0)))
    return timezone.now() - uptime - RESTART_MARGIN


def relay_pending_jobs(
    *, now: datetime, limit: int = RELAY_BATCH, dry_run: bool = False
) -> RelayReport:
    """Send pending jobs and re-send lost ones; give up on jobs sent MAX_SENDS times."""
    report = RelayReport()
    stale = Q(status=PendingJob.Status.SENT, sent_at__lt=now - resend_after())
    if (restarted := broker_lost_messages_before()) is not None:
        stale |= Q(status=PendingJob.Status.SENT, sent_at__lt=restarted)
    with transaction.atomic():
        jobs = list(
            PendingJob.objects.select_for_update(skip_locked=True)
            .filter(Q(status=PendingJob.Status.PENDING) | stale)
            .order_by("created_at", "pk")[:limit]
        )
        exhausted = [
            j for j in jobs if j.status == PendingJob.Status.SENT and j.send_attempts >= MAX_SENDS
        ]
        to_send = [j for j in jobs if j not in exhausted]
        report.given_up = len(exhausted)
        if dry_run:
            report.sent = len(to_send)
            return report
        PendingJob.objects.filter(pk__in=[j.pk for j in exhausted]).update(
            status=PendingJob.Status.FAILED,
            finished_at=now,
            last_error=f"Sent {MAX_SENDS} times without a worker finishing it.",
        )
        if to_send:
            report.sent, report.error = _publish(to_send, now=now)
            report.unsent = len(to_send) - report.sent
        report.purged, _ = PendingJob.objects.filter(
            status=PendingJob.Status.DONE, finished_at__lt=now - KEEP_DONE_FOR
        ).delete()
    return report


def requeue_failed_jobs() -> int:
    """Put failed jobs back to pending (after a fix) so the relay sends them again."""
    return PendingJob.objects.filter(status=PendingJob.Status.FAILED).update(
        status=PendingJob.Status.PENDING, send_attempts=0, sent_at=None, finished_at=None
    )


def _publish(jobs: list[PendingJob], *, now: datetime) -> tuple[int, str]:
    """Publish locked jobs over one connection (``_broadcast``); mark what the broker
    accepted."""
    sent, error = _broadcast(jobs)
    PendingJob.objects.filter(pk__in=sent).update(
        status=PendingJob.Status.SENT,
        sent_at=now,
        send_attempts=F("send_attempts") + 1,
        last_error="",
    )
    PendingJob.objects.filter(pk__in=[j.pk for j in jobs if j.pk not in sent]).update(
        send_attempts=F("send_attempts") + 1, last_error=error
    )
    return len(sent), error


@dataclass(frozen=True)
class _Message:
    """A message with no outbox row (``send_untracked``), shaped like a PendingJob for
    ``_broadcast``: ``pk`` is its position in the batch."""

    pk: int
    task_name: str
    kwargs: dict[str, Any]
    task_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _broadcast(jobs: Sequence[PendingJob | _Message]) -> tuple[list[int], str]:
    """Publish the jobs over one connection: the ids the broker accepted, and the error
    that stopped the rest ("" when none did).

    The connection comes from this process's pool (``_pooled_connection``): a web request
    that commits a job pays a publish, not a new broker connection. A pooled connection
    used before that fails may only have gone stale (the broker restarted since), so what
    it did not send is tried once more over a new connection before the jobs are left
    pending; one that has just connected is not retried, so a dead broker still costs a
    request one short timeout.
    """
    sent: list[int] = []
    error = ""
    try:
        try:
            connection = _pooled_connection()
        except kombu.exceptions.LimitExceeded:  # every pooled connection busy
            connection = broker_connection()
        reused = connection.connected  # no I/O: connected before, and not closed since
        try:
            _send(jobs, sent, connection)
        except BROKER_ERRORS:
            if not reused:
                raise
            _send([job for job in jobs if job.pk not in sent], sent, broker_connection())
    except BROKER_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "Broker unavailable, %d of %d message(s) not sent: %s",
            len(jobs) - len(sent), len(jobs), error,
        )  # fmt: skip
    return sent, error


def send_untracked(task_name: str, kwargs_list: list[dict[str, Any]]) -> tuple[int, str]:
    """Publish one message per ``kwargs`` with no outbox row, as ``_broadcast`` publishes
    jobs: how many the broker accepted, and the error that stopped the rest ("" when none
    did).

    Only for refresh-ahead work that the next scheduled run redoes anyway (the dashboard
    warm-up's chunks, a few hundred every five minutes at scale): losing a message costs
    time, never data, and an outbox row for each would be kept a week for nothing.
    """
    messages = [_Message(index, task_name, kwargs) for index, kwargs in enumerate(kwargs_list)]
    sent, error = _broadcast(messages)
    return len(sent), error


def _send(
    jobs: Sequence[PendingJob | _Message], sent: list[int], connection: kombu.Connection
) -> None:
    """Publish ``jobs`` over ``connection`` (released afterwards), appending to ``sent``
    the id of each job the broker accepted."""
    with connection:
        for job in jobs:
            celery_app.send_task(
                job.task_name,
                kwargs=job.kwargs,
                task_id=str(job.task_id),
                connection=connection,
                retry=False,
                ignore_result=True,
            )
            sent.append(job.pk)


# Broker connections kept open per process (and per broker URL, read at call time as in
# ``broker_connection``), so sending a job after a commit costs no connect. At most this
# many per process: a gthread worker's threads each hold one while publishing.
POOL_LIMIT = 8
_pools: dict[str, kombu.connection.ConnectionPool] = {}
_pools_lock = threading.Lock()


def _pooled_connection() -> kombu.Connection:
    """A connection from this process's pool (``broker_connection``'s options); leaving its
    ``with`` block returns it, or replaces it when the block raised."""
    url = settings.CELERY_BROKER_URL
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            pool = _pools[url] = broker_connection().Pool(limit=POOL_LIMIT)
    return pool.acquire(block=True, timeout=SEND_TIMEOUT_SECONDS)


def broker_connection() -> kombu.Connection:
    # Read at call time so tests (and a changed broker) take effect; the short
    # timeouts bound what a dead broker costs the request that commits a job.
    return celery_app.connection_for_write(
        url=settings.CELERY_BROKER_URL,
        connect_timeout=SEND_TIMEOUT_SECONDS,
        transport_options={
            "socket_connect_timeout": SEND_TIMEOUT_SECONDS,
            "socket_timeout": SEND_TIMEOUT_SECONDS,
            "max_retries": 0,
        },
    )


def job_finished(*, task_id: str, error: str = "") -> None:
    """Mark the outbox row of a Celery task done (or failed); other tasks have none."""
    status = PendingJob.Status.FAILED if error else PendingJob.Status.DONE
    PendingJob.objects.filter(task_id=task_id).exclude(status=PendingJob.Status.DONE).update(
        status=status, finished_at=timezone.now(), last_error=error[:2000]
    )


def job_already_done(*, task_id: str) -> bool:
    return PendingJob.objects.filter(task_id=task_id, status=PendingJob.Status.DONE).exists()


class JobTask(Task):
    """Base class of every SkillStudio task (see the module docstring)."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 8
    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        try:
            done = bool(task_id) and job_already_done(task_id=task_id)
        except TRANSIENT_ERRORS:
            # Only a shortcut: the idempotent body runs, and retries if the
            # database really is down (autoretry covers the body, not this).
            done = False
        if done:
            logger.info("Skipping %s[%s]: already done", self.name, task_id)
            return None
        return super().__call__(*args, **kwargs)

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        job_finished(task_id=task_id)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        job_finished(task_id=task_id, error=f"{type(exc).__name__}: {exc}")


@dataclass
class BatchReport:
    """Outcome of running one function per learner with failures isolated."""

    succeeded: list[int] = field(default_factory=list)
    # learner id -> error text; a bug or bad data for that learner
    failed: dict[int, str] = field(default_factory=dict)
    # learner ids that hit a transient error and are worth retrying
    transient: list[int] = field(default_factory=list)


def for_each_learner(
    learner_ids: Iterable[int],
    action: Callable[[int], Any],
    *,
    on_result: Callable[[int, Any, BaseException | None], None] | None = None,
) -> BatchReport:
    """Call ``action(learner_id)`` per learner, each in its own transaction.

    One learner's failure is logged and recorded, never stops the others, and
    leaves nothing half-written for that learner.
    """
    report = BatchReport()
    for learner_id in learner_ids:
        result: Any = None
        error: BaseException | None = None
        try:
            with transaction.atomic():
                result = action(learner_id)
        except TRANSIENT_ERRORS as exc:
            error = exc
            report.transient.append(learner_id)
            logger.warning("Learner %s: transient error %s", learner_id, exc)
        except Exception as exc:
            error = exc
            report.failed[learner_id] = f"{type(exc).__name__}: {exc}"
            logger.exception("Learner %s failed", learner_id)
        else:
            report.succeeded.append(learner_id)
        if on_result is not None:
            on_result(learner_id, result, error)
    return report
