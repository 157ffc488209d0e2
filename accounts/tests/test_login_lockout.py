"""Login throttles and lockout key on the real client address, on every login door."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

from skillstudio.client_ip import client_ip

pytestmark = pytest.mark.django_db

_addresses = (f"203.0.113.{n}" for n in itertools.count(1))


def rotating() -> dict:
    """A fresh, attacker-chosen X-Forwarded-For on every request."""
    return {"HTTP_X_FORWARDED_FOR": next(_addresses)}


def test_client_ip_ignores_forwarded_for_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_ip(request) == "10.0.0.9"


def test_client_ip_takes_the_address_our_outermost_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    spoofed = "1.1.1.1, 198.51.100.7, 10.0.0.2"  # client wrote the first entry
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR=spoofed)

    assert client_ip(request) == "198.51.100.7"


def test_client_ip_falls_back_to_the_peer_on_garbage_from_a_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="not-an-ip")

    assert client_ip(request) == "10.0.0.3"


def test_html_login_throttle_is_not_reset_by_a_rotating_forwarded_for(client, learner):
    for _ in range(10):
        client.post(
            "/accounts/login/", {"username": "someone@example.com", "password": "x"}, **rotating()
        )

    response = client.post(
        "/accounts/login/",
        {"username": learner.email, "password": "correct-horse-battery"},
        **rotating(),
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_login_throttle_is_not_reset_by_a_rotating_forwarded_for(learner):
    api = APIClient()
    body = {"email": "nobody@example.com", "password": "wrong"}
    statuses = [
        api.post("/api/v1/auth/login", body, format="json", **rotating()).status_code
        for _ in range(11)
    ]

    assert statuses[-1] == 429
    assert api.post("/api/v1/auth/login", body, format="json", **rotating()).json()["error"]


def test_behind_one_trusted_proxy_two_real_clients_are_counted_apart(settings, client, learner):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(10):
        client.post(
            "/accounts/login/",
            {"username": "a@example.com", "password": "x"},
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )

    blocked = client.post(
        "/accounts/login/",
        {"username": "a@example.com", "password": "x"},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    other = client.post(
        "/accounts/login/",
        {"username": learner.email, "password": "correct-horse-battery"},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )

    assert blocked.status_code == 429
    assert other.status_code == 302


def test_account_lockout_survives_the_rate_window_and_a_correct_password(client, learner):
    for _ in range(10):
        client.post("/accounts/login/", {"username": learner.email, "password": "x"}, **rotating())
    cache.clear()  # the per-minute rate window has passed

    response = client.post(
        "/accounts/login/",
        {"username": learner.email.upper(), "password": "correct-horse-battery"},
        REMOTE_ADDR="192.0.2.50",
    )

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_locks_out_across_rotating_addresses(client, admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1  # even a header we trust cannot spread the guesses
    for _ in range(10):
        client.post("/admin/login/", {"username": admin_user.email, "password": "x"}, **rotating())
    cache.clear()

    response = client.post(
        "/admin/login/",
        {"username": admin_user.email, "password": "correct-horse-battery"},
        **rotating(),
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_is_rate_limited_per_address(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 100  # the per-minute rate, not the lockout, is under test
    statuses = [
        client.post("/admin/login/", {"username": f"u{n}@example.com", "password": "x"}).status_code
        for n in range(11)
    ]

    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_api_and_html_failures_count_against_one_account(client, learner):
    api = APIClient()
    for n in range(5):
        api.post(
            "/api/v1/auth/login",
            {"email": learner.email, "password": "x"},
            format="json",
            REMOTE_ADDR=f"192.0.2.{n}",
        )
        client.post(
            "/accounts/login/",
            {"username": learner.email, "password": "x"},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    cache.clear()

    response = api.post(
        "/api/v1/auth/login",
        {"email": learner.email, "password": "correct-horse-battery"},
        format="json",
        REMOTE_ADDR="192.0.2.200",
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_a_correct_password_below_the_limit_logs_in(client, learner):
    for _ in range(9):
        client.post("/accounts/login/", {"username": learner.email, "password": "x"})
    cache.clear()  # past the per-minute rate window
    ok = client.post(
        "/accounts/login/", {"username": learner.email, "password": "correct-horse-battery"}
    )

    assert ok.status_code == 302
