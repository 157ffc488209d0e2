"""Hidden (draft) objects read exactly like missing ones; the API's lesson body obeys locks."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.tests.factories import AssessmentFactory
from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from learning.services import lesson_complete

pytestmark = pytest.mark.django_db

MISSING = 10**12


def signed_in(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/learning/enrollments/?course={}",
        "/api/v1/learning/progress/?course={}",
        "/api/v1/attempts/?assessment={}",
        "/api/v1/assessments/?course={}",
    ],
)
def test_filters_answer_a_hidden_id_like_a_missing_one(learner, instructor, url):
    draft = CourseFactory(status=Course.Status.DRAFT, owner=instructor)
    hidden_quiz = AssessmentFactory(is_published=False, owner=instructor)
    hidden = hidden_quiz.pk if "assessment=" in url else draft.pk
    api = signed_in(learner)

    for_hidden = api.get(url.format(hidden))
    for_missing = api.get(url.format(MISSING))

    assert for_hidden.status_code == for_missing.status_code == 200
    assert for_hidden.json()["results"] == for_missing.json()["results"] == []


@pytest.fixture
def locked_lesson():
    module = ModuleFactory()
    first = LessonFactory(module=module, body="First body")
    second = LessonFactory(module=module, body="Secret second body", prerequisites=[first])
    return module, first, second


def lesson_url(module, lesson) -> str:
    return f"/api/v1/courses/{module.course_id}/modules/{module.pk}/lessons/{lesson.pk}/"


def test_anonymous_gets_no_lesson_body(locked_lesson):
    module, first, _ = locked_lesson

    body = APIClient().get(lesson_url(module, first)).json()

    assert body["readable"] is False
    assert body["body"] == ""


def test_a_locked_lesson_body_is_withheld_until_its_prerequisite_is_done(learner, locked_lesson):
    module, first, second = locked_lesson
    api = signed_in(learner)

    locked = api.get(lesson_url(module, second)).json()
    open_one = api.get(lesson_url(module, first)).json()
    lesson_complete(learner=learner, lesson=first, now=timezone.now())
    unlocked = api.get(lesson_url(module, second)).json()

    assert (locked["readable"], locked["body"]) == (False, "")
    assert open_one["body"] == "First body"
    assert unlocked["body"] == "Secret second body"


def test_the_author_reads_every_lesson_body(locked_lesson):
    module, _, second = locked_lesson

    body = signed_in(module.course.owner).get(lesson_url(module, second)).json()

    assert body["body"] == "Secret second body"
