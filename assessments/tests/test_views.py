from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import AssessmentAttempt, Question
from assessments.tests.factories import (
    AssessmentAttemptFactory,
    AssessmentFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
    ShortTextQuestionFactory,
)
from catalog.tests.factories import SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz():
    """One question of every kind, all on the skill "python"."""
    python = SkillFactory(slug="python", name="Python")
    assessment = AssessmentFactory(title="Python quiz", passing_score=60)
    single = QuestionFactory(assessment=assessment, skill=python, order=1, prompt="Pick 2")
    ChoiceFactory(question=single, text="2", is_correct=True)
    ChoiceFactory(question=single, text="3")
    multi = QuestionFactory(
        assessment=assessment,
        skill=python,
        order=2,
        kind=Question.Kind.MULTIPLE_CHOICE,
        prompt="Pick the even numbers",
    )
    ChoiceFactory(question=multi, text="4", is_correct=True)
    ChoiceFactory(question=multi, text="6", is_correct=True)
    ChoiceFactory(question=multi, text="7")
    true_false = QuestionFactory(
        assessment=assessment,
        skill=python,
        order=3,
        kind=Question.Kind.TRUE_FALSE,
        prompt="Lists are mutable",
        explanation="You can append to a list in place.",
    )
    ChoiceFactory(question=true_false, text="True", is_correct=True)
    ChoiceFactory(question=true_false, text="False")
    NumericQuestionFactory(assessment=assessment, skill=python, order=4, prompt="Pi to 2 places")
    ShortTextQuestionFactory(assessment=assessment, skill=python, order=5, prompt="Framework?")
    return assessment


def _correct_form(assessment) -> dict:
    data = {}
    for question in assessment.questions.prefetch_related("choices"):
        correct = [str(c.pk) for c in question.choices.all() if c.is_correct]
        if question.kind == Question.Kind.MULTIPLE_CHOICE:
            data[f"q{question.pk}"] = correct
        elif question.has_choices:
            data[f"q{question.pk}"] = correct[0]
        elif question.kind == Question.Kind.NUMERIC:
            data[f"q{question.pk}"] = "3.14"
        else:
            data[f"q{question.pk}"] = "  Django "
    return data


def _start(client, assessment) -> AssessmentAttempt:
    response = client.post(reverse("assessments:start", args=[assessment.pk]))
    assert response.status_code == 302
    return AssessmentAttempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_attempt_form_shows_every_question_kind_without_the_key(client, learner, quiz):
    client.force_login(learner)
    attempt = _start(client, quiz)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert html.count('type="radio"') == 4  # single choice (2) + true/false (2)
    assert html.count('type="checkbox"') == 3
    assert 'inputmode="decimal"' in html
    assert "Framework?" in html
    assert "You can append to a list" not in html  # explanations only after submitting


def test_all_correct_submission_scores_100_and_explains(client, learner, quiz):
    client.force_login(learner)
    attempt = _start(client, quiz)
    url = reverse("assessments:attempt", args=[attempt.pk])

    response = client.post(url, _correct_form(quiz), follow=True)

    html = response.content.decode()
    attempt.refresh_from_db()
    assert attempt.score == Decimal("100.00")
    assert attempt.passed is True
    assert "You can append to a list in place." in html
    # The skill breakdown row for Python.
    assert '<td data-label="Answers">5 of 5 answered correctly</td>' in html
    assert "Passed" in html


def test_blank_answers_count_as_wrong_and_show_the_key(client, learner, quiz):
    client.force_login(learner)
    attempt = _start(client, quiz)
    data = _correct_form(quiz)
    numeric = quiz.questions.get(order=4)
    data.pop(f"q{numeric.pk}")

    html = client.post(
        reverse("assessments:attempt", args=[attempt.pk]),
        {**data, "submit_anyway": "1"},
        follow=True,
    ).content.decode()

    attempt.refresh_from_db()
    assert attempt.score == Decimal("80.00")  # 4 of 5 equal-point questions
    assert "<dt>Correct answer</dt><dd>3.14 ± 0.01</dd>" in html


def test_double_submit_keeps_one_attempt_and_the_first_result(client, learner, quiz):
    client.force_login(learner)
    attempt = _start(client, quiz)
    url = reverse("assessments:attempt", args=[attempt.pk])

    client.post(url, _correct_form(quiz))
    second = client.post(url, {})  # a replayed or edited form after submitting

    assert second.status_code == 302
    assert AssessmentAttempt.objects.filter(learner=learner).count() == 1
    attempt.refresh_from_db()
    assert attempt.score == Decimal("100.00")
    assert attempt.answers.count() == 5


def test_unreadable_number_is_a_form_error_and_nothing_is_stored(client, learner, quiz):
    client.force_login(learner)
    attempt = _start(client, quiz)
    numeric = quiz.questions.get(order=4)

    response = client.post(
        reverse("assessments:attempt", args=[attempt.pk]), {f"q{numeric.pk}": "three"}
    )

    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_another_learners_attempt_is_404(client, learner, other_learner, quiz):
    attempt = AssessmentAttemptFactory(learner=other_learner, assessment=quiz)
    client.force_login(learner)

    url = reverse("assessments:attempt", args=[attempt.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _correct_form(quiz)).status_code == 404
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_unpublished_assessment_is_404(client, learner):
    draft = AssessmentFactory(is_published=False)
    client.force_login(learner)

    assert client.get(reverse("assessments:detail", args=[draft.pk])).status_code == 404
    assert client.post(reverse("assessments:start", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize("name", ["assessments:detail", "assessments:attempt"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name, args=[1]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_attempt_times_are_in_the_learners_zone_and_labelled(client, learner, quiz):
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    client.force_login(learner)
    attempt = _start(client, quiz)
    started = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    AssessmentAttempt.objects.filter(pk=attempt.pk).update(started_at=started)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "started 20 Nov 2026, 13:00 Europe/Berlin" in html
