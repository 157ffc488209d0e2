"""Starting and submitting an attempt leave the same trace through the page and the API
(see learning.tests.doors)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assessments import services
from assessments.models import AssessmentAttempt
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import SkillFactory
from learning.tests.doors import compare_doors
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db

DOORS = ["html", "api"]


@pytest.fixture
def quiz():
    python = SkillFactory(slug="python", name="Python")
    assessment = AssessmentFactory(title="Python quiz")
    questions = []
    for order in (1, 2):
        question = QuestionFactory(assessment=assessment, skill=python, order=order)
        right = ChoiceFactory(question=question, text="Right", is_correct=True, order=1)
        ChoiceFactory(question=question, text="Wrong", order=2)
        questions.append((question, right))
    return assessment, questions


@pytest.fixture
def html(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def api(learner):
    api = APIClient()
    api.force_authenticate(learner)
    return api


@pytest.mark.parametrize("door", DOORS)
def test_attempt_start(
    door, quiz, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    assessment, _ = quiz
    doors = {
        "html": lambda: html.post(reverse("assessments:start", args=[assessment.pk])),
        "api": lambda: api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json"),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.attempt_start(
            learner=other_learner, assessment=assessment, now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert trace.counts == {"assessments.AssessmentAttempt": 1}
    assert trace.rows["insights.PendingJob"] == []
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_attempt_submit(
    door, quiz, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    assessment, questions = quiz
    now = timezone.now()
    attempts = {
        someone.pk: services.attempt_start(learner=someone, assessment=assessment, now=now)
        for someone in (learner, other_learner)
    }
    (first, right), (second, _) = questions
    wrong = second.choices.get(text="Wrong")
    mine = attempts[learner.pk]
    doors = {
        "html": lambda: html.post(
            reverse("assessments:attempt", args=[mine.pk]),
            {f"q{first.pk}": str(right.pk), f"q{second.pk}": str(wrong.pk)},
        ),
        "api": lambda: api.post(
            f"/api/v1/attempts/{mine.pk}/submit/",
            {
                "responses": {
                    str(first.pk): {"choices": [right.pk]},
                    str(second.pk): {"choices": [wrong.pk]},
                }
            },
            format="json",
        ),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.attempt_submit(
            attempt=attempts[other_learner.pk],
            responses={first.pk: {"choices": [right.pk]}, second.pk: {"choices": [wrong.pk]}},
            now=timezone.now(),
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    mine = AssessmentAttempt.objects.get(pk=mine.pk)
    assert (mine.score, mine.passed) == (50, False)
    assert trace.counts["assessments.Answer"] == 2
    assert trace.rows["insights.PendingJob"] == [repr((LEARNER_FOLLOW_UP, "pending", 0))]
    assert trace.versions_moved == {"learner": True, "catalog": False}
