"""Catalogue authoring through each door (admin, API) gives the same rows and data versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from assessments.models import Assessment, Question
from assessments.tests.factories import (
    AnswerFactory,
    AssessmentAttemptFactory,
    AssessmentFactory,
    ChoiceFactory,
    QuestionFactory,
)
from catalog.models import Course, Lesson, Module
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory
from skillstudio.data_versions import CATALOG_KEY, _CatalogBump

pytestmark = pytest.mark.django_db

FIRST = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
THIRD = datetime(2026, 12, 1, 8, 15, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Time is the one edge we fake: every door reads django.utils.timezone.now."""

    class Clock:
        def set(self, moment: datetime) -> None:
            monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return Clock()


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _course_publication(door: str, client, course: Course, action: str):
    if door == "admin":
        return client.post(
            reverse("admin:catalog_course_changelist"),
            {"action": action, "_selected_action": [course.pk]},
        )
    status = {"publish": "published", "unpublish": "draft"}[action]
    return client.patch(f"/api/v1/courses/{course.pk}/", {"status": status}, format="json")


def _client(door: str, user, django_client):
    if door == "admin":
        django_client.force_login(user)
        return django_client
    return _api(user)


@pytest.mark.parametrize("door", ["admin", "api"])
def test_publish_unpublish_republish_set_published_at_alike(
    door, client, instructor, clock, django_capture_on_commit_callbacks
):
    course = CourseFactory(owner=instructor, status=Course.Status.DRAFT, published_at=None)
    doors = _client(door, instructor, client)
    rows, versions = [], [cache.get(CATALOG_KEY)]

    for moment, action in ((FIRST, "publish"), (SECOND, "unpublish"), (THIRD, "publish")):
        clock.set(moment)
        with django_capture_on_commit_callbacks(execute=True):
            response = _course_publication(door, doors, course, action)
        assert response.status_code in (200, 302)
        course.refresh_from_db()
        rows.append((course.status, course.published_at))
        versions.append(cache.get(CATALOG_KEY))

    # One rule for both doors: publishing dates the latest publication, unpublishing clears it.
    assert rows == [
        (Course.Status.PUBLISHED, FIRST),
        (Course.Status.DRAFT, None),
        (Course.Status.PUBLISHED, THIRD),
    ]
    # Every step moved the catalogue version on.
    assert len(set(versions)) == len(versions)


@pytest.mark.parametrize("door", ["admin", "api"])
def test_publishing_a_published_course_keeps_its_date(door, client, instructor, clock):
    course = CourseFactory(owner=instructor, status=Course.Status.PUBLISHED, published_at=FIRST)
    clock.set(SECOND)

    _course_publication(door, _client(door, instructor, client), course, "publish")

    course.refresh_from_db()
    assert (course.status, course.published_at) == (Course.Status.PUBLISHED, FIRST)


@pytest.mark.parametrize("door", ["admin", "api"])
def test_assessment_publish_and_unpublish_alike(
    door, client, instructor, django_capture_on_commit_callbacks
):
    quiz = AssessmentFactory(owner=instructor, is_published=False, course=None)
    question = QuestionFactory(assessment=quiz, kind="true_false")
    ChoiceFactory(question=question, text="True", is_correct=True)
    ChoiceFactory(question=question, text="False")
    doors = _client(door, instructor, client)
    states, versions = [], [cache.get(CATALOG_KEY)]

    for action in ("publish", "unpublish"):
        with django_capture_on_commit_callbacks(execute=True):
            if door == "admin":
                doors.post(
                    reverse("admin:assessments_assessment_changelist"),
                    {"action": action, "_selected_action": [quiz.pk]},
                )
            else:
                doors.patch(
                    f"/api/v1/assessments/{quiz.pk}/",
                    {"is_published": action == "publish"},
                    format="json",
                )
        quiz.refresh_from_db()
        states.append(quiz.is_published)
        versions.append(cache.get(CATALOG_KEY))

    assert states == [True, False]
    assert len(set(versions)) == 3


def _held(kind: str, instructor):
    """A row of ``kind`` that learner records depend on, its admin name and its API url."""
    if kind == "course":
        course = CourseFactory(owner=instructor, title="Popular")
        EnrollmentFactory(course=course)
        EnrollmentFactory(course=course)
        return course, f"/api/v1/courses/{course.pk}/"
    if kind in ("module", "lesson"):
        lesson = LessonFactory(module__course__owner=instructor, title="Studied")
        LessonProgressFactory(lesson=lesson)
        module = lesson.module
        base = f"/api/v1/courses/{module.course_id}/modules/{module.pk}/"
        if kind == "module":
            return module, base
        return lesson, f"{base}lessons/{lesson.pk}/"
    quiz = AssessmentFactory(owner=instructor, title="Taken quiz")
    question = QuestionFactory(assessment=quiz, order=1)
    AnswerFactory(attempt=AssessmentAttemptFactory(assessment=quiz), question=question)
    if kind == "assessment":
        return quiz, f"/api/v1/assessments/{quiz.pk}/"
    return question, f"/api/v1/assessments/{quiz.pk}/questions/{question.pk}/"


MESSAGES = {
    "course": "“Popular”: 2 learner(s) enrolled; unpublish it instead of deleting it.",
    "module": "“{title}”: 1 learner progress record(s) on its lessons; "
    "edit it instead of deleting it.",
    "lesson": "“Studied”: 1 learner progress record(s); edit it instead of deleting it.",
    "assessment": "“Taken quiz”: 1 learner attempt(s); unpublish it instead of deleting it.",
    "question": "Question 1 of “Taken quiz”: 1 learner answer(s); edit it instead of deleting it.",
}
MODELS = {
    "course": Course,
    "module": Module,
    "lesson": Lesson,
    "assessment": Assessment,
    "question": Question,
}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_delete_protection_is_one_rule_reported_by_both_doors(kind, client, instructor):
    obj, url = _held(kind, instructor)
    expected = MESSAGES[kind].format(title=getattr(obj, "title", ""))
    client.force_login(instructor)
    delete_page = reverse(f"admin:{obj._meta.app_label}_{kind}_delete", args=[obj.pk])

    admin_single = client.post(delete_page, {"post": "yes"})
    admin_bulk = client.post(
        reverse(f"admin:{obj._meta.app_label}_{kind}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    api = _api(instructor).delete(url)

    assert admin_single.context["protected"] == [expected]
    assert admin_bulk.context["protected"] == [expected]
    assert api.status_code == 400
    assert api.json()["error"] == {"code": "invalid", "message": expected, "fields": {}}
    assert MODELS[kind].objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("door", ["admin", "api"])
def test_unused_course_is_deleted_by_both_doors_with_one_version_bump(
    door, client, instructor, django_capture_on_commit_callbacks
):
    course = CourseFactory(owner=instructor)
    LessonFactory(module=ModuleFactory(course=course))
    before = cache.get(CATALOG_KEY)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if door == "admin":
            client.force_login(instructor)
            response = client.post(
                reverse("admin:catalog_course_delete", args=[course.pk]), {"post": "yes"}
            )
        else:
            response = _api(instructor).delete(f"/api/v1/courses/{course.pk}/")

    assert response.status_code in (204, 302)
    assert not Course.objects.filter(pk=course.pk).exists()
    assert not Lesson.objects.exists()
    assert cache.get(CATALOG_KEY) != before
    # The course, its module and lesson go in one transaction: one bump, not one per row.
    assert sum(isinstance(callback, _CatalogBump) for callback in callbacks) == 1


def test_a_studied_module_cannot_be_deleted_from_its_course_inline(client, instructor):
    lesson = LessonFactory(module__course__owner=instructor, module__title="Studied module")
    LessonProgressFactory(lesson=lesson)
    course = lesson.module.course
    client.force_login(instructor)
    url = reverse("admin:catalog_course_change", args=[course.pk])
    data = admin_form_data(client.get(url))
    data["modules-0-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "“Studied module”: 1 learner progress record(s) on its lessons; "
        "edit it instead of deleting it."
    ]
    assert Module.objects.filter(pk=lesson.module_id).exists()
