"""The LLM tutor on a lesson page and in the API, against a fake provider (local HTTP server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from catalog.tutor import TutorRateLimited, tutor_rate_take

pytestmark = pytest.mark.django_db

TIMEOUTS = """\
## Bound every wait

`async with asyncio.timeout(2):` gives up on a slow server after two seconds
instead of waiting forever.
"""
COROUTINES = """\
## Waiting without blocking

`await asyncio.sleep(0.2)` stands in for a network call while other coroutines run.
"""
SECRET = """\
## Retries

Retry a slow server with exponential backoff: wait 1, 2, 4 seconds between tries.
"""
QUESTION = "how do I stop waiting on a slow server"


@pytest.fixture
def course(instructor):
    course = CourseFactory(title="Async", slug="async", owner=instructor)
    module = ModuleFactory(course=course, order=1)
    coroutines = LessonFactory(module=module, order=1, title="Coroutines", body=COROUTINES)
    timeouts = LessonFactory(module=module, order=2, title="Timeouts", body=TIMEOUTS)
    retries = LessonFactory(module=module, order=3, title="Retries", body=SECRET)
    return {"coroutines": coroutines, "timeouts": timeouts, "retries": retries, "course": course}


def _tutor_url(lesson) -> str:
    return reverse("catalog:lesson_tutor", args=[lesson.pk])


def _api_url(lesson) -> str:
    return f"/api/v1/lessons/{lesson.pk}/tutor"


def test_a_grounded_answer_links_the_passages_it_cites(client, course, learner, provider):
    provider.reply("Wrap the call in asyncio.timeout [1]; see also [9].")
    client.force_login(learner)

    response = client.post(
        _tutor_url(course["coroutines"]), {"question": QUESTION}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Wrap the call in asyncio.timeout [1]; see also." in html  # [9] was never given
    first = provider.prompt().split("\n\n[2]")[0]
    cited_title = first.split("“")[1].split("”")[0]
    cited = next(course[k] for k in course if k != "course" and course[k].title == cited_title)
    assert f'<li value="1"><a href="{cited.get_absolute_url()}">{cited_title}</a></li>' in html

    # What was sent: the instruction, the numbered passages and the question; nothing else.
    sent = provider.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-test"
    assert sent["body"]["model"] == "fake-model"
    assert [m["role"] for m in sent["body"]["messages"]] == ["system", "user"]
    prompt = provider.prompt()
    assert prompt.startswith("Passages:\n\n[1] From the lesson")
    assert prompt.endswith(f"Question: {QUESTION}")
    assert "asyncio.timeout(2)" in prompt
    body = json.dumps(sent["body"])
    for private in ("alice", "Alice", "example.com"):
        assert private not in body


def test_api_answer_with_citations(course, learner, provider):
    provider.reply("Use a timeout [1] [1].")
    api = APIClient()
    api.force_authenticate(learner)

    response = api.post(_api_url(course["coroutines"]), {"question": QUESTION}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "generated"
    assert body["answer"] == "Use a timeout [1] [1]."
    assert [c["number"] for c in body["citations"]] == [1]
    assert body["citations"][0]["lesson_title"] == body["passages"][0]["lesson_title"]
    assert body["problem"] == ""
    assert api.post(_api_url(course["coroutines"]), {}, format="json").status_code == 400


def test_locked_lessons_never_reach_the_prompt(client, course, learner, provider):
    # Timeouts needs Retries first: locked for Alice, so its text must not be sent.
    course["timeouts"].prerequisites.set([course["retries"]])
    provider.reply("Back off between tries [1].")
    client.force_login(learner)

    client.post(_tutor_url(course["coroutines"]), {"question": QUESTION})

    assert len(provider.requests) == 1
    body = json.dumps(provider.requests[0]["body"])
    assert "asyncio.timeout" not in body
    assert "exponential backoff" in body


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"delay": 1.5}, "did not answer within 0.5 seconds"),
        ({"raw": b"<html>gateway</html>"}, "sent a reply we could not read"),
        ({"raw": b'{"choices": []}'}, "sent a reply we could not read"),
        ({"status": 500, "raw": b"{}"}, "answered with an error (HTTP 500)"),
        ({"content": "Use a timeout."}, "did not point to your course"),
    ],
    ids=["timeout", "not-json", "no-choices", "http-500", "no-citation"],
)
def test_provider_failures_fall_back_to_the_passages(
    client, course, learner, provider, settings, reply, message
):
    settings.TUTOR_TIMEOUT_SECONDS = 0.5
    provider.reply(**reply)
    client.force_login(learner)

    response = client.post(
        _tutor_url(course["coroutines"]), {"question": QUESTION}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "asyncio.timeout(2)" in html  # the passages, as without a provider

    api = APIClient()
    api.force_authenticate(learner)
    provider.reply(**reply)
    body = api.post(_api_url(course["coroutines"]), {"question": QUESTION}, format="json").json()
    assert body["mode"] == "retrieval" and message in body["problem"] and body["passages"]


def test_generated_answers_are_rate_limited_per_learner(
    client, course, learner, other_learner, provider, settings
):
    settings.TUTOR_RATE_LIMIT = "2/hour"
    for _ in range(4):
        provider.reply("Use a timeout [1].")
    api = APIClient()
    api.force_authenticate(learner)
    url = _api_url(course["coroutines"])

    statuses = [api.post(url, {"question": QUESTION}, format="json").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    limited = api.post(url, {"question": QUESTION}, format="json")
    assert "limit of 2 questions per hour" in limited.json()["error"]["message"]
    assert int(limited["Retry-After"]) > 0
    assert len(provider.requests) == 2  # refused questions cost nothing
    # The page shares the learner's count and says so in place.
    client.force_login(learner)
    page = client.post(
        _tutor_url(course["coroutines"]), {"question": QUESTION}, headers={"HX-Request": "true"}
    )
    assert page.status_code == 429 and "try again in about" in page.content.decode()
    # Per learner, not for everyone.
    api.force_authenticate(other_learner)
    assert api.post(url, {"question": QUESTION}, format="json").status_code == 200


def test_rate_window_moves_with_the_injected_clock(learner, settings):
    settings.TUTOR_RATE_LIMIT = "1/hour"
    start = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    tutor_rate_take(learner_id=learner.pk, now=start)
    with pytest.raises(TutorRateLimited) as limited:
        tutor_rate_take(learner_id=learner.pk, now=start + timedelta(minutes=50))
    assert limited.value.retry_after == 600
    tutor_rate_take(learner_id=learner.pk, now=start + timedelta(hours=1))


def test_tutor_needs_sign_in_and_a_visible_published_lesson(
    client, course, learner, instructor, provider
):
    url = _tutor_url(course["coroutines"])
    assert client.post(url, {"question": QUESTION}).status_code == 302
    assert APIClient().post(_api_url(course["coroutines"]), {"question": "x"}).status_code == 401

    Course.objects.filter(pk=course["course"].pk).update(status=Course.Status.DRAFT)
    client.force_login(learner)
    assert client.post(url, {"question": QUESTION}).status_code == 404
    client.force_login(instructor)  # the owner sees the draft, but it is not sent anywhere
    response = client.post(url, {"question": QUESTION})
    assert response.status_code == 200
    assert "published courses only" in response.content.decode()
    assert provider.requests == []


def test_without_a_provider_there_is_no_tutor(client, course, learner, settings):
    settings.TUTOR_PROVIDER = ""
    client.force_login(learner)
    page = client.get(course["coroutines"].get_absolute_url()).content.decode()
    assert "Find it in the lessons" in page
    assert "Ask the tutor" not in page and "/tutor/" not in page

    assert client.post(_tutor_url(course["coroutines"]), {"question": QUESTION}).status_code == 404
    api = APIClient()
    api.force_authenticate(learner)
    assert api.post(_api_url(course["coroutines"]), {"question": QUESTION}).status_code == 404
    # Retrieval-only answers keep working.
    ask_url = reverse("catalog:lesson_ask", args=[course["coroutines"].pk])
    ask = client.get(ask_url, {"question": QUESTION})
    assert "asyncio.timeout(2)" in ask.content.decode()
    assert "Ask the tutor" not in ask.content.decode()


def test_with_a_provider_the_page_offers_the_tutor(client, course, learner, provider):
    client.force_login(learner)
    page = client.get(course["coroutines"].get_absolute_url()).content.decode()
    assert "Ask the tutor" in page and _tutor_url(course["coroutines"]) in page
    # Without JavaScript the search page carries a real POST form for the same question.
    ask = client.get(
        reverse("catalog:lesson_ask", args=[course["coroutines"].pk]),
        {"question": QUESTION, "tutor": "1"},
    ).content.decode()
    assert f'action="{_tutor_url(course["coroutines"])}"' in ask
    assert "csrfmiddlewaretoken" in ask


def test_a_generated_answer_costs_a_fixed_number_of_queries(
    course, learner, provider, django_assert_max_num_queries
):
    api = APIClient()
    api.force_authenticate(learner)
    url = _api_url(course["coroutines"])
    provider.reply("Use a timeout [1].")
    # The lesson (1) with the selector's prefetches (skills, prerequisites: 2), and the
    # course outline with its lock facts (modules, lessons, prerequisites, progress,
    # enrollments, skill states: 9). Nothing per lesson or per passage.
    with django_assert_max_num_queries(12):
        assert api.post(url, {"question": QUESTION}, format="json").status_code == 200

    module = course["coroutines"].module
    for order in range(4, 24):
        LessonFactory(module=module, order=order, title=f"Extra {order}", body=TIMEOUTS)
    provider.reply("Use a timeout [1].")
    with django_assert_max_num_queries(12):
        assert api.post(url, {"question": QUESTION}, format="json").status_code == 200


@pytest.mark.parametrize("base_url", ["closed", "not a url"])
def test_an_unreachable_provider_falls_back_to_the_passages(
    course, learner, provider, settings, base_url
):
    provider.close()  # nothing listens on its port any more
    settings.TUTOR_BASE_URL = provider.url if base_url == "closed" else base_url
    api = APIClient()
    api.force_authenticate(learner)

    body = api.post(_api_url(course["coroutines"]), {"question": QUESTION}, format="json").json()

    assert body["mode"] == "retrieval" and body["passages"]
    assert "cannot be reached right now" in body["problem"]
