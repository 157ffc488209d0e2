"""Blank questions on the result page and in the API: "x of y answered correctly, z left blank".

The README's rule: a question left blank scores zero in the quiz's own score but is no
evidence of a skill, so "correct" is counted among the answered questions and the blank
ones are named apart, the same way on the page and in the API (list and detail).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import AssessmentAttempt
from assessments.services import attempt_start, attempt_submit
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(learner):
    """A quiz of four: python right, python wrong, python blank; sql blank."""
    python = SkillFactory(slug="python", name="Python")
    sql = SkillFactory(slug="sql", name="SQL")
    quiz = AssessmentFactory(title="Basics quiz", passing_score=50)
    responses = {}
    for order, (skill, pick) in enumerate(
        [(python, True), (python, False), (python, None), (sql, None)], start=1
    ):
        question = QuestionFactory(assessment=quiz, skill=skill, order=order)
        right = ChoiceFactory(question=question, text="Right", is_correct=True, order=1)
        wrong = ChoiceFactory(question=question, text="Wrong", order=2)
        if pick is not None:
            responses[question.pk] = {"choices": [(right if pick else wrong).pk]}
    attempt = attempt_start(learner=learner, assessment=quiz, now=_now())
    return attempt_submit(attempt=attempt, responses=responses, now=_now())


def _now():
    from django.utils import timezone

    return timezone.now()


def test_the_result_page_counts_correct_among_the_answered_and_blank_apart(
    client, learner, attempt
):
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    # The whole attempt: 1 right of the 2 answered; the 2 blank ones named apart.
    assert "1 of 2 answered correctly, 2 left blank." in html
    # Python's row: 1 of 2 answered (50 % of answered), 1 blank; sql: none answered.
    assert '<td data-label="Answers">1 of 2 answered correctly, 1 left blank' in html
    assert '<td data-label="Score of answered">50%</td>' in html
    assert '<td data-label="Answers">none answered: the question left blank' in html
    assert "0 of 0" not in html
    assert '<td data-label="Score of answered">\u2013</td>' in html  # none answered
    # The old column counted blanks as questions answered wrong.
    assert "1 / 3" not in html
    # The quiz's own score still counts blanks as zero (1 of 4), and says so.
    assert "<dd>25%</dd>" in html
    assert "they score zero" in html


def test_the_api_carries_the_same_counts_in_detail_and_list(as_user, learner, attempt):
    api = as_user(learner)

    detail = api.get(f"/api/v1/attempts/{attempt.pk}/").json()
    listed = api.get("/api/v1/attempts/").json()

    expected = {
        "questions": 4,
        "answered": 2,
        "correct": 1,
        "blank": 2,
        "answered_percent": 50.0,
        "summary": "1 of 2 answered correctly, 2 left blank",
    }
    assert detail["answer_counts"] == expected
    (row,) = listed["results"]
    assert row["answer_counts"] == expected
    python = detail["skill_breakdown"]["python"]["answer_counts"]
    assert python["summary"] == "1 of 2 answered correctly, 1 left blank"
    assert python["answered_percent"] == 50.0
    sql = detail["skill_breakdown"]["sql"]["answer_counts"]
    assert (sql["answered"], sql["blank"], sql["answered_percent"]) == (0, 1, None)
    assert sql["summary"] == "none answered: the question left blank"


def test_an_open_attempt_has_no_counts_yet(as_user, learner):
    quiz = AssessmentFactory(title="Open quiz")
    QuestionFactory(assessment=quiz, order=1)
    attempt = attempt_start(learner=learner, assessment=quiz, now=_now())

    detail = as_user(learner).get(f"/api/v1/attempts/{attempt.pk}/").json()

    assert detail["answer_counts"] is None


def test_the_result_is_the_owners_only(client, api, learner, other_learner, attempt):
    url = reverse("assessments:attempt", args=[attempt.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert api.get(f"/api/v1/attempts/{attempt.pk}/").status_code == 401
    client.force_login(other_learner)
    assert client.get(url).status_code == 404
    api.force_authenticate(other_learner)
    assert api.get(f"/api/v1/attempts/{attempt.pk}/").status_code == 404
    assert AssessmentAttempt.objects.get(pk=attempt.pk).learner == learner
