"""The result page teaches: the learner's answer beside the right one, why, Markdown, and
diagnostics that are measurements, not exams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import Assessment, Question
from assessments.services import attempt_start, attempt_submit
from assessments.tests.factories import (
    AssessmentFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SHOW = Assessment.ShowAnswers


def take(learner, assessment, responses):
    attempt = attempt_start(learner=learner, assessment=assessment, now=NOW)
    return attempt_submit(attempt=attempt, responses=responses, now=NOW + timedelta(minutes=2))


def _review_quiz():
    quiz = AssessmentFactory(show_answers=SHOW.IMMEDIATELY)
    multi = QuestionFactory(
        assessment=quiz,
        order=1,
        kind=Question.Kind.MULTIPLE_CHOICE,
        points=2,
        partial_credit=True,
        prompt="Which calls return a `list`?",
        explanation="`sorted()` **always** returns a new list.",
    )
    right = ChoiceFactory(question=multi, is_correct=True, text="`sorted(x)`")
    other_right = ChoiceFactory(question=multi, is_correct=True, text="`list(x)`")
    wrong = ChoiceFactory(question=multi, text="`reversed(x)`")
    numeric = NumericQuestionFactory(assessment=quiz, order=2)
    return quiz, multi, (right, other_right, wrong), numeric


def test_result_shows_the_learners_answer_beside_the_correct_one(client, learner):
    quiz, multi, (right, _other, wrong), numeric = _review_quiz()
    attempt = take(
        learner,
        quiz,
        {multi.pk: {"choices": [right.pk, wrong.pk]}, numeric.pk: {"value": "2.5"}},
    )
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    # Markdown in prompts, choices and explanations is rendered, never raw backticks.
    assert "<code>list</code>" in html and "`list`" not in html
    assert "<code>sorted(x)</code></span>" in html
    assert "<strong>always</strong>" in html
    # Each choice says whether the learner picked it and whether it is right, in words.
    assert html.count("Your answer</span>") == 2
    assert "✗ Wrong pick" in html
    assert html.count("✓ Correct answer") == 2
    # Numeric: the learner's value and the key.
    assert "<dt>Your answer</dt><dd>2.5</dd>" in html
    assert "<dt>Correct answer</dt><dd>3.14 ± 0.01</dd>" in html


def test_a_numeric_answer_stored_with_trailing_zeros_shows_as_typed(client, learner):
    # The QA walk: the diagnostic's result showed "30.0000" (the form's decimal).
    quiz, _multi, _choices, numeric = _review_quiz()
    attempt = take(learner, quiz, {numeric.pk: {"value": "30.0000"}})
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "<dt>Your answer</dt><dd>30</dd>" in html


def test_partial_credit_shows_as_partly_correct(client, learner):
    quiz, multi, (right, _other, _wrong), _numeric = _review_quiz()
    attempt = take(learner, quiz, {multi.pk: {"choices": [right.pk]}})
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "◐ Partly correct" in html
    assert "1 / 2 points" in html
    assert attempt.score == Decimal("33.33")  # 1 of 3 points (2 + the blank numeric 1)


def test_hidden_key_still_shows_the_learners_own_answer(client, learner):
    quiz = AssessmentFactory(show_answers=SHOW.NEVER)
    question = QuestionFactory(assessment=quiz)
    ChoiceFactory(question=question, is_correct=True, text="Paris")
    lyon = ChoiceFactory(question=question, text="Lyon")
    attempt = take(learner, quiz, {question.pk: {"choices": [lyon.pk]}})
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "<dt>Your answer</dt><dd>Lyon</dd>" in html
    assert "Paris" not in html
    assert "<dt>Correct answer" not in html


def test_another_learner_cannot_see_the_review_and_anonymous_must_log_in(
    client, learner, other_learner
):
    quiz, multi, (right, *_), _numeric = _review_quiz()
    attempt = take(learner, quiz, {multi.pk: {"choices": [right.pk]}})
    url = reverse("assessments:attempt", args=[attempt.pk])

    anonymous = client.get(url)
    client.force_login(other_learner)
    other = client.get(url)

    assert anonymous.status_code == 302
    assert other.status_code == 404


def test_diagnostic_result_has_no_pass_mark_or_pass_fail(client, learner):
    diagnostic = AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC, passing_score=60)
    question = QuestionFactory(assessment=diagnostic)
    right = ChoiceFactory(question=question, is_correct=True)
    ChoiceFactory(question=question)
    attempt = take(learner, diagnostic, {question.pk: {"choices": [right.pk]}})
    client.force_login(learner)

    result = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()
    detail = client.get(reverse("assessments:detail", args=[diagnostic.pk])).content.decode()

    for html in (result, detail):
        assert "Pass mark" not in html
        assert "Passed" not in html and "passed</span>" not in html
    assert "does not count in your quiz average" in result


def test_hidden_key_shows_the_learners_pick_as_markdown_not_raw_backticks(client, learner):
    quiz = AssessmentFactory(show_answers=SHOW.NEVER)
    question = QuestionFactory(assessment=quiz, prompt="What is the type of `3 / 2`?")
    ChoiceFactory(question=question, is_correct=True, text="`float`")
    integer = ChoiceFactory(question=question, text="`int`")
    attempt = take(learner, quiz, {question.pk: {"choices": [integer.pk]}})
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "<dt>Your answer</dt><dd><code>int</code></dd>" in html
    assert "<code>3 / 2</code>" in html
    assert "`" not in html.split('id="review-heading"')[1]
    assert "float" not in html


def test_quiz_form_renders_prompts_and_choices_as_markdown(client, learner):
    quiz = AssessmentFactory(show_answers=SHOW.IMMEDIATELY)
    choice_question = QuestionFactory(
        assessment=quiz, order=1, prompt="What does `[1, 2, 3][-1]` evaluate to?"
    )
    ChoiceFactory(question=choice_question, is_correct=True, text="`3`")
    ChoiceFactory(question=choice_question, text="`IndexError`")
    numeric = NumericQuestionFactory(assessment=quiz, order=2, prompt="What is `len('abc')`?")
    client.force_login(learner)

    response = client.post(reverse("assessments:start", args=[quiz.pk]), follow=True)
    html = response.content.decode()

    assert response.status_code == 200
    assert "<legend>1. What does <code>[1, 2, 3][-1]</code> evaluate to?</legend>" in html
    assert "<span><code>IndexError</code></span>" in html
    label = f"<label for=\"id_q{numeric.pk}\">2. What is <code>len('abc')</code>?</label>"
    assert label in html
    assert f'id="id_q{numeric.pk}_helptext"' in html
    assert "`" not in html.split('id="attempt-form"')[1]


def test_html_typed_in_a_question_is_shown_as_typed_not_dropped(client, learner):
    """A question about HTML names tags in its text; the Markdown cleaning must show them,
    not strip them (a choice "<main>" rendered as an empty radio button before)."""
    quiz = AssessmentFactory(show_answers=SHOW.IMMEDIATELY)
    question = QuestionFactory(
        assessment=quiz, order=1, prompt="Every form input should have an associated <label>."
    )
    ChoiceFactory(question=question, is_correct=True, text="<main>")
    ChoiceFactory(question=question, text="<div id='main'><script>alert(1)</script>")
    client.force_login(learner)

    html = client.post(reverse("assessments:start", args=[quiz.pk]), follow=True).content.decode()

    form = html.split('id="attempt-form"')[1]
    assert "should have an associated &lt;label&gt;.</legend>" in form
    assert "<span>&lt;main&gt;</span>" in form
    assert "<span>&lt;div id='main'&gt;&lt;script&gt;alert(1)&lt;/script&gt;</span>" in form
    assert "<script>alert" not in form
