"""/healthz: database, Redis and Celery broker status for load balancers and operators.

The broker is the Celery transport at CELERY_BROKER_URL (the same Redis as
REDIS_URL in the default setup, but it may be a separate server). A broker
outage degrades the site without losing work: deferred jobs wait in
PostgreSQL, and ``pending_jobs`` shows how many. ``stuck_jobs`` counts jobs
the broker accepted but no worker finished within jobs.STUCK_AFTER (status
"warning", still a 200).
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from insights.models import PendingJob
from skillstudio.jobs import BROKER_ERRORS, STUCK_AFTER, broker_connection


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "unavailable"


def redis_status() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        return "ok"
    except (redis.RedisError, OSError):
        return "unavailable"


def broker_status() -> str:
    try:
        with broker_connection() as broker:
            broker.default_channel.client.ping()
        return "ok"
    except BROKER_ERRORS:
        return "unavailable"


def pending_jobs() -> int | None:
    try:
        return PendingJob.objects.filter(status=PendingJob.Status.PENDING).count()
    except DatabaseError:
        return None


def stuck_jobs() -> int | None:
    """Jobs the broker accepted that no worker has finished for STUCK_AFTER: lost, or
    no worker running."""
    try:
        return PendingJob.objects.filter(
            status=PendingJob.Status.SENT, sent_at__lt=timezone.now() - STUCK_AFTER
        ).count()
    except DatabaseError:
        return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_status(), "redis": redis_status(), "broker": broker_status()}
    failing = [name for name, state in checks.items() if state != "ok"]
    body = {
        "status": "ok" if not failing else "degraded",
        "checks": checks,
        "failing": failing,
        "pending_jobs": pending_jobs() if checks["database"] == "ok" else None,
        "stuck_jobs": stuck_jobs() if checks["database"] == "ok" else None,
    }
    # Stuck jobs do not take this node out of a load balancer (200), but say so.
    if not failing and body["stuck_jobs"]:
        body["status"] = "warning"
    return JsonResponse(body, status=503 if failing else 200)
