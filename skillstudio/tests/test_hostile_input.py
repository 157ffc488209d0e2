"""Hostile input gets a clear 4xx in the API's error shape, never a 500."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings

from assessments.tests.factories import (
    AssessmentAttemptFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
    ShortTextQuestionFactory,
)
from catalog.tests.factories import CourseFactory, LessonFactory
from learning.models import LearnerEvent

pytestmark = pytest.mark.django_db


def post_raw(api, url: str, body: str | bytes, **extra):
    return api.generic(
        "POST",
        url,
        body.encode() if isinstance(body, str) else body,
        content_type="application/json",
        **extra,
    )


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


@pytest.mark.parametrize("url", ["/api/v1/auth/login", "/api/v1/auth/register"])
def test_deep_nesting_on_an_anonymous_endpoint_is_a_400(api, url):
    response = post_raw(api, url, "[" * 1000 + "]" * 1000)

    assert response.status_code == 400
    assert "nested deeper" in error(response)["message"]


def test_very_deep_nesting_is_a_400_not_a_recursion_error(api):
    response = post_raw(api, "/api/v1/auth/login", '{"a":' * 100_000 + "1" + "}" * 100_000)

    assert response.status_code in (400, 413)
    assert error(response)["code"] in ("parse_error", "too_large")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(as_user, learner, number):
    response = post_raw(as_user(learner), "/api/v1/attempts/", f'{{"assessment": {number}}}')

    assert response.status_code == 400
    assert error(response)["code"] == "parse_error"


def test_nul_in_a_string_is_a_400_naming_the_field(api):
    response = post_raw(api, "/api/v1/auth/login", '{"email": "a\\u0000@x.io", "password": "p"}')

    assert response.status_code == 400
    assert error(response)["fields"] == {"email": ["Text must not contain NUL characters."]}


def test_lone_surrogate_is_a_400_naming_the_nested_field(as_user, learner):
    body = '{"preferences": {"study_days": ["\\ud800"]}}'
    response = as_user(learner).generic(
        "PATCH", "/api/v1/profile", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "preferences.study_days.0" in error(response)["fields"]


def test_a_400_that_echoes_a_surrogate_still_renders(as_user, learner):
    # The events endpoint parses leniently and echoes unknown field names back.
    body = json.dumps({"events": [{"\ud800": 1}]})
    response = post_raw(as_user(learner), "/api/v1/learning/events", body)

    assert response.status_code == 200
    assert response.json()["errors"][0]["index"] == 0


def test_nul_in_a_query_parameter_is_a_400(as_user, learner):
    response = as_user(learner).get("/api/v1/courses/?search=a%00b")

    assert response.status_code == 400
    assert error(response)["fields"] == {"search": ["Text must not contain NUL characters."]}


def test_nul_in_a_page_form_is_a_400_not_a_500(client):
    response = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})

    assert response.status_code == 400


def test_bad_refresh_token_message_is_a_sentence(api):
    response = api.post("/api/v1/auth/refresh", {"refresh": "nonsense"}, format="json")

    message = error(response)["message"]
    assert response.status_code == 401
    assert "ErrorDetail" not in message and "{" not in message


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(api):
    response = post_raw(api, "/api/v1/auth/login", json.dumps({"email": "x" * 2000}))

    assert response.status_code == 413
    assert error(response)["code"] == "too_large"


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=5)
def test_too_many_form_fields_is_a_413_in_the_error_shape(api):
    response = api.post("/api/v1/auth/login", {f"f{n}": "x" for n in range(10)})

    assert response.status_code == 413
    assert error(response)["code"] == "too_large"


# Quiz responses, per question kind.


@pytest.fixture
def quiz(learner):
    single = QuestionFactory()
    right = ChoiceFactory(question=single, is_correct=True)
    ChoiceFactory(question=single)
    numeric = NumericQuestionFactory(assessment=single.assessment)
    text = ShortTextQuestionFactory(assessment=single.assessment)
    attempt = AssessmentAttemptFactory(learner=learner, assessment=single.assessment)
    return attempt, single, right, numeric, text


def submit(api, attempt, responses):
    body = json.dumps({"responses": responses}, ensure_ascii=True)
    return post_raw(api, f"/api/v1/attempts/{attempt.pk}/submit/", body)


@pytest.mark.parametrize("key", ["\u0661", "\u00b2", "1" * 5000, "-1", " 1"])
def test_odd_question_keys_are_a_400(as_user, learner, quiz, key):
    attempt, *_ = quiz
    response = submit(as_user(learner), attempt, {key: {"text": "x"}})

    assert response.status_code == 400
    assert "responses" in error(response)["fields"]


def test_a_key_meant_for_another_kind_is_refused_not_stored(as_user, learner, quiz):
    attempt, _single, _right, numeric, _text = quiz
    response = submit(
        as_user(learner),
        attempt,
        {str(numeric.pk): {"value": 3.14, "text": "x" * 1_000_000}},
    )

    assert response.status_code == 400
    assert "unexpected key(s) text" in error(response)["fields"]["responses"][0]
    assert not attempt.answers.exists()


@pytest.mark.parametrize("value", ["1e400", "9" * 30, 10**20, "1" * 41, "\u0663"])
def test_numbers_beyond_the_answer_type_are_refused(as_user, learner, quiz, value):
    attempt, _single, _right, numeric, _text = quiz
    response = submit(as_user(learner), attempt, {str(numeric.pk): {"value": value}})

    assert response.status_code == 400
    assert error(response)["fields"]["responses"][0].startswith(f"{numeric.pk}:")


def test_well_formed_answers_still_grade(as_user, learner, quiz):
    attempt, single, right, numeric, text = quiz
    response = submit(
        as_user(learner),
        attempt,
        {
            str(single.pk): {"choices": [right.pk], "seconds_spent": 3},
            str(numeric.pk): {"value": "3.145"},
            str(text.pk): {"text": " Django "},
        },
    )

    assert response.status_code == 200
    assert response.json()["score"] == "100.00"


# Events: one bad item is reported by index, the rest are stored.


def _event(**overrides) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "heartbeat",
        "occurred_at": "2026-01-05T10:00:00Z",
        "data": {},
    } | overrides


@pytest.mark.parametrize(
    "bad",
    [
        '{"event_id": "%s", "type": "heartbeat", "occurred_at": "2026-01-05T10:00:00Z",'
        ' "data": {"x": "\\udc80"}}',
        '{"event_id": "%s", "type": "heartbeat", "occurred_at": "2026-01-05T10:00:00Z",'
        ' "data": {"x": 1e400}}',
        '{"event_id": "%s", "type": "heartbeat", "occurred_at": "2026-01-05T10:00:00Z",'
        ' "data": {"x": NaN}}',
        '{"event_id": "%s", "type": "heartbeat", "occurred_at": "2026-01-05T10:00:00+23:59",'
        ' "data": {}}',
        '{"event_id": "%s", "type": "heartbeat", "occurred_at": "2026-01-05T10:00:00Z",'
        ' "data": {"x": "a\\u0000"}}',
    ],
)
def test_one_bad_event_does_not_sink_the_batch(as_user, learner, bad):
    good = [_event(), _event()]
    body = (
        '{"events": ['
        + json.dumps(good[0])
        + ","
        + bad % uuid.uuid4()
        + ","
        + json.dumps(good[1])
        + "]}"
    )
    response = post_raw(as_user(learner), "/api/v1/learning/events", body)

    assert response.status_code == 200
    result = response.json()
    assert result["stored"] == 2
    assert [e["index"] for e in result["errors"]] == [1]
    assert LearnerEvent.objects.filter(learner=learner).count() == 2


def test_an_odd_but_real_offset_is_stored_in_utc(as_user, learner):
    response = as_user(learner).post(
        "/api/v1/learning/events",
        {"events": [_event(occurred_at="2026-01-05T10:00:00+05:45")]},
        format="json",
    )

    assert response.json()["stored"] == 1
    stored = LearnerEvent.objects.get(learner=learner)
    assert stored.occurred_at.isoformat() == "2026-01-05T04:15:00+00:00"


def test_hidden_course_and_lesson_ids_read_like_missing_ones(as_user, learner, instructor):
    draft = CourseFactory(status="draft", owner=instructor)
    hidden_lesson = LessonFactory(module__course=draft)
    response = as_user(learner).post(
        "/api/v1/learning/events",
        {
            "events": [
                _event(course_id=draft.pk),
                _event(course_id=10**12),
                _event(lesson_id=hidden_lesson.pk),
                _event(lesson_id=10**12),
            ]
        },
        format="json",
    )

    reasons = [e["reason"] for e in response.json()["errors"]]
    assert reasons == [
        f"course_id {draft.pk} does not exist.",
        f"course_id {10**12} does not exist.",
        f"lesson_id {hidden_lesson.pk} does not exist.",
        f"lesson_id {10**12} does not exist.",
    ]
