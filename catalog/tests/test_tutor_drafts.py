"""Instructors draft practice questions for a lesson with the tutor's provider (admin action)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_lesson_changelist")
BODY = "## Timeouts\n\n`asyncio.timeout(2)` gives up on a slow server after two seconds."
VALID = {
    "questions": [
        {
            "prompt": "What does asyncio.timeout(2) do?",
            "kind": "single_choice",
            "choices": [
                {"text": "Gives up after two seconds", "is_correct": True},
                {"text": "Sleeps two seconds", "is_correct": False},
            ],
            "explanation": "It bounds the wait.",
            "difficulty": "intermediate",
            "skill": "asyncio",
        },
        {
            "prompt": "A timeout waits forever.",
            "kind": "true_false",
            "choices": [
                {"text": "True", "is_correct": False},
                {"text": "False", "is_correct": True},
            ],
        },
    ]
}


@pytest.fixture
def lesson(instructor):
    course = CourseFactory(title="Async", slug="async", owner=instructor)
    lesson = LessonFactory(
        module=ModuleFactory(course=course, order=1), order=1, title="Timeouts", body=BODY
    )
    lesson.skills.set([SkillFactory(name="Asyncio", slug="asyncio")])
    return lesson


def _draft(client, lesson):
    return client.post(
        CHANGELIST,
        {"action": "draft_practice_questions", "_selected_action": [lesson.pk]},
        follow=True,
    )


def test_valid_reply_is_saved_as_an_unpublished_quiz_for_review(
    client, lesson, instructor, learner, provider
):
    provider.reply(json.dumps(VALID))
    client.force_login(instructor)
    assert "Draft practice questions with the tutor" in client.get(CHANGELIST).content.decode()

    page = _draft(client, lesson).content.decode()

    assessment = Assessment.objects.get(lesson=lesson)
    assert "2 draft questions saved" in page and "unpublished" in page
    assert assessment.is_published is False
    assert assessment.owner == instructor and assessment.course == lesson.module.course
    questions = list(assessment.questions.order_by("order"))
    assert [q.kind for q in questions] == ["single_choice", "true_false"]
    assert [q.difficulty for q in questions] == ["intermediate", lesson.difficulty]
    assert [c.is_correct for c in questions[1].choices.all()] == [False, True]
    # Sent: the lesson's text and skills, as a JSON request.
    sent = provider.requests[0]["body"]
    assert sent["response_format"] == {"type": "json_object"}
    assert "`asyncio.timeout(2)` gives up" in provider.prompt()
    assert "Skill slugs: asyncio" in provider.prompt()
    # Reviewable in the admin, invisible to learners until published.
    review = client.get(reverse("admin:assessments_assessment_change", args=[assessment.pk]))
    assert "What does asyncio.timeout(2) do?" in review.content.decode()
    assert not assessments_visible_to(user=learner).filter(pk=assessment.pk).exists()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("Here are your questions: 1. …", "not valid JSON"),
        (json.dumps({"items": []}), "only &quot;questions&quot;"),
        (json.dumps({"questions": [{**VALID["questions"][0], "extra": 1}]}), "unknown keys"),
        (json.dumps({"questions": [{**VALID["questions"][0], "skill": "docker"}]}), "skill must"),
        (
            json.dumps(
                {
                    "questions": [
                        VALID["questions"][0],
                        {
                            **VALID["questions"][0],
                            "choices": [
                                {"text": "A", "is_correct": True},
                                {"text": "B", "is_correct": True},
                            ],
                        },
                    ]
                }
            ),
            "Question 2:",
        ),
    ],
    ids=["prose", "wrong-root", "unknown-key", "foreign-skill", "bad-answer-key"],
)
def test_invalid_reply_saves_nothing(client, lesson, instructor, provider, reply, message):
    provider.reply(reply)
    client.force_login(instructor)

    page = _draft(client, lesson).content.decode()

    assert "no questions drafted" in page and message in page
    assert not Assessment.objects.exists()


def test_provider_failure_is_an_admin_message(client, lesson, instructor, provider):
    provider.reply(status=502, raw=b"bad gateway")
    client.force_login(instructor)
    page = _draft(client, lesson).content.decode()
    assert "HTTP 502" in page and not Assessment.objects.exists()


def test_only_the_lesson_owner_can_draft(client, lesson, other_instructor, learner, provider):
    client.force_login(other_instructor)  # not their lesson: outside their queryset
    _draft(client, lesson)
    assert provider.requests == [] and not Assessment.objects.exists()

    client.force_login(learner)
    assert client.post(CHANGELIST, {"action": "draft_practice_questions"}).status_code == 302
    client.logout()
    assert client.post(CHANGELIST, {"action": "draft_practice_questions"}).status_code == 302
    assert provider.requests == []


def test_without_a_provider_the_action_is_absent(client, lesson, instructor, settings):
    settings.TUTOR_PROVIDER = ""
    client.force_login(instructor)
    assert "draft_practice_questions" not in client.get(CHANGELIST).content.decode()
    _draft(client, lesson)
    assert not Assessment.objects.exists()


def test_the_change_page_button_drafts_and_opens_the_draft_for_review(
    client, lesson, instructor, other_instructor, provider
):
    change = reverse("admin:catalog_lesson_change", args=[lesson.pk])
    button = reverse("admin:catalog_lesson_draft_questions", args=[lesson.pk])
    client.force_login(instructor)
    assert f'action="{button}"' in client.get(change).content.decode()
    assert client.get(button).status_code == 405

    provider.reply(json.dumps(VALID))
    response = client.post(button)
    assessment = Assessment.objects.get(lesson=lesson)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:assessments_assessment_change", args=[assessment.pk]
    )

    provider.reply("not json")
    response = client.post(button, follow=True)
    assert response.redirect_chain[-1][0] == change
    assert "not valid JSON" in response.content.decode()
    assert Assessment.objects.count() == 1

    client.force_login(other_instructor)  # not their lesson
    assert client.post(button).status_code == 404
    assert Assessment.objects.count() == 1 and len(provider.requests) == 2


def test_without_a_provider_the_change_page_has_no_button(client, lesson, instructor, settings):
    settings.TUTOR_PROVIDER = ""
    client.force_login(instructor)
    change = reverse("admin:catalog_lesson_change", args=[lesson.pk])
    button = reverse("admin:catalog_lesson_draft_questions", args=[lesson.pk])
    assert "Draft practice questions" not in client.get(change).content.decode()
    assert client.post(button).status_code == 404
