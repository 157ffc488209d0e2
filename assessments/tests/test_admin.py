from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Assessment, Choice, Question
from assessments.tests.factories import (
    AnswerFactory,
    AssessmentAttemptFactory,
    AssessmentFactory,
    ChoiceFactory,
    QuestionFactory,
)
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import CourseFactory, SkillFactory

pytestmark = pytest.mark.django_db

ASSESSMENTS = reverse("admin:assessments_assessment_changelist")
QUESTIONS = reverse("admin:assessments_question_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:assessments_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def quiz_of_b(other_instructor):
    quiz = AssessmentFactory(title="Borrow checker quiz", owner=other_instructor)
    QuestionFactory(assessment=quiz, prompt="What does &mut mean?")
    return quiz


def choices_data(*rows: tuple[str, bool]) -> dict[str, str]:
    data = {
        "choices-TOTAL_FORMS": str(len(rows)),
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for i, (text, correct) in enumerate(rows):
        data[f"choices-{i}-order"] = str(i + 1)
        data[f"choices-{i}-text"] = text
        if correct:
            data[f"choices-{i}-is_correct"] = "on"
    return data


def test_instructor_b_assessments_are_invisible_to_a(client, instructor, quiz_of_b):
    own = AssessmentFactory(title="Django ORM quiz", owner=instructor)
    client.force_login(instructor)

    listing = client.get(ASSESSMENTS)
    questions = client.get(QUESTIONS)

    assert b"Django ORM quiz" in listing.content
    assert b"Borrow checker quiz" not in listing.content
    assert b"What does &amp;mut mean?" not in questions.content
    assert client.get(change_url(quiz_of_b)).status_code == 404
    assert client.get(change_url(quiz_of_b.questions.get())).status_code == 404
    assert client.get(change_url(own)).status_code == 200


def test_learner_is_sent_to_admin_login(client, learner):
    client.force_login(learner)

    response = client.get(ASSESSMENTS)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_admin_sees_all_assessments(client, admin_user, instructor, quiz_of_b):
    AssessmentFactory(title="Django ORM quiz", owner=instructor)
    client.force_login(admin_user)

    listing = client.get(ASSESSMENTS)

    assert b"Django ORM quiz" in listing.content
    assert b"Borrow checker quiz" in listing.content


def test_assessment_form_offers_only_own_courses_and_sets_owner(
    client, instructor, other_instructor
):
    mine = CourseFactory(owner=instructor, title="Mine")
    CourseFactory(owner=other_instructor, title="Theirs")
    client.force_login(instructor)
    page = client.get(reverse("admin:assessments_assessment_add"))
    assert set(page.context["adminform"].form.fields["course"].queryset) == {mine}

    response = client.post(
        reverse("admin:assessments_assessment_add"),
        admin_form_data(page, title="Checkpoint", kind="quiz", course=str(mine.pk)),
    )

    assert response.status_code == 302
    created = Assessment.objects.get(title="Checkpoint")
    assert (created.owner, created.course, created.is_published) == (instructor, mine, False)


def test_question_with_choices_is_created_through_the_inline(client, instructor):
    quiz = AssessmentFactory(owner=instructor)
    skill = SkillFactory(slug="git", name="Git")
    client.force_login(instructor)
    page = client.get(reverse("admin:assessments_question_add"))
    data = admin_form_data(
        page,
        assessment=str(quiz.pk),
        order="1",
        kind="single_choice",
        prompt="Which command creates a repository?",
        skill=str(skill.pk),
        points="1",
        explanation="`git init` creates the .git folder.",
    )
    data.update(choices_data(("git init", True), ("git start", False)))

    response = client.post(reverse("admin:assessments_question_add"), data)

    assert response.status_code == 302
    question = Question.objects.get(assessment=quiz)
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [
        ("git init", True),
        ("git start", False),
    ]


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        (
            "single_choice",
            [("a", True), ("b", True)],
            "A single choice question needs exactly one correct choice (it has 2).",
        ),
        ("multiple_choice", [("a", False), ("b", False)], "Mark at least one choice as correct."),
        (
            "true_false",
            [("True", True)],
            "A true / false question needs exactly two choices (it has 1).",
        ),
        (
            "numeric",
            [("3", True)],
            "A numeric question is graded without choices: remove its 1 choice(s).",
        ),
    ],
)
def test_ungradable_choices_are_rejected(client, instructor, kind, rows, message):
    quiz = AssessmentFactory(owner=instructor)
    skill = SkillFactory(slug="python", name="Python")
    client.force_login(instructor)
    page = client.get(reverse("admin:assessments_question_add"))
    data = admin_form_data(
        page,
        assessment=str(quiz.pk),
        order="1",
        kind=kind,
        prompt="?",
        skill=str(skill.pk),
        points="1",
        numeric_answer="3",
        numeric_tolerance="0",
    )
    data.update(choices_data(*rows))

    response = client.post(reverse("admin:assessments_question_add"), data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [message]
    assert not Question.objects.exists()


def test_numeric_and_short_text_questions_need_their_answer_key(client, instructor):
    quiz = AssessmentFactory(owner=instructor)
    skill = SkillFactory(slug="sql", name="SQL")
    client.force_login(instructor)
    page = client.get(reverse("admin:assessments_question_add"))
    base = {"assessment": str(quiz.pk), "order": "1", "prompt": "?", "skill": str(skill.pk)}

    numeric = client.post(
        reverse("admin:assessments_question_add"),
        admin_form_data(page, kind="numeric", **base),
    )
    short = client.post(
        reverse("admin:assessments_question_add"),
        admin_form_data(page, kind="short_text", accepted_answers=" \n  \n", **base),
    )

    assert numeric.context["adminform"].form.errors["numeric_answer"] == [
        "A numeric question needs the correct number."
    ]
    assert short.context["adminform"].form.errors["accepted_answers"] == [
        "A short-text question needs at least one accepted answer."
    ]


def test_publish_action_only_touches_own_assessments(client, instructor, quiz_of_b):
    quiz_of_b.is_published = False
    quiz_of_b.save()
    own = AssessmentFactory(owner=instructor, is_published=False)
    gradable = QuestionFactory(assessment=own, kind="true_false")
    ChoiceFactory(question=gradable, text="True", is_correct=True)
    ChoiceFactory(question=gradable, text="False")
    client.force_login(instructor)

    client.post(ASSESSMENTS, {"action": "publish", "_selected_action": [own.pk, quiz_of_b.pk]})

    own.refresh_from_db()
    quiz_of_b.refresh_from_db()
    assert (own.is_published, quiz_of_b.is_published) == (True, False)


def test_instructor_views_attempts_on_own_assessments_read_only(
    client, instructor, learner, quiz_of_b
):
    own = AssessmentFactory(owner=instructor, title="Own quiz")
    mine = AssessmentAttemptFactory(assessment=own, learner=learner)
    theirs = AssessmentAttemptFactory(assessment=quiz_of_b, learner=learner)
    client.force_login(instructor)

    page = client.get(change_url(mine))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.get(change_url(theirs)).status_code == 404
    assert client.post(change_url(mine), {"score": "100"}).status_code == 403


def test_choice_rows_are_not_reachable_outside_their_question(client, instructor):
    ChoiceFactory(text="secret answer", is_correct=True)
    client.force_login(instructor)

    # Choice has no admin of its own: the answer key is edited only inside its question.
    assert Choice.objects.count() == 1
    response = client.get("/admin/assessments/choice/")
    assert response.status_code == 404


def test_answered_question_cannot_be_deleted(client, instructor, learner):
    quiz = AssessmentFactory(owner=instructor)
    question = QuestionFactory(assessment=quiz, prompt="Pick one")
    attempt = AssessmentAttemptFactory(assessment=quiz, learner=learner)
    AnswerFactory(attempt=attempt, question=question)
    client.force_login(instructor)

    response = client.post(
        reverse("admin:assessments_question_delete", args=[question.pk]), {"post": "yes"}
    )

    assert response.context["protected"] == [
        f"Question {question.order} of “{quiz.title}”: 1 learner answer(s); "
        "edit it instead of deleting it."
    ]
    assert Question.objects.filter(pk=question.pk).exists()


def test_publish_refuses_assessments_learners_could_not_be_graded_on(client, instructor):
    empty = AssessmentFactory(owner=instructor, is_published=False, title="Empty quiz")
    broken = AssessmentFactory(owner=instructor, is_published=False, title="Broken quiz")
    question = QuestionFactory(assessment=broken, order=1, kind="single_choice")
    ChoiceFactory(question=question, text="a")
    ChoiceFactory(question=question, text="b")
    client.force_login(instructor)

    response = client.post(
        ASSESSMENTS,
        {"action": "publish", "_selected_action": [empty.pk, broken.pk]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "“Broken quiz” was not published. Question 1: A single choice question needs "
        "exactly one correct choice (it has 0).",
        "“Empty quiz” was not published. It has no questions yet.",
    ]
    assert not Assessment.objects.filter(is_published=True).exists()
