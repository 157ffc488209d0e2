"""Hostile-input fuzz: every API operation and every HTML form, zero 5xx.

schemathesis (test_api_fuzz.py) generates what the schema describes; attackers
send what it does not. These hypothesis strategies generate the classes that
once produced 500s: deep nesting, lone surrogates, NUL, non-ASCII digits,
huge and infinite numbers (as raw JSON tokens: NaN, 1e400), odd time-zone
offsets and oversized strings, in bodies, query strings and form fields.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken

from skillstudio.testing import build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = 12
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Raw(str):
    """A JSON token written as is (NaN, 1e400, 99999…): json.dumps cannot produce it."""


hostile_text = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfff",
            "\u0661\u0662",  # Arabic-Indic digits
            "\u00b2",  # superscript two: isdigit() but not int()
            "9" * 5000,
            "-1",
            "1e400",
            "NaN",
            "2026-01-05T10:00:00+23:59",
            "2026-01-05T10:00:00+14:01",
            "2026-01-05T10:00:00-00:00:01",
            "9999-12-31T23:59:59-14:00",
            "x" * 100_000,
            "",
            " ",
            "../../etc/passwd",
            "<script>alert(1)</script>",
        ]
    ),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Nd", "Lo"]), max_size=30),
)
hostile_number = st.one_of(
    st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-1e400")]),
    st.sampled_from([Raw("9" * 400), Raw("1" + "0" * 4400), Raw("1e-400"), Raw("-0")]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
hostile_leaf = st.one_of(hostile_text, hostile_number, st.booleans(), st.none())
hostile_value = st.recursive(
    hostile_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def deep(depth: int) -> Raw:
    return Raw('{"a":' * depth + "1" + "}" * depth)


def dumps(value) -> str:
    """JSON text with Raw tokens spliced in and surrogates escaped (never encoded)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=True)


def body_for(fields: list[str]):
    """An object with the operation's own field names (so values reach validation),
    some hostile keys, or whole hostile documents."""
    own = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, hostile_value))
    return st.one_of(
        own,
        own.map(lambda d: {**d, "responses": {"\u0661": {"value": Raw("1e400")}}}),
        st.dictionaries(hostile_text, hostile_value, max_size=3),
        st.sampled_from([deep(1000), deep(25), Raw("[" * 2000 + "]" * 2000)]),
        hostile_value,
    )


def _operations(client: Client) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path template, body field names, query names) of every /api/v1/ operation."""
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def fields_of(ref_holder: dict) -> list[str]:
        for media in ref_holder.get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            props = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
            return list(props)
        return []

    found = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            body = fields_of(op.get("requestBody", {}))
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            found.append((method, path, body, query))
    return found


def _fill(path: str, world) -> str:
    """Path parameters -> ids of real rows (hostile strings cannot match \\d+ routes)."""
    ids = {
        "course_id": world.course.pk,
        "module_id": world.module.pk,
        "lesson_id": world.lesson.pk,
        "assessment_id": world.assessment.pk,
        "goal_id": world.goal.pk,
        "enrollment_id": world.enrollment.pk,
    }
    by_collection = {
        "/courses/{id}": world.course.pk,
        "/modules/{id}": world.module.pk,
        "/lessons/{id}": world.lesson.pk,
        "/goals/{id}": world.goal.pk,
        "/enrollments/{id}": world.enrollment.pk,
        "/progress/{id}": world.progress.pk,
        "/assessments/{id}": world.assessment.pk,
        "/questions/{id}": world.question.pk,
        "/attempts/{id}": world.attempt.pk,
        "/recommendations/{id}": world.recommendation.pk,
    }
    for key, value in by_collection.items():
        path = path.replace(key, key.replace("{id}", str(value)))
    for key, value in ids.items():
        path = path.replace("{" + key + "}", str(value))
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def api_world(admin_user):
    world = build_world(learner=admin_user, instructor=admin_user)
    token = str(RefreshToken.for_user(admin_user).access_token)
    return world, Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


def test_every_api_operation_survives_hostile_input(api_world):
    world, client = api_world
    operations = _operations(client)
    assert len(operations) >= 60
    failures: list[str] = []

    for method, template, body_fields, query_names in operations:
        _api_probe(client, method, _fill(template, world), body_fields, query_names, failures)()
    assert failures == []


def _api_probe(client, method, path, body_fields, query_names, failures):
    queries = st.dictionaries(st.sampled_from(query_names or ["page"]), hostile_text, max_size=3)

    @FUZZ_SETTINGS
    @given(body=body_for(body_fields), query=queries)
    def probe(body, query):
        if method in {"get", "delete"}:
            response = client.generic(method.upper(), path, QUERY_STRING=_query(query))
        else:
            response = client.generic(
                method.upper(),
                path,
                dumps(body).encode("utf-8", "surrogatepass"),
                content_type="application/json",
            )
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path} -> {response.status_code}: {body!r:.200}")
        assert response.status_code < 500, failures[-1]
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}

    return probe


def _query(query: dict) -> str:
    from urllib.parse import quote

    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in query.items()
    )


class _Forms(HTMLParser):
    """Every <form method=post> on a page: its action and field names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = dict(attrs)
        if tag == "form" and (attr.get("method") or "").lower() == "post":
            self.forms.append((attr.get("action") or "", []))
        elif (
            tag in {"input", "select", "textarea"}
            and self.forms
            and attr.get("name") not in {None, "csrfmiddlewaretoken"}
        ):
            self.forms[-1][1].append(attr["name"])


def _forms_on(client: Client, pages: list[str]) -> list[tuple[str, list[str]]]:
    found = {}
    for page in pages:
        response = client.get(page, follow=True)
        parser = _Forms()
        parser.feed(response.content.decode())
        for action, names in parser.forms:
            found[action or response.request["PATH_INFO"]] = names
    return list(found.items())


def test_every_html_form_survives_hostile_input(learner, instructor):
    from skillstudio.testing import build_world

    world = build_world(learner=learner, instructor=instructor)
    anonymous = Client(raise_request_exception=False)
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(learner)
    pages = [
        "/learn/",
        "/learn/onboarding/",
        f"/learn/lessons/{world.lesson.pk}/",
        f"/catalog/{world.course.slug}/",
        f"/assessments/{world.assessment.pk}/",
        f"/assessments/attempts/{world.attempt.pk}/",
        f"/insights/paths/{world.goal.pk}/",
        "/accounts/password/",
    ]
    # Logging out would turn the rest of the run anonymous.
    forms = [
        (signed_in, action, names)
        for action, names in _forms_on(signed_in, pages)
        if action != "/accounts/logout/"
    ]
    forms += [
        (anonymous, action, names)
        for action, names in _forms_on(anonymous, ["/accounts/signup/", "/accounts/login/"])
    ]
    forms.append((anonymous, "/admin/login/", ["username", "password"]))
    assert len(forms) >= 8
    failures: list[str] = []

    for client, action, names in forms:
        _form_probe(client, action, names, failures)()
    assert failures == []


def _form_probe(client, action, names, failures):
    @FUZZ_SETTINGS
    @given(data=st.fixed_dictionaries({}, optional=dict.fromkeys(names, hostile_text)))
    def probe(data):
        # A form cannot carry a lone surrogate: its bytes arrive as U+FFFD.
        safe = {
            key: value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            for key, value in data.items()
        }
        response = client.post(action, safe)
        if response.status_code >= 500:
            failures.append(f"POST {action} -> {response.status_code}: {safe!r:.200}")
        assert response.status_code < 500, failures[-1]

    return probe
