"""The demo world's diagnostic runs adaptively on its question bank."""

from __future__ import annotations

from collections import Counter

import pytest

from accounts.services import user_register
from assessments.models import Assessment
from assessments.services import attempt_start
from assessments.tests.adaptive import NOW, run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Skill
from insights.diagnostic import MAX_QUESTIONS
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


def test_demo_diagnostic_asks_several_questions_per_goal_skill_and_stops():
    seed_demo(now=NOW)
    learner = user_register(email="new@example.com", password="a-long-unusual-passphrase")
    goal = LearningGoalFactory(learner=learner)
    for slug in ("python", "sql", "docker"):
        GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug=slug))
    diagnostic = Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC)

    attempt = attempt_start(learner=learner, assessment=diagnostic, now=NOW)
    # Knows python, not sql; docker half right.
    flips = iter([True, False] * 5)
    asked = run_to_end(
        attempt,
        lambda q: q.skill.slug == "python" or (q.skill.slug == "docker" and next(flips)),
    )

    per_skill = Counter(q.skill.slug for q in asked)
    # The goal's skills first, then the skills of the courses the path would put before
    # Docker (Async Python and Docker builds on Flask and Git and Testing, and they on
    # Python Fundamentals and SQL and PostgreSQL), so the path can skip what is shown; not
    # async programming: only lessons the goal does not need teach it.
    order = list(dict.fromkeys(q.skill.slug for q in asked))
    assert order[:3] == ["docker", "python", "sql"]
    assert set(per_skill) == {
        "python",
        "sql",
        "docker",
        "data_structures",
        "flask",
        "rest_api",
        "postgresql",
        "git",
        "testing",
    }
    assert all(3 <= n <= MAX_QUESTIONS for n in per_skill.values()), per_skill
    assert len({q.pk for q in asked}) == len(asked)
    # Questions come from the whole bank, not only the diagnostic's own twelve.
    assert {q.assessment_id for q in asked} - {diagnostic.pk}
