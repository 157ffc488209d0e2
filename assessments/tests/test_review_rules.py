"""Review and retake rules per assessment (R-REVIEW): attempts, spacing, answer reveal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from assessments.models import Assessment
from assessments.rules import answers_visible, attempt_start_allowed
from assessments.services import attempt_start, attempt_submit
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
ShowAnswers = Assessment.ShowAnswers


def make_quiz(**rules) -> tuple[Assessment, int, int]:
    assessment = AssessmentFactory(**rules)
    question = QuestionFactory(assessment=assessment, explanation="Paris is the capital.")
    right = ChoiceFactory(question=question, is_correct=True, text="Paris")
    ChoiceFactory(question=question, text="Lyon")
    return assessment, question.pk, right.pk


def take(learner, assessment, responses: dict, *, at: datetime):
    attempt = attempt_start(learner=learner, assessment=assessment, now=at)
    return attempt_submit(attempt=attempt, responses=responses, now=at + timedelta(minutes=1))


def test_default_quiz_an_empty_first_attempt_reveals_nothing(learner):
    assessment, _question_id, _right_id = make_quiz()
    empty = take(learner, assessment, {}, at=NOW)
    api = APIClient()
    api.force_authenticate(learner)

    body = api.get(f"/api/v1/attempts/{empty.pk}/").json()

    assert body["answers_shown"] is False
    assert body["review"][0]["correct_choice_ids"] == []
    assert body["review"][0]["correct_answer"] == ""
    assert body["review"][0]["explanation"] == ""


def test_default_quiz_reveals_after_a_pass(learner):
    assessment, question_id, right_id = make_quiz()
    first = take(learner, assessment, {}, at=NOW)
    take(learner, assessment, {question_id: {"choices": [right_id]}}, at=NOW + timedelta(hours=1))

    first.refresh_from_db()
    assert answers_visible(attempt=first) is True


def test_default_quiz_reveals_after_the_last_allowed_attempt(learner):
    assessment, *_ = make_quiz(max_attempts=2)
    first = take(learner, assessment, {}, at=NOW)
    assert answers_visible(attempt=first) is False

    take(learner, assessment, {}, at=NOW + timedelta(hours=1))

    assert answers_visible(attempt=first) is True


def test_diagnostic_never_reveals_by_default(learner):
    assessment, question_id, right_id = make_quiz(kind=Assessment.Kind.DIAGNOSTIC, max_attempts=1)
    attempt = take(learner, assessment, {question_id: {"choices": [right_id]}}, at=NOW)

    assert answers_visible(attempt=attempt) is False


@pytest.mark.parametrize(
    ("rule", "max_attempts", "passed", "used_up", "shown"),
    [
        (ShowAnswers.IMMEDIATELY, None, False, False, True),
        (ShowAnswers.NEVER, 1, True, True, False),
        (ShowAnswers.AFTER_PASSING, 1, False, True, False),
        (ShowAnswers.AFTER_PASSING, None, True, False, True),
        (ShowAnswers.AFTER_LAST_ATTEMPT, None, True, False, False),
        (ShowAnswers.AFTER_LAST_ATTEMPT, 1, False, True, True),
        (ShowAnswers.AFTER_LAST_ATTEMPT_OR_PASSING, 3, False, False, False),
        (ShowAnswers.AFTER_LAST_ATTEMPT_OR_PASSING, 3, True, False, True),
    ],
)
def test_each_show_answers_option(learner, rule, max_attempts, passed, used_up, shown):
    assessment, question_id, right_id = make_quiz(show_answers=rule, max_attempts=max_attempts)
    responses = {question_id: {"choices": [right_id]}} if passed else {}
    attempt = take(learner, assessment, responses, at=NOW)

    assert attempt.passed is passed
    assert answers_visible(attempt=attempt) is shown


def test_max_attempts_refuses_a_further_start(learner):
    assessment, *_ = make_quiz(max_attempts=1)
    take(learner, assessment, {}, at=NOW)

    with pytest.raises(ValidationError, match="used all 1 attempt at this quiz"):
        attempt_start(learner=learner, assessment=assessment, now=NOW + timedelta(days=1))


def test_unlimited_attempts_allow_another_start(learner):
    assessment, *_ = make_quiz()
    for day in range(3):
        take(learner, assessment, {}, at=NOW + timedelta(days=day))

    assert (
        attempt_start_allowed(learner=learner, assessment=assessment, now=NOW + timedelta(days=4))
        is None
    )


def test_min_time_between_attempts(learner):
    assessment, *_ = make_quiz(min_minutes_between_attempts=60)
    take(learner, assessment, {}, at=NOW)  # submitted at NOW + 1 min

    too_soon = attempt_start_allowed(
        learner=learner, assessment=assessment, now=NOW + timedelta(minutes=31)
    )
    later = attempt_start_allowed(
        learner=learner, assessment=assessment, now=NOW + timedelta(minutes=61)
    )

    assert too_soon is not None and "in 30 minutes" in too_soon
    assert later is None


def test_an_open_attempt_can_always_be_resumed(learner):
    assessment, *_ = make_quiz(max_attempts=1)
    opened = attempt_start(learner=learner, assessment=assessment, now=NOW)

    again = attempt_start(learner=learner, assessment=assessment, now=NOW + timedelta(minutes=5))

    assert again.pk == opened.pk


def test_api_start_beyond_max_attempts_is_a_400(learner):
    assessment, *_ = make_quiz(max_attempts=1)
    take(learner, assessment, {}, at=NOW)
    api = APIClient()
    api.force_authenticate(learner)

    response = api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json")

    assert response.status_code == 400
    assert "used all 1 attempt" in response.json()["error"]["fields"]["assessment"][0]


def test_result_page_hides_the_key_until_the_rule_allows(client, learner):
    assessment, _question_id, _right_id = make_quiz(max_attempts=2)
    first = take(learner, assessment, {}, at=NOW)
    client.force_login(learner)

    hidden = client.get(f"/assessments/attempts/{first.pk}/").content.decode()
    take(learner, assessment, {}, at=NOW + timedelta(hours=1))
    shown = client.get(f"/assessments/attempts/{first.pk}/").content.decode()

    assert "Paris" not in hidden and "Paris is the capital." not in hidden
    assert "after your last allowed attempt or once you pass" in hidden
    assert "<dt>Correct answer" not in hidden and "✓ Correct answer" not in hidden
    assert "Paris is the capital." in shown
    assert re.search(r"Paris</span>\s*<span class=\"badge ok\">✓ Correct answer", shown)


def test_result_page_refuses_a_start_beyond_the_limit(client, learner):
    assessment, *_ = make_quiz(max_attempts=1)
    take(learner, assessment, {}, at=NOW)
    client.force_login(learner)

    response = client.post(f"/assessments/{assessment.pk}/start/", follow=True)

    assert "used all 1 attempt" in response.content.decode()
    assert assessment.attempts.count() == 1
