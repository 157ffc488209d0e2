"""A database outage answers 503 with a retry hint; the HTTPS claim needs configuration."""

from __future__ import annotations

import importlib
import os

import pytest
from django.db import connections
from django.test import Client


@pytest.fixture
def database_down(transactional_db, tmp_path):
    """Point the default connection at a socket directory nobody serves."""
    connection = connections["default"]
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict["HOST"] = str(tmp_path)
    connection.settings_dict["PORT"] = "1"
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.usefixtures("database_down")
def test_api_answers_503_in_the_error_shape_when_the_database_is_down():
    response = Client(raise_request_exception=False).get("/api/v1/courses/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "unavailable"


@pytest.mark.usefixtures("database_down")
def test_pages_answer_503_html_when_the_database_is_down():
    response = Client(raise_request_exception=False).get("/catalog/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()


def test_an_unrelated_500_stays_a_500_in_the_error_shape(rf):
    from skillstudio.errors import server_error

    try:
        raise RuntimeError("bug")
    except RuntimeError:
        response = server_error(rf.get("/api/v1/courses/"))

    assert response.status_code == 500
    assert b'"server_error"' in response.content


def test_the_https_claim_header_is_only_trusted_when_configured(monkeypatch):
    import skillstudio.settings as settings_module

    monkeypatch.delenv("SECURE_PROXY_SSL_HEADER", raising=False)
    plain = importlib.reload(settings_module)
    assert not hasattr(plain, "SECURE_PROXY_SSL_HEADER")

    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO=https")
    configured = importlib.reload(settings_module)
    assert configured.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")

    monkeypatch.delenv("SECURE_PROXY_SSL_HEADER")
    importlib.reload(settings_module)
    assert os.environ.get("SECURE_PROXY_SSL_HEADER") is None
