"""QA walk (issue 13): the diagnostic's progress list said "SQL: you said you don't know it
yet" after one SQL answer and then "I don't know" twice. A skill stopped by "I don't know"
after some answers says how many were answered (not how many were right: an adaptive
attempt marks nothing until its result page), on the page and in the API alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import AssessmentAttempt
from assessments.tests.adaptive import choice_for, make_bank
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db
SQL_STOPPED = "SQL: 1 answered, then you said you don&#x27;t know the rest (3 questions)"


@pytest.fixture
def diagnostic(learner):
    """A diagnostic on Python, SQL and Testing: Python declined outright, then one SQL answer
    and two "I don't know" on SQL, Testing still to come."""
    bank = make_bank(("python", "sql", "testing"))
    goal = LearningGoalFactory(learner=learner)
    for slug in ("python", "sql", "testing"):
        GoalSkillFactory(goal=goal, skill=bank["skills"][slug])
    return bank["diagnostic"]


def _answer(client, attempt: AssessmentAttempt, right: bool | None) -> None:
    attempt.refresh_from_db()
    question = attempt.current_question_id
    url = reverse("assessments:attempt", args=[attempt.pk])
    if right is None:
        response = client.post(url, {"question": question, "dont_know": "1"})
    else:
        response = client.post(
            url, {"question": question, f"q{question}": choice_for(question, right)}
        )
    assert response.status_code == 302, response.content[:400]


def test_a_skill_declined_after_an_answer_says_so_on_the_page_and_in_the_api(
    client, as_user, learner, diagnostic
):
    client.force_login(learner)
    response = client.post(reverse("assessments:start", args=[diagnostic.pk]))
    attempt = AssessmentAttempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    for right in (None, None, True, None, None):  # Python: declined; SQL: 1, then declined
        _answer(client, attempt, right)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "Python: you said you don&#x27;t know it yet (2 questions)" in html
    assert SQL_STOPPED in html
    assert "SQL: you said you don" not in html
    assert "Testing: in progress" in html
    api = as_user(learner).get(f"/api/v1/attempts/{attempt.pk}/next-question/").json()
    statuses = {skill["skill"]: skill["status"] for skill in api["skills"]}
    assert statuses == {
        "python": "you said you don't know it yet",
        "sql": "1 answered, then you said you don't know the rest",
        "testing": "in progress",
    }
    assert {skill["skill"]: skill["stop_reason"] for skill in api["skills"]}["sql"] == "declined"
