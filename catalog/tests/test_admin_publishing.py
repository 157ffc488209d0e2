"""Publishing courses: a video lesson needs its video, one clear message per door."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import Course
from catalog.services import course_publish, course_publish_problems, courses_publish
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
COURSES = reverse("admin:catalog_course_changelist")
PROBLEM = (
    "Lesson “Fetch in practice” is a video lesson without a video URL: add the URL "
    "or change its type."
)


def draft_with_video_lesson(owner, *, video_url: str = "", title: str = "Web APIs") -> Course:
    course = CourseFactory(owner=owner, status=Course.Status.DRAFT, title=title)
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1, title="Reading", content_type="text")
    LessonFactory(
        module=module,
        order=2,
        title="Fetch in practice",
        content_type="video",
        video_url=video_url,
    )
    return course


def publish_url(course, action: str = "publish") -> str:
    return reverse(f"admin:catalog_course_{action}", args=[course.pk])


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_video_lesson_without_url_blocks_publishing_in_the_service(instructor):
    course = draft_with_video_lesson(instructor)
    ready = draft_with_video_lesson(
        instructor, video_url="https://videos.example.com/fetch.mp4", title="Ready"
    )

    assert course_publish_problems(course=course) == [PROBLEM]
    with pytest.raises(ValidationError) as refused:
        course_publish(course=course, now=NOW)
    assert refused.value.message_dict == {"status": [PROBLEM]}
    # The bulk form publishes the ready one only.
    assert courses_publish(courses=Course.objects.all(), now=NOW) == 1
    course.refresh_from_db()
    ready.refresh_from_db()
    assert (course.status, ready.status) == (Course.Status.DRAFT, Course.Status.PUBLISHED)


def test_api_refuses_publishing_with_the_reason(as_user, instructor):
    course = draft_with_video_lesson(instructor)

    response = as_user(instructor).patch(
        f"/api/v1/courses/{course.pk}/", {"status": "published"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["status"] == [PROBLEM]
    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


def test_change_page_publish_refusal_is_one_error(client, instructor):
    course = draft_with_video_lesson(instructor)
    client.force_login(instructor)

    response = client.post(publish_url(course), follow=True)

    assert messages_of(response) == [("error", f"“Web APIs” was not published. {PROBLEM}")]
    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


def test_change_page_publish_and_unpublish(client, instructor, other_instructor):
    course = draft_with_video_lesson(instructor, video_url="https://videos.example.com/f.mp4")
    client.force_login(other_instructor)
    assert client.post(publish_url(course)).status_code == 404
    client.force_login(instructor)
    page = client.get(reverse("admin:catalog_course_change", args=[course.pk])).content.decode()
    assert f'action="{publish_url(course)}"' in page

    published = client.post(publish_url(course), follow=True)
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED
    assert messages_of(published) == [("success", "“Web APIs” is published: learners can see it.")]

    unpublished = client.post(publish_url(course, "unpublish"), follow=True)
    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT
    assert messages_of(unpublished) == [
        ("success", "“Web APIs” is unpublished: learners no longer see it.")
    ]


def test_list_action_refusal_has_no_success_line(client, instructor):
    course = draft_with_video_lesson(instructor)
    client.force_login(instructor)

    response = client.post(
        COURSES, {"action": "publish", "_selected_action": [course.pk]}, follow=True
    )

    assert messages_of(response) == [("error", f"“Web APIs” was not published. {PROBLEM}")]


PREVIEW = reverse("admin:catalog_lesson_markdown_preview")


def test_markdown_preview_renders_sanitised_html_for_authors(client, instructor):
    client.force_login(instructor)

    response = client.post(
        PREVIEW, {"text": "## Loops\n\nUse **for**.<script>alert(1)</script>\n\n- a\n- b"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Loops</h2>" in html
    assert "<strong>for</strong>" in html
    assert "<li>a</li>" in html
    assert "<script" not in html


def test_markdown_preview_is_for_authors_only(client, learner, instructor):
    assert client.post(PREVIEW, {"text": "x"}).status_code == 302
    client.force_login(learner)
    assert client.post(PREVIEW, {"text": "x"}).url.startswith(reverse("admin:login"))
    client.force_login(instructor)
    assert client.get(PREVIEW).status_code == 405
    assert client.post(PREVIEW, {"text": "x" * 200_001}).status_code == 400


def test_lesson_and_question_pages_offer_the_preview(client, instructor):
    from assessments.tests.factories import AssessmentFactory, QuestionFactory

    lesson = LessonFactory(module=ModuleFactory(course=CourseFactory(owner=instructor)))
    question = QuestionFactory(assessment=AssessmentFactory(owner=instructor))
    client.force_login(instructor)

    lesson_page = client.get(reverse("admin:catalog_lesson_change", args=[lesson.pk]))
    question_page = client.get(reverse("admin:assessments_question_change", args=[question.pk]))

    for page, names in ((lesson_page, ["body"]), (question_page, ["prompt", "explanation"])):
        html = page.content.decode()
        assert "js/markdown_preview" in html
        for name in names:
            assert f'data-markdown-preview="{PREVIEW}"' in html
            assert f'name="{name}"' in html
        assert html.count("data-markdown-preview=") == len(names)


def test_published_course_refuses_a_video_lesson_without_its_url_at_every_door(
    client, as_user, instructor
):
    course = CourseFactory(owner=instructor, title="Live course")
    module = ModuleFactory(course=course, order=1, title="Basics")
    client.force_login(instructor)
    module_url = reverse("admin:catalog_module_change", args=[module.pk])
    row = {
        "lessons-TOTAL_FORMS": "1",
        "lessons-0-order": "1",
        "lessons-0-title": "Watch this",
        "lessons-0-content_type": "video",
        "lessons-0-difficulty": "beginner",
        "lessons-0-estimated_minutes": "5",
    }
    data = {**admin_form_data(client.get(module_url)), **row}

    refused = client.post(module_url, data)

    assert refused.status_code == 200
    form = refused.context["inline_admin_formsets"][0].formset.forms[0]
    assert form.errors["video_url"] == [
        "A video lesson needs a video URL while its course is published."
    ]
    api_refused = as_user(instructor).post(
        f"/api/v1/courses/{course.pk}/modules/{module.pk}/lessons/",
        {"title": "Watch this", "order": 1, "content_type": "video"},
        format="json",
    )
    assert api_refused.status_code == 400
    assert api_refused.json()["error"]["fields"]["video_url"] == [
        "A video lesson needs a video URL while its course is published."
    ]
    assert not module.lessons.exists()

    data["lessons-0-video_url"] = "https://videos.example.com/watch.mp4"
    assert client.post(module_url, data).status_code == 302
    assert module.lessons.get().video_url == "https://videos.example.com/watch.mp4"
