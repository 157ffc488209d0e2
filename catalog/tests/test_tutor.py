"""Retrieval-only answers: a question on a lesson page gets its course's covering passages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.api import TutorRateThrottle
from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from catalog.tutor import course_passages, lesson_sections

pytestmark = pytest.mark.django_db

COROUTINES = """\
## Waiting without blocking

`await asyncio.sleep(0.2)` stands in for a network call: while one coroutine
waits, the event loop runs the others.

## Many at once

`asyncio.gather` runs many coroutines concurrently and collects their results.
"""
TIMEOUTS = """\
## Bound every wait

`async with asyncio.timeout(2):` gives up on a slow server after two seconds
instead of waiting forever.
"""
DOCKER = """\
## Layers

A Dockerfile builds an image layer by layer; `docker build -t app .` builds it.
"""


@pytest.fixture
def course(instructor):
    course = CourseFactory(title="Async and Docker", slug="async-docker", owner=instructor)
    module = ModuleFactory(course=course, order=1)
    coroutines = LessonFactory(module=module, order=1, title="Coroutines", body=COROUTINES)
    timeouts = LessonFactory(module=module, order=2, title="Timeouts", body=TIMEOUTS)
    docker = LessonFactory(module=module, order=3, title="Images", body=DOCKER)
    elsewhere = CourseFactory(title="Other", slug="other", owner=instructor)
    LessonFactory(
        module=ModuleFactory(course=elsewhere, order=1),
        order=1,
        title="Other timeouts",
        body="## Timeouts\n\nA timeout stops waiting for a slow server.",
    )
    return {"coroutines": coroutines, "timeouts": timeouts, "docker": docker}


def test_sections_are_cut_at_headings():
    assert lesson_sections(COROUTINES) == [
        COROUTINES.split("\n\n## ")[0].strip(),
        "## " + COROUTINES.split("\n\n## ")[1].strip(),
    ]


def test_the_covering_passage_of_the_same_course_comes_first(course, learner):
    passages = course_passages(
        lesson=course["coroutines"], learner=learner, question="stop waiting on a slow server"
    )

    assert passages[0].lesson == course["timeouts"]
    assert "asyncio.timeout" in passages[0].text
    assert all(p.lesson.module.course.slug == "async-docker" for p in passages)


def test_a_locked_lesson_is_not_quoted(course, learner):
    course["timeouts"].prerequisites.set([course["docker"]])

    passages = course_passages(
        lesson=course["coroutines"], learner=learner, question="stop waiting on a slow server"
    )
    assert course["timeouts"] not in {p.lesson for p in passages}


def test_a_question_without_words_gets_nothing(course, learner):
    assert course_passages(lesson=course["coroutines"], learner=learner, question="how do I?") == []


def test_lesson_page_offers_the_question_box_and_the_answer_fragment(client, course, learner):
    lesson = course["coroutines"]
    client.force_login(learner)
    page = client.get(lesson.get_absolute_url())
    assert "Ask about this course" in page.content.decode()

    url = reverse("catalog:lesson_ask", args=[lesson.pk])
    answer = client.get(url, {"question": "build an image"}, headers={"HX-Request": "true"})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "<html" not in html
    assert "docker build -t app ." in html
    assert f'href="{course["docker"].get_absolute_url()}"' in html

    # Without JavaScript the same URL is a whole page; a blank question is a form error.
    full = client.get(url, {"question": ""})
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert "This field is required." in full.content.decode()


def test_asking_needs_sign_in_and_a_visible_lesson(client, course, learner, instructor):
    url = reverse("catalog:lesson_ask", args=[course["coroutines"].pk])
    assert client.get(url, {"question": "await"}).status_code == 302

    Course.objects.filter(slug="async-docker").update(status=Course.Status.DRAFT)
    client.force_login(learner)
    assert client.get(url, {"question": "await"}).status_code == 404
    client.force_login(instructor)  # the owner previews the draft
    assert client.get(url, {"question": "await"}).status_code == 200


def test_api_ask(course, learner):
    api = APIClient()
    url = f"/api/v1/lessons/{course['coroutines'].pk}/ask"
    assert api.get(url, {"question": "await"}).status_code == 401

    api.force_authenticate(learner)
    response = api.get(url, {"question": "stop waiting on a slow server"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "retrieval"
    assert body["passages"][0]["lesson_title"] == "Timeouts"
    assert body["passages"][0]["url"] == course["timeouts"].get_absolute_url()

    assert api.get(url).status_code == 400
    assert api.get(url, {"question": "x" * 301}).status_code == 400
    assert api.get("/api/v1/lessons/999999/ask", {"question": "await"}).status_code == 404


def test_api_ask_is_rate_limited_per_learner(course, learner, other_learner):
    allowed, _ = TutorRateThrottle().parse_rate(TutorRateThrottle.THROTTLE_RATES["tutor"])
    url = f"/api/v1/lessons/{course['coroutines'].pk}/ask"
    api = APIClient()
    api.force_authenticate(learner)
    statuses = [api.get(url, {"question": "await"}).status_code for _ in range(allowed + 1)]
    assert statuses == [200] * allowed + [429]
    api.force_authenticate(other_learner)  # per learner, not for everyone
    assert api.get(url, {"question": "await"}).status_code == 200
