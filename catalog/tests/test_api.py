from __future__ import annotations

import pytest

from catalog.models import Course, Difficulty
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from learning.tests.factories import EnrollmentFactory


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


@pytest.mark.django_db
def test_anonymous_catalog_lists_published_courses_with_search_and_filters(api, instructor):
    python, sql = SkillFactory(slug="python"), SkillFactory(slug="sql")
    CourseFactory(title="Python Basics", skills=[python], owner=instructor)
    CourseFactory(
        title="SQL for Python", skills=[sql], difficulty=Difficulty.ADVANCED, owner=instructor
    )
    draft = CourseFactory(title="Python Drafts", status=Course.Status.DRAFT, owner=instructor)

    assert titles(api.get("/api/v1/courses/")) == ["Python Basics", "SQL for Python"]
    assert titles(api.get("/api/v1/courses/?skill=sql")) == ["SQL for Python"]
    assert titles(api.get("/api/v1/courses/?search=basics")) == ["Python Basics"]
    assert titles(api.get("/api/v1/courses/?difficulty=advanced")) == ["SQL for Python"]
    assert api.get(f"/api/v1/courses/{draft.pk}/").status_code == 404

    api.force_authenticate(instructor)
    assert "Python Drafts" in titles(api.get("/api/v1/courses/"))


@pytest.mark.django_db
def test_prerequisite_cycle_is_a_clear_400_and_nothing_changes(as_user, instructor):
    basics = CourseFactory(title="Basics", owner=instructor)
    web = CourseFactory(title="Web", owner=instructor, prerequisites=[basics])
    api = as_user(instructor)

    response = api.patch(
        f"/api/v1/courses/{basics.pk}/",
        {"prerequisites": [web.pk], "title": "Basics v2"},
        format="json",
    )

    assert response.status_code == 400
    message = response.json()["error"]["fields"]["prerequisites"][0]
    assert "cycle" in message
    assert "“Basics v2”" in message and "“Web”" in message
    basics.refresh_from_db()
    assert basics.title == "Basics"
    assert list(basics.prerequisites.all()) == []


@pytest.mark.django_db
def test_instructor_creates_course_owned_by_them_with_slug_from_title(as_user, instructor):
    SkillFactory(slug="python")

    response = as_user(instructor).post(
        "/api/v1/courses/",
        {"title": "Async Python", "estimated_hours": 6, "skills": ["python"]},
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["slug"], body["status"], body["owner"]["id"]) == (
        "async-python",
        "draft",
        instructor.pk,
    )


@pytest.mark.django_db
def test_course_with_learners_cannot_be_deleted(as_user, instructor, learner):
    course = CourseFactory(owner=instructor, title="Popular")
    EnrollmentFactory(course=course, learner=learner)

    response = as_user(instructor).delete(f"/api/v1/courses/{course.pk}/")

    assert response.status_code == 400
    assert "1 learner(s)" in response.json()["error"]["message"]
    assert Course.objects.filter(pk=course.pk).exists()


@pytest.mark.django_db
def test_lesson_prerequisites_come_from_the_same_course(as_user, instructor):
    lesson = LessonFactory(module__course__owner=instructor)
    elsewhere = LessonFactory(module__course__owner=instructor)
    module = lesson.module
    url = f"/api/v1/courses/{module.course_id}/modules/{module.pk}/lessons/{lesson.pk}/"

    response = as_user(instructor).patch(url, {"prerequisites": [elsewhere.pk]}, format="json")

    assert response.status_code == 400
    assert "prerequisites" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_duplicate_module_order_is_a_field_error(as_user, instructor):
    module = ModuleFactory(course__owner=instructor, order=1)

    response = as_user(instructor).post(
        f"/api/v1/courses/{module.course_id}/modules/",
        {"title": "Again", "order": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"order": ["Module order 1 is already used here."]}


@pytest.mark.django_db
def test_outline_shows_locks_and_progress_for_the_caller(as_user, learner):
    module = ModuleFactory(order=1)
    first = LessonFactory(module=module, order=1, title="One")
    LessonFactory(module=module, order=2, title="Two", prerequisites=[first])
    api = as_user(learner)
    api.post(f"/api/v1/learning/lessons/{first.pk}/complete")

    outline = api.get(f"/api/v1/courses/{module.course_id}/outline/").json()

    lessons = outline["modules"][0]["lessons"]
    assert [(item["title"], item["status"], item["locked"]) for item in lessons] == [
        ("One", "completed", False),
        ("Two", "not_started", False),
    ]
    assert (outline["lessons_completed"], outline["progress_percent"]) == (1, "50.00")


@pytest.mark.django_db
def test_studied_lessons_and_modules_cannot_be_deleted(as_user, instructor, learner):
    lesson = LessonFactory(module__course__owner=instructor, title="Studied")
    module = lesson.module
    as_user(learner).post(f"/api/v1/learning/lessons/{lesson.pk}/start")
    api = as_user(instructor)
    base = f"/api/v1/courses/{module.course_id}/modules/{module.pk}/"

    lesson_delete = api.delete(f"{base}lessons/{lesson.pk}/")
    module_delete = api.delete(base)

    assert lesson_delete.status_code == module_delete.status_code == 400
    assert "1 learner progress record(s)" in lesson_delete.json()["error"]["message"]
    assert api.get(f"{base}lessons/{lesson.pk}/").status_code == 200


@pytest.mark.django_db
def test_malformed_skill_slug_is_a_400_not_a_database_error(as_user, instructor):
    # Found by fuzzing: a NUL byte in a slug once reached PostgreSQL (a 500).
    response = as_user(instructor).post(
        "/api/v1/courses/",
        {"title": "Odd", "estimated_hours": 2, "skills": ["py\x00thon"]},
        format="json",
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["fields"]["skills.0"][0]


@pytest.mark.django_db
def test_a_prerequisite_unpublished_since_is_listed_only_to_who_can_open_it(
    api, instructor, learner
):
    from django.utils import timezone

    from catalog.services import course_unpublish

    sql = CourseFactory(title="SQL basics", owner=instructor)
    flask = CourseFactory(title="Flask", prerequisites=[sql], owner=instructor)
    course_unpublish(course=sql, now=timezone.now())

    # Anonymous and a learner: no id that answers 404.
    assert api.get(f"/api/v1/courses/{flask.pk}/").json()["prerequisites"] == []
    api.force_authenticate(learner)
    assert api.get(f"/api/v1/courses/{flask.pk}/").json()["prerequisites"] == []
    # Its owner still sees it (a draft they can open and publish again).
    api.force_authenticate(instructor)
    assert api.get(f"/api/v1/courses/{flask.pk}/").json()["prerequisites"] == [sql.pk]
