"""Authoring traps on the assessment pages, driven through the admin as an instructor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.grading import number_as_typed
from assessments.models import Assessment, Question
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import SkillFactory

pytestmark = pytest.mark.django_db

ASSESSMENTS = reverse("admin:assessments_assessment_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:assessments_{obj._meta.model_name}_change", args=[obj.pk])


def publish_url(obj, action: str = "publish") -> str:
    return reverse(f"admin:assessments_assessment_{action}", args=[obj.pk])


def with_question_row(data: dict, **row: str) -> dict:
    """The assessment page's POST body with one new question row appended."""
    index = int(data["questions-TOTAL_FORMS"])
    data["questions-TOTAL_FORMS"] = str(index + 1)
    for name, value in row.items():
        data[f"questions-{index}-{name}"] = value
    return data


@pytest.fixture
def skill():
    return SkillFactory(slug="arith", name="Arithmetic")


def test_numeric_question_without_answer_is_a_form_error_keeping_what_was_typed(
    client, instructor, skill
):
    quiz = AssessmentFactory(owner=instructor, title="Units quiz")
    client.force_login(instructor)
    page = client.get(change_url(quiz))
    data = with_question_row(
        admin_form_data(page),
        order="1",
        kind="numeric",
        prompt="How many minutes are in half an hour?",
        skill=str(skill.pk),
        difficulty="beginner",
        points="2",
        numeric_answer="",
        numeric_tolerance="0",
    )

    response = client.post(change_url(quiz), data)

    assert response.status_code == 200
    row = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert row.errors["numeric_answer"] == ["A numeric question needs the correct number."]
    assert b"How many minutes are in half an hour?" in response.content
    assert not Question.objects.exists()


def test_numeric_question_is_added_inline_with_answer_and_tolerance(client, instructor, skill):
    quiz = AssessmentFactory(owner=instructor, title="Units quiz")
    client.force_login(instructor)
    page = client.get(change_url(quiz))
    data = with_question_row(
        admin_form_data(page),
        order="1",
        kind="numeric",
        prompt="How many minutes are in half an hour?",
        skill=str(skill.pk),
        difficulty="beginner",
        points="1",
        numeric_answer="30",
        numeric_tolerance="0.5",
    )

    response = client.post(change_url(quiz), data)

    assert response.status_code == 302
    question = Question.objects.get(assessment=quiz)
    assert (question.kind, question.numeric_answer, question.numeric_tolerance) == (
        "numeric",
        Decimal("30"),
        Decimal("0.5"),
    )
    # Shown again as typed, not as "30.0000" or "3E+1".
    again = client.get(change_url(quiz)).content.decode()
    assert 'name="questions-0-numeric_answer" value="30"' in again
    assert 'name="questions-0-numeric_tolerance" value="0.5"' in again


def test_short_text_answers_are_typed_one_per_line(client, instructor, skill):
    quiz = AssessmentFactory(owner=instructor)
    client.force_login(instructor)
    page = client.get(reverse("admin:assessments_question_add"))
    data = admin_form_data(
        page,
        assessment=str(quiz.pk),
        order="1",
        kind="short_text",
        prompt="Which command creates a repository?",
        skill=str(skill.pk),
        points="1",
        accepted_answers="git init\r\n  git init .  \r\n\r\n",
    )

    response = client.post(reverse("admin:assessments_question_add"), data)

    assert response.status_code == 302
    question = Question.objects.get(assessment=quiz)
    assert question.accepted_answers == ["git init", "git init ."]
    shown = client.get(change_url(question)).content.decode()
    assert "git init\ngit init .</textarea>" in shown


def test_numbers_on_the_question_page_are_shown_as_typed(client, instructor):
    question = QuestionFactory(
        assessment=AssessmentFactory(owner=instructor),
        kind="numeric",
        numeric_answer=Decimal("30.0000"),
        numeric_tolerance=Decimal("0.2500"),
    )
    client.force_login(instructor)

    shown = client.get(change_url(question)).content.decode()

    assert 'name="numeric_answer" value="30"' in shown
    assert 'name="numeric_tolerance" value="0.25"' in shown


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("30.0000", "30"),
        ("3E+1", "30"),
        ("0.2500", "0.25"),
        ("-1.5000", "-1.5"),
        ("0.0000", "0"),
        ("1000000", "1000000"),
    ],
)
def test_number_as_typed(stored, shown):
    assert number_as_typed(Decimal(stored)) == shown


def gradable_quiz(owner, **kwargs) -> Assessment:
    quiz = AssessmentFactory(owner=owner, is_published=False, **kwargs)
    question = QuestionFactory(assessment=quiz, kind="true_false")
    ChoiceFactory(question=question, text="True", is_correct=True)
    ChoiceFactory(question=question, text="False")
    return quiz


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_publish_and_unpublish_from_the_change_page(client, instructor):
    quiz = gradable_quiz(instructor, title="Git basics")
    client.force_login(instructor)
    page = client.get(change_url(quiz)).content.decode()
    assert f'action="{publish_url(quiz)}"' in page

    published = client.post(publish_url(quiz), follow=True)

    quiz.refresh_from_db()
    assert quiz.is_published
    assert messages_of(published) == [
        ("success", "“Git basics” is published: learners can see it.")
    ]
    assert f'action="{publish_url(quiz, "unpublish")}"' in published.content.decode()

    unpublished = client.post(publish_url(quiz, "unpublish"), follow=True)

    quiz.refresh_from_db()
    assert not quiz.is_published
    assert messages_of(unpublished) == [
        ("success", "“Git basics” is unpublished: learners no longer see it.")
    ]


def test_refused_publish_from_the_change_page_shows_only_the_reason(client, instructor):
    quiz = AssessmentFactory(owner=instructor, is_published=False, title="Empty quiz")
    client.force_login(instructor)

    response = client.post(publish_url(quiz), follow=True)

    assert messages_of(response) == [
        ("error", "“Empty quiz” was not published. It has no questions yet.")
    ]
    quiz.refresh_from_db()
    assert not quiz.is_published


def test_publish_button_ownership(client, instructor, other_instructor, learner, admin_user):
    quiz = gradable_quiz(other_instructor)

    # Anonymous and learners are sent to the admin login; the other instructor gets a 404.
    assert client.post(publish_url(quiz)).status_code == 302
    client.force_login(learner)
    assert client.post(publish_url(quiz)).url.startswith(reverse("admin:login"))
    client.force_login(instructor)
    assert client.post(publish_url(quiz)).status_code == 404
    quiz.refresh_from_db()
    assert not quiz.is_published
    # The owner's GET changes nothing.
    client.force_login(other_instructor)
    assert client.get(publish_url(quiz)).status_code == 405
    quiz.refresh_from_db()
    assert not quiz.is_published
    client.force_login(admin_user)
    assert client.post(publish_url(quiz)).status_code == 302
    quiz.refresh_from_db()
    assert quiz.is_published


def test_refused_list_publish_shows_no_success_line(client, instructor):
    AssessmentFactory(owner=instructor, is_published=False, title="Empty quiz")
    client.force_login(instructor)
    ids = list(Assessment.objects.values_list("pk", flat=True))

    response = client.post(ASSESSMENTS, {"action": "publish", "_selected_action": ids}, follow=True)

    assert messages_of(response) == [
        ("error", "“Empty quiz” was not published. It has no questions yet.")
    ]


GIFT = """$CATEGORY: $course$/top/arith

::half:: How many minutes are in half an hour?{#30:0}

::sum:: 2 + 2 = 4{T}
"""


def import_url(obj) -> str:
    return reverse("admin:assessments_assessment_import", args=[obj.pk])


def test_instructor_imports_gift_questions_from_the_assessment_page(client, instructor, skill):
    quiz = AssessmentFactory(owner=instructor, title="Units quiz")
    client.force_login(instructor)
    page = client.get(change_url(quiz)).content.decode()
    assert f'href="{import_url(quiz)}"' in page
    upload = SimpleUploadedFile("units.gift", GIFT.encode(), content_type="text/plain")

    response = client.post(import_url(quiz), {"file": upload, "format": "gift"}, follow=True)

    assert messages_of(response) == [
        ("success", "Imported 2 question(s) (1 numeric, 1 true / false).")
    ]
    assert [(q.kind, q.skill) for q in quiz.questions.order_by("order")] == [
        ("numeric", skill),
        ("true_false", skill),
    ]


def test_import_page_lists_every_problem_and_stores_nothing(client, instructor, skill):
    quiz = AssessmentFactory(owner=instructor)
    client.force_login(instructor)

    response = client.post(
        import_url(quiz), {"text": "Fine.{=a ~b}\n\nBad.{#x}\n\nAlso.{~a ~b}\n", "skill": skill.pk}
    )

    assert response.status_code == 200
    assert response.context["problems"] == [
        "Line 3: The answer “x” is not a number.",
        "Line 5: No answer is marked right (= or a positive ~%n% weight).",
    ]
    assert b"Line 3: The answer \xe2\x80\x9cx\xe2\x80\x9d is not a number." in response.content
    assert not quiz.questions.exists()


def test_import_dry_run_and_empty_form(client, instructor, skill):
    quiz = AssessmentFactory(owner=instructor)
    client.force_login(instructor)

    empty = client.post(import_url(quiz), {"text": "  "})
    dry = client.post(import_url(quiz), {"text": GIFT, "dry_run": "on"})

    assert empty.context["form"].non_field_errors() == ["Upload a file or paste the questions."]
    assert messages_of(dry) == [
        (
            "info",
            "The file is fine: 2 question(s) would be imported (1 numeric, 1 true / false). "
            "Nothing was stored.",
        )
    ]
    assert not quiz.questions.exists()


def test_import_page_ownership(client, instructor, other_instructor, learner):
    quiz = AssessmentFactory(owner=other_instructor)

    assert client.get(import_url(quiz)).status_code == 302
    client.force_login(learner)
    assert client.get(import_url(quiz)).url.startswith(reverse("admin:login"))
    client.force_login(instructor)
    assert client.get(import_url(quiz)).status_code == 404
    assert client.post(import_url(quiz), {"text": GIFT}).status_code == 404
    assert not quiz.questions.exists()
    client.force_login(other_instructor)
    assert client.get(import_url(quiz)).status_code == 200


def test_import_list_action_opens_the_import_page_for_one_assessment(client, instructor):
    quiz = AssessmentFactory(owner=instructor)
    other = AssessmentFactory(owner=instructor)
    client.force_login(instructor)

    one = client.post(ASSESSMENTS, {"action": "import_questions", "_selected_action": [quiz.pk]})
    two = client.post(
        ASSESSMENTS,
        {"action": "import_questions", "_selected_action": [quiz.pk, other.pk]},
        follow=True,
    )

    assert one.url == import_url(quiz)
    assert messages_of(two) == [
        ("warning", "Select exactly one assessment to import questions into.")
    ]


def test_review_and_retake_rules_typed_in_the_admin_are_stored(client, instructor):
    quiz = AssessmentFactory(owner=instructor)
    client.force_login(instructor)
    page = client.get(change_url(quiz))

    response = client.post(
        change_url(quiz),
        admin_form_data(
            page,
            max_attempts="3",
            min_minutes_between_attempts="60",
            show_answers="after_passing",
        ),
    )

    assert response.status_code == 302
    quiz.refresh_from_db()
    assert (quiz.max_attempts, quiz.min_minutes_between_attempts, quiz.show_answers) == (
        3,
        60,
        "after_passing",
    )
