from __future__ import annotations

import pytest
from django.test import override_settings

from insights.models import PendingJob


@pytest.mark.django_db
def test_healthz_reports_database_redis_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
        "failing": [],
        "pending_jobs": 0,
        "stuck_jobs": 0,
    }


@pytest.mark.django_db
def test_healthz_names_redis_and_broker_when_unreachable(client, tmp_path):
    nowhere = f"{tmp_path}/nothing-listens-here.sock"
    PendingJob.objects.create(task_name="skillstudio.relay_pending_jobs")

    with override_settings(
        REDIS_URL=f"unix://{nowhere}", CELERY_BROKER_URL=f"redis+socket://{nowhere}"
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "redis": "unavailable", "broker": "unavailable"}
    assert body["failing"] == ["redis", "broker"]
    # The work waiting for the broker is visible to operators.
    assert body["pending_jobs"] == 1


@pytest.mark.django_db
def test_healthz_names_only_the_broker_when_it_is_a_separate_server(client, tmp_path):
    with override_settings(CELERY_BROKER_URL=f"redis+socket://{tmp_path}/broker.sock"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


@pytest.mark.django_db
def test_healthz_warns_about_jobs_sent_but_not_finished_for_long(client):
    from datetime import timedelta

    from django.utils import timezone

    from skillstudio.jobs import STUCK_AFTER

    PendingJob.objects.create(
        task_name="skillstudio.relay_pending_jobs",
        status="sent",
        sent_at=timezone.now() - STUCK_AFTER - timedelta(minutes=1),
    )
    PendingJob.objects.create(
        task_name="skillstudio.relay_pending_jobs", status="sent", sent_at=timezone.now()
    )

    body = client.get("/healthz").json()

    assert body["stuck_jobs"] == 1
    assert body["status"] == "warning"
