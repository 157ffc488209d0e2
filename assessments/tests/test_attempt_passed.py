"""QA walk (issue 13): the API marked a diagnostic attempt `passed: true`, which means nothing
for an assessment that only measures. Diagnostics and skill checks say `passed: null`;
quizzes and course challenges keep true or false (the API, its schema, the xAPI export), on
the demo catalogue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment, AssessmentAttempt
from assessments.services import attempt_start, course_challenge_start, skill_check_start
from assessments.tests.adaptive import run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Course, Skill
from insights.tests.helpers import quiz_attempt
from learning.xapi import attempt_statement

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def attempts():
    """A learner's diagnostic, skill check, course challenge (all answered right: each
    scores 100 and is stored as passed) and a failed quiz."""
    seed_demo(now=NOW - timedelta(days=2))
    learner = LearnerFactory()
    start = NOW - timedelta(hours=3)
    diagnostic = attempt_start(
        learner=learner,
        assessment=Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC),
        now=start,
    )
    run_to_end(diagnostic, lambda question: True, start=start)
    start += timedelta(hours=1)
    check = skill_check_start(learner=learner, skill=Skill.objects.get(slug="git"), now=start)
    run_to_end(check, lambda question: True, start=start)
    start += timedelta(hours=1)
    challenge = course_challenge_start(
        learner=learner, course=Course.objects.get(title="SQL and PostgreSQL"), now=start
    )
    run_to_end(challenge, lambda question: True, start=start)
    quiz = quiz_attempt(
        learner,
        at=NOW - timedelta(minutes=5),
        assessment=Assessment.objects.filter(kind=Assessment.Kind.QUIZ).first(),
        score=10,
    )
    return learner, {
        kind: AssessmentAttempt.objects.get(learner=learner, assessment__kind=kind)
        for kind in ("diagnostic", "skill_check", "course_challenge")
    } | {"quiz": quiz}


def test_measuring_attempts_have_no_pass_in_the_api(as_user, attempts):
    learner, by_kind = attempts
    # What the model stores for them is a score against a passing score nobody is shown.
    assert by_kind["diagnostic"].passed is True and by_kind["skill_check"].passed is True
    api = as_user(learner)

    listed = {row["id"]: row["passed"] for row in api.get("/api/v1/attempts/").json()["results"]}
    detail = {
        kind: api.get(f"/api/v1/attempts/{attempt.pk}/").json()["passed"]
        for kind, attempt in by_kind.items()
    }

    expected = {"diagnostic": None, "skill_check": None, "course_challenge": True, "quiz": False}
    assert detail == expected
    assert {kind: listed[attempt.pk] for kind, attempt in by_kind.items()} == expected
    success = {
        kind: attempt_statement(attempt)["result"].get("success")
        for kind, attempt in by_kind.items()
    }
    assert success == expected


def test_the_schema_documents_a_nullable_passed(as_user, learner):
    schema = as_user(learner).get("/api/schema/?format=json").json()
    passed = schema["components"]["schemas"]["Attempt"]["properties"]["passed"]

    assert passed["nullable"] is True
    assert "diagnostic or skill check" in passed["description"]
