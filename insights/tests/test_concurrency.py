"""Concurrent writers on real PostgreSQL: row locks and constraints keep the data consistent."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from catalog.tests.factories import CourseFactory, SkillFactory
from insights.models import LearningPathSnapshot
from insights.paths import generate_learning_path
from insights.tests.helpers import NOW
from insights.weekly import adjust_learner
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(task: Callable[[], object], times: int = 2) -> list:
    """Start `times` threads at once; each uses its own database connection."""
    barrier = threading.Barrier(times)
    results: list = []
    errors: list = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(task())
        except Exception as error:  # re-raised in the test thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def goal(learner):
    python = SkillFactory(slug="python")
    CourseFactory(title="Python Basics", skills=[python])
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    return goal


def test_concurrent_generations_of_the_same_plan_write_one_version(goal):
    snapshots = run_together(lambda: generate_learning_path(goal=goal, now=NOW))

    # The second waits for the goal's lock and finds the same plan stored: nothing to write.
    assert sorted(s.version for s in snapshots) == [1, 1]
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1
    assert LearningPathSnapshot.objects.filter(goal=goal, is_active=True).count() == 1


def test_concurrent_weekly_runs_adjust_once(learner, goal):
    results = run_together(lambda: adjust_learner(learner_id=learner.pk, now=NOW))

    assert sorted(r.skipped for r in results) == [False, True]
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1
