from __future__ import annotations

import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle" in a for a in assets)
    # Every script, stylesheet and icon comes from this site's static files.
    assert [a for a in assets if not a.startswith("/static/")] == []


@pytest.mark.django_db
def test_schema_lists_every_v1_operation_with_the_error_shape(client):
    schema = client.get("/api/schema/?format=json").json()

    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    ]
    assert len(operations) >= 60
    assert all(path.startswith("/api/v1/") for path, _, _ in operations)
    for _, _, op in operations:
        assert op["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_schema_generation_is_clean(tmp_path):
    # Fails on any drf-spectacular warning (untyped field, unresolvable path parameter…).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["no/such/thing", "courses/%0A/modules/", "courses/x/"])
def test_unknown_api_paths_answer_in_the_error_shape(client, path):
    # Found by fuzzing: a newline in a path segment once fell through to the HTML 404 page.
    response = client.get(f"/api/v1/{path}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
