from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from catalog.models import Course, Lesson, Skill
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from learning.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

COURSES = reverse("admin:catalog_course_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def course_of_a(instructor):
    return CourseFactory(title="Django for Instructor A", owner=instructor)


@pytest.fixture
def course_of_b(other_instructor):
    return CourseFactory(title="Rust for Instructor B", owner=other_instructor)


def test_instructor_sees_only_own_courses_in_changelist(
    client, instructor, course_of_a, course_of_b
):
    client.force_login(instructor)

    response = client.get(COURSES)

    assert response.status_code == 200
    assert b"Django for Instructor A" in response.content
    assert b"Rust for Instructor B" not in response.content


def test_other_instructor_gets_404_on_change_delete_and_history(client, instructor, course_of_b):
    client.force_login(instructor)
    delete_url = reverse("admin:catalog_course_delete", args=[course_of_b.pk])
    history_url = reverse("admin:catalog_course_history", args=[course_of_b.pk])

    assert client.get(change_url(course_of_b)).status_code == 404
    assert client.post(change_url(course_of_b), {"title": "Hijacked"}).status_code == 404
    assert client.post(delete_url, {"post": "yes"}).status_code == 404
    assert client.get(history_url).status_code == 404
    course_of_b.refresh_from_db()
    assert course_of_b.title == "Rust for Instructor B"


def test_other_instructor_cannot_reach_modules_and_lessons_of_foreign_course(
    client, instructor, course_of_b
):
    module = ModuleFactory(course=course_of_b)
    lesson = LessonFactory(module=module, title="Ownership and borrowing")
    client.force_login(instructor)

    assert client.get(change_url(module)).status_code == 404
    assert client.get(change_url(lesson)).status_code == 404
    lessons = client.get(reverse("admin:catalog_lesson_changelist"))
    assert b"Ownership and borrowing" not in lessons.content


def test_owner_edits_course_with_modules_inline(client, instructor, course_of_a):
    ModuleFactory(course=course_of_a, title="Views", order=1)
    client.force_login(instructor)
    page = client.get(change_url(course_of_a))
    assert page.status_code == 200

    data = admin_form_data(page, title="Django, revised")
    data["modules-0-title"] = "Views and URLs"
    response = client.post(change_url(course_of_a), data)

    assert response.status_code == 302, response.context["errors"]
    course_of_a.refresh_from_db()
    assert course_of_a.title == "Django, revised"
    assert list(course_of_a.modules.values_list("title", flat=True)) == ["Views and URLs"]


def test_learner_and_anonymous_are_sent_to_admin_login(client, learner, course_of_a):
    for login in (None, learner):
        if login:
            client.force_login(login)
        response = client.get(COURSES)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
        assert client.get(change_url(course_of_a)).status_code == 302


def test_admin_sees_every_course(client, admin_user, course_of_a, course_of_b):
    client.force_login(admin_user)

    response = client.get(COURSES)

    assert b"Django for Instructor A" in response.content
    assert b"Rust for Instructor B" in response.content
    assert client.get(change_url(course_of_b)).status_code == 200


def test_instructor_admin_index_lists_authoring_models_only(client, instructor):
    client.force_login(instructor)

    response = client.get(reverse("admin:index"))

    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert {"Course", "Module", "Lesson", "Skill", "Assessment", "Question"} <= models
    assert not models & {"User", "LearnerSkillState", "Recommendation", "MLModel", "LearningGoal"}


def test_course_added_by_instructor_is_owned_by_them_whatever_is_posted(
    client, instructor, other_instructor
):
    client.force_login(instructor)
    page = client.get(reverse("admin:catalog_course_add"))
    assert "owner" not in page.context["adminform"].form.fields
    data = admin_form_data(
        page,
        title="Testing Django",
        slug="testing-django",
        estimated_hours="4",
        owner=str(other_instructor.pk),
    )

    response = client.post(reverse("admin:catalog_course_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    course = Course.objects.get(slug="testing-django")
    assert course.owner == instructor
    assert course.status == Course.Status.DRAFT


def test_module_form_offers_only_own_courses(client, instructor, course_of_a, course_of_b):
    client.force_login(instructor)

    page = client.get(reverse("admin:catalog_module_add"))

    choices = set(page.context["adminform"].form.fields["course"].queryset)
    assert choices == {course_of_a}


def test_course_prerequisite_cycle_is_rejected_with_the_cycle_named(client, instructor):
    basics = CourseFactory(title="Python Basics", owner=instructor)
    web = CourseFactory(title="Web APIs", owner=instructor, prerequisites=[basics])
    deploy = CourseFactory(title="Deployment", owner=instructor, prerequisites=[web])
    client.force_login(instructor)
    page = client.get(change_url(basics))

    response = client.post(
        change_url(basics), admin_form_data(page, prerequisites=[str(deploy.pk)])
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["prerequisites"]
    assert errors == [
        "These prerequisites would create a cycle: “Python Basics” → “Deployment” → "
        "“Web APIs” → “Python Basics” (each course requires the next one)."
    ]
    assert list(basics.prerequisites.all()) == []


def test_lesson_prerequisite_cycle_is_rejected(client, instructor, course_of_a):
    module = ModuleFactory(course=course_of_a)
    first = LessonFactory(module=module, title="Models", order=1)
    second = LessonFactory(module=module, title="Queries", order=2, prerequisites=[first])
    client.force_login(instructor)
    page = client.get(change_url(first))

    response = client.post(change_url(first), admin_form_data(page, prerequisites=[second.pk]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["prerequisites"] == [
        "These prerequisites would create a cycle: “Models” → “Queries” → “Models” "
        "(each lesson requires the next one)."
    ]
    assert list(first.prerequisites.all()) == []


def test_lesson_cannot_require_itself(client, instructor, course_of_a):
    lesson = LessonFactory(module=ModuleFactory(course=course_of_a), title="Forms")
    client.force_login(instructor)
    page = client.get(change_url(lesson))

    response = client.post(change_url(lesson), admin_form_data(page, prerequisites=[lesson.pk]))

    assert response.context["adminform"].form.errors["prerequisites"] == [
        "A lesson cannot be its own prerequisite: “Forms”."
    ]


def test_lesson_edit_keeps_skills_and_valid_prerequisites(client, instructor, course_of_a):
    module = ModuleFactory(course=course_of_a)
    intro = LessonFactory(module=module, title="Intro", order=1)
    lesson = LessonFactory(module=module, title="ORM", order=2)
    skill = SkillFactory(slug="django_orm", name="Django ORM")
    client.force_login(instructor)
    page = client.get(change_url(lesson))

    response = client.post(
        change_url(lesson),
        admin_form_data(page, prerequisites=[intro.pk], skills=[skill.pk]),
    )

    assert response.status_code == 302
    assert list(lesson.prerequisites.all()) == [intro]
    assert list(lesson.skills.all()) == [skill]


def test_publish_and_unpublish_actions(client, instructor, course_of_a, course_of_b, monkeypatch):
    draft = CourseFactory(owner=instructor, status=Course.Status.DRAFT, title="Draft course")
    course_of_b.status = Course.Status.DRAFT
    course_of_b.save()
    publish_time = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    monkeypatch.setattr("catalog.admin.timezone.now", lambda: publish_time)
    client.force_login(instructor)

    client.post(
        COURSES,
        {"action": "publish", "_selected_action": [draft.pk, course_of_b.pk]},
    )

    draft.refresh_from_db()
    course_of_b.refresh_from_db()
    assert (draft.status, draft.published_at) == (Course.Status.PUBLISHED, publish_time)
    # Instructor B's course was not in A's queryset: untouched.
    assert course_of_b.status == Course.Status.DRAFT

    client.post(COURSES, {"action": "unpublish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (Course.Status.DRAFT, None)


def test_module_admin_adds_lessons_inline_in_order(client, instructor, course_of_a):
    module = ModuleFactory(course=course_of_a, title="Basics", order=1)
    client.force_login(instructor)
    page = client.get(change_url(module))
    data = admin_form_data(page)
    data.update(
        {
            "lessons-TOTAL_FORMS": "2",
            "lessons-0-order": "2",
            "lessons-0-title": "Second",
            "lessons-0-content_type": "text",
            "lessons-0-difficulty": "beginner",
            "lessons-0-estimated_minutes": "10",
            "lessons-1-order": "1",
            "lessons-1-title": "First",
            "lessons-1-content_type": "video",
            "lessons-1-video_url": "https://videos.example.com/first.mp4",
            "lessons-1-difficulty": "beginner",
            "lessons-1-estimated_minutes": "5",
        }
    )

    response = client.post(change_url(module), data)

    assert response.status_code == 302
    assert list(Lesson.objects.filter(module=module).values_list("title", flat=True)) == [
        "First",
        "Second",
    ]


def test_skill_search_for_autocomplete_works_for_instructors(client, instructor):
    SkillFactory(slug="postgresql", name="PostgreSQL")
    SkillFactory(slug="python", name="Python")
    client.force_login(instructor)

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "course", "field_name": "skills", "term": "postg"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["PostgreSQL"]


def test_instructor_cannot_delete_shared_skills(client, instructor):
    skill = SkillFactory(slug="git", name="Git")
    client.force_login(instructor)

    response = client.post(reverse("admin:catalog_skill_delete", args=[skill.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Skill.objects.filter(slug="git").exists()


def test_owner_deletes_an_unused_course_with_its_modules_and_lessons(
    client, instructor, course_of_a
):
    LessonFactory(module=ModuleFactory(course=course_of_a))
    client.force_login(instructor)

    response = client.post(
        reverse("admin:catalog_course_delete", args=[course_of_a.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Course.objects.filter(pk=course_of_a.pk).exists()
    assert not Lesson.objects.exists()


def test_course_with_enrolled_learners_cannot_be_deleted(client, instructor, course_of_a):
    EnrollmentFactory(course=course_of_a)
    EnrollmentFactory(course=course_of_a)
    client.force_login(instructor)

    single = client.post(
        reverse("admin:catalog_course_delete", args=[course_of_a.pk]), {"post": "yes"}
    )
    bulk = client.post(
        COURSES, {"action": "delete_selected", "_selected_action": [course_of_a.pk], "post": "yes"}
    )

    assert single.context["protected"] == [
        "“Django for Instructor A”: 2 learner(s) enrolled; unpublish it instead of deleting it."
    ]
    assert bulk.context["protected"] == single.context["protected"]
    assert Course.objects.filter(pk=course_of_a.pk).exists()


def test_posting_a_foreign_course_id_for_a_module_is_rejected(client, instructor, course_of_b):
    client.force_login(instructor)
    page = client.get(reverse("admin:catalog_module_add"))

    response = client.post(
        reverse("admin:catalog_module_add"),
        admin_form_data(page, course=str(course_of_b.pk), title="Sneaky", order="9"),
    )

    assert response.status_code == 200
    assert "course" in response.context["adminform"].form.errors
    assert not course_of_b.modules.exists()
