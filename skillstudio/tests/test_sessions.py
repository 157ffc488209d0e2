"""Sessions read from Redis, ended for good (skillstudio.sessions)."""

from __future__ import annotations

from datetime import datetime

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import privacy
from skillstudio import sessions
from skillstudio.sessions import CACHED_SECONDS

pytestmark = pytest.mark.django_db

PAGE = "/accounts/password/"  # a signed-in page that reads nothing but the user


def _session_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def _copy_ttl(session_key: str) -> int:
    client = cache._cache.get_client(write=True)
    return client.ttl(cache.make_key(KEY_PREFIX + session_key))


def _unreachable(*args, **kwargs):
    raise redis.exceptions.ConnectionError("Connection refused")


def _redis_unreachable(monkeypatch) -> None:
    for method in ("get", "set", "delete", "delete_many"):
        monkeypatch.setattr(cache, method, _unreachable)


def _password_login(client, learner) -> str:
    learner.set_password("correct-horse-battery")
    learner.save()
    response = client.post(
        reverse("accounts:login"), {"username": learner.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_signed_in_page_reads_its_session_from_redis_not_postgresql(client, learner):
    key = _password_login(client, learner)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(PAGE)

    assert response.status_code == 200
    assert response.context["user"] == learner
    assert _session_queries(captured) == []
    # The user is still read on every request (deactivation, password change, erasure).
    assert len(captured) == 1
    assert 0 < _copy_ttl(key) <= CACHED_SECONDS


def test_an_expired_copy_is_read_again_from_postgresql_and_copied(client, learner):
    key = _password_login(client, learner)
    cache.delete(KEY_PREFIX + key)

    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE).status_code == 200
    assert len(_session_queries(captured)) == 1

    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE).status_code == 200
    assert _session_queries(captured) == []


def test_logging_out_ends_the_session_for_a_copied_cookie(client, learner):
    key = _password_login(client, learner)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(reverse("accounts:logout"))

    assert cache.get(KEY_PREFIX + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    client.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_new_login_drops_the_copy_of_the_session_it_replaces(client, learner):
    before = _password_login(client, learner)
    after = _password_login(client, learner)

    assert after != before
    assert cache.get(KEY_PREFIX + before) is None
    assert client.get(PAGE).status_code == 200


def test_a_password_changed_elsewhere_ends_a_cached_session(client, learner):
    _password_login(client, learner)
    assert client.get(PAGE).status_code == 200

    learner.set_password("another-horse-battery")
    learner.save()

    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_deactivated_learner_is_signed_out_despite_the_copy(client, learner):
    _password_login(client, learner)
    assert client.get(PAGE).status_code == 200

    learner.is_active = False
    learner.save()

    assert client.get(PAGE).status_code == 302


def test_erasure_drops_the_cached_sessions_once_it_commits(
    client, learner, other_learner, django_capture_on_commit_callbacks
):
    key = _password_login(client, learner)
    others = _password_login(type(client)(), other_learner)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        privacy.user_erase(user=learner, now=datetime.fromisoformat("2026-11-20T12:00:00+00:00"))
    # Until the deletion commits the copy stays (a concurrent reader would copy it back).
    assert cache.get(KEY_PREFIX + key) is not None
    for callback in callbacks:
        callback()

    assert cache.get(KEY_PREFIX + key) is None
    assert cache.get(KEY_PREFIX + others) is not None
    assert client.get(PAGE).status_code == 302


def test_with_redis_unreachable_sessions_work_from_postgresql(client, learner, monkeypatch):
    _password_login(client, learner)
    _redis_unreachable(monkeypatch)

    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE).status_code == 200
    assert len(_session_queries(captured)) == 1

    client.post(reverse("accounts:logout"))
    assert not Session.objects.exists()
    assert client.get(PAGE).status_code == 302
    _password_login(client, learner)
    assert Session.objects.count() == 1
    assert client.get(PAGE).status_code == 200


def test_an_ended_session_whose_copy_could_not_be_dropped_lasts_minutes(
    client, learner, monkeypatch, caplog
):
    key = _password_login(client, learner)
    monkeypatch.setattr(cache, "delete_many", _unreachable)

    client.post(reverse("accounts:logout"))

    assert "stay cached until they expire" in caplog.text
    assert 0 < _copy_ttl(key) <= CACHED_SECONDS


def test_the_copy_never_outlives_the_session(learner):
    store = sessions.SessionStore()
    store["_auth_user_id"] = str(learner.pk)
    store.set_expiry(30)
    store.save()

    assert 0 < _copy_ttl(store.session_key) <= 30
