from __future__ import annotations

from decimal import Decimal

import pytest

from assessments.models import Answer, Assessment, Question
from assessments.tests.factories import (
    AssessmentFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
)
from catalog.tests.factories import SkillFactory
from insights.models import PendingJob

KEY_FIELDS = {"is_correct", "numeric_answer", "numeric_tolerance", "accepted_answers"}


def keys_in(value) -> set[str]:
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


@pytest.fixture
def quiz(instructor):
    python = SkillFactory(slug="python", name="Python")
    sql = SkillFactory(slug="sql", name="SQL")
    assessment = AssessmentFactory(owner=instructor, passing_score=60)
    choice_q = QuestionFactory(
        assessment=assessment, order=1, skill=python, explanation="Lists are mutable."
    )
    right = ChoiceFactory(question=choice_q, text="Mutable", is_correct=True)
    wrong = ChoiceFactory(question=choice_q, text="Immutable")
    numeric = NumericQuestionFactory(assessment=assessment, order=2, skill=sql, points=3)
    return assessment, choice_q, right, wrong, numeric


@pytest.mark.django_db
def test_learner_never_sees_the_key_before_submitting(as_user, learner, quiz):
    assessment, *_ = quiz
    api = as_user(learner)

    detail = api.get(f"/api/v1/assessments/{assessment.pk}/").json()
    started = api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json").json()
    reread = api.get(f"/api/v1/attempts/{started['id']}/").json()

    assert [q["prompt"] for q in detail["questions"]] == [q.prompt for q in Question.objects.all()]
    for payload in (detail, started, reread):
        assert not keys_in(payload) & (KEY_FIELDS | {"explanation"})
    assert started["review"] == []
    assert api.get(f"/api/v1/assessments/{assessment.pk}/questions/").status_code == 404


@pytest.mark.django_db
def test_submit_grades_with_breakdown_and_explanations(as_user, learner, quiz):
    assessment, choice_q, right, wrong, numeric = quiz
    api = as_user(learner)
    attempt = api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json").json()

    result = api.post(
        f"/api/v1/attempts/{attempt['id']}/submit/",
        {
            "responses": {
                str(choice_q.pk): {"choices": [wrong.pk]},
                str(numeric.pk): {"value": 3.145},
            }
        },
        format="json",
    ).json()
    again = api.post(
        f"/api/v1/attempts/{attempt['id']}/submit/",
        {"responses": {str(choice_q.pk): {"choices": [right.pk]}}},
        format="json",
    ).json()

    # 3 of 4 points (numeric within 0.01 of 3.14, choice wrong)
    assert (result["score"], result["passed"]) == ("75.00", True)
    assert {
        slug: (b["questions"], b["correct"]) for slug, b in result["skill_breakdown"].items()
    } == {"python": (1, 0), "sql": (1, 1)}
    first = result["review"][0]
    assert (first["is_correct"], first["explanation"]) == (False, "Lists are mutable.")
    assert result["review"][0]["correct_choice_ids"] == [right.pk]
    assert again["score"] == "75.00"
    assert PendingJob.objects.filter(
        task_name="insights.refresh_recommendations", kwargs={"learner_id": learner.pk}
    ).exists()
    assert Answer.objects.filter(attempt_id=attempt["id"]).count() == 2


@pytest.mark.django_db
def test_malformed_answers_are_400_and_nothing_is_stored(as_user, learner, quiz):
    assessment, choice_q, *_ = quiz
    api = as_user(learner)
    attempt = api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json").json()

    response = api.post(
        f"/api/v1/attempts/{attempt['id']}/submit/",
        {"responses": {str(choice_q.pk): {"choices": ["x"]}, "999999": {"value": 1}}},
        format="json",
    )

    assert response.status_code == 400
    messages = response.json()["error"]["fields"]["responses"]
    assert any("not part of this assessment" in m for m in messages)
    assert any("choice ids" in m for m in messages)
    assert not Answer.objects.exists()
    assert api.get(f"/api/v1/attempts/{attempt['id']}/").json()["submitted_at"] is None


@pytest.mark.django_db
def test_author_question_key_is_validated(as_user, instructor, quiz):
    assessment, *_ = quiz
    api = as_user(instructor)
    url = f"/api/v1/assessments/{assessment.pk}/questions/"

    two_right = api.post(
        url,
        {
            "kind": "single_choice",
            "prompt": "Pick one",
            "skill": "python",
            "choices": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}],
        },
        format="json",
    )
    numeric = api.post(
        url,
        {"kind": "numeric", "prompt": "2+2", "skill": "python", "numeric_answer": "4"},
        format="json",
    )

    assert two_right.status_code == 400
    assert two_right.json()["error"]["fields"] == {
        "choices": ["A single choice question needs exactly one correct choice (it has 2)."]
    }
    assert numeric.status_code == 201
    assert (numeric.json()["order"], Decimal(numeric.json()["numeric_answer"])) == (3, 4)


@pytest.mark.django_db
def test_unpublished_assessment_is_hidden_from_learners(as_user, learner, instructor):
    hidden = AssessmentFactory(owner=instructor, is_published=False)

    assert as_user(learner).get(f"/api/v1/assessments/{hidden.pk}/").status_code == 404
    start = as_user(learner).post("/api/v1/attempts/", {"assessment": hidden.pk}, format="json")
    assert start.status_code == 400
    assert "assessment" in start.json()["error"]["fields"]


@pytest.mark.django_db
def test_assessment_without_gradable_questions_cannot_be_published(as_user, instructor):
    api = as_user(instructor)

    response = api.post(
        "/api/v1/assessments/", {"title": "Empty", "is_published": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"is_published": ["It has no questions yet."]}
    assert api.post("/api/v1/assessments/", {"title": "Draft"}, format="json").status_code == 201


@pytest.mark.django_db
def test_an_author_sets_the_review_and_retake_rules_through_the_api(as_user, instructor):
    api = as_user(instructor)
    rules = {"max_attempts": 2, "min_minutes_between_attempts": 30, "show_answers": "never"}

    created = api.post("/api/v1/assessments/", {"title": "Checked", **rules}, format="json")
    assert created.status_code == 201
    changed = api.patch(
        f"/api/v1/assessments/{created.json()['id']}/", {"max_attempts": 3}, format="json"
    )

    assert changed.status_code == 200
    stored = Assessment.objects.get(pk=created.json()["id"])
    assert (stored.max_attempts, stored.min_minutes_between_attempts, stored.show_answers) == (
        3,
        30,
        "never",
    )
