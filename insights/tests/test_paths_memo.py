"""A plan's catalogue rows come from a per-process memo of the catalogue version, and the
memo never serves, nor is filled from, a catalogue with a pending (uncommitted) version
bump (skillstudio.data_versions.catalog_memo_version).

These tests commit (transaction=True): the version only moves on a commit.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.services import course_update
from catalog.tests.factories import CourseFactory, SkillFactory
from insights.paths import plan_learning_path
from insights.tests.helpers import NOW
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory
from skillstudio import data_versions

pytestmark = pytest.mark.django_db(transaction=True)


def _catalogue_reads(queries) -> list[str]:
    # Courses, their skills and their prerequisites: the rows the memo keeps.
    return [
        q["sql"]
        for q in queries
        if '"catalog_course"."title"' in q["sql"]
        or "catalog_course_skills" in q["sql"]
        or "catalog_course_prerequisites" in q["sql"]
    ]


def _plan(goal) -> tuple[list[str], list]:
    with CaptureQueriesContext(connection) as queries:
        plan = plan_learning_path(goal=goal, now=NOW)
    return [item.title for item in plan.items], _catalogue_reads(queries)


@pytest.fixture
def goal(learner):
    python, flask = SkillFactory(slug="python"), SkillFactory(slug="flask")
    basics = CourseFactory(title="Python Basics", estimated_hours=10, skills=[python])
    CourseFactory(title="Flask Web", estimated_hours=20, skills=[flask], prerequisites=[basics])
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=flask, target_level=7)
    return goal


def _rename(title: str, to: str) -> None:
    from catalog.models import Course

    course_update(course=Course.objects.get(title=title), now=NOW, title=to)


def test_plans_read_the_catalogue_once_per_version(goal):
    titles, reads = _plan(goal)
    assert titles == ["Python Basics", "Flask Web"] and reads

    again, reads = _plan(goal)
    assert again == titles and not reads  # from the memo


def test_a_transaction_that_edits_the_catalogue_plans_from_its_own_rows(goal):
    titles, _ = _plan(goal)  # fills the memo

    with transaction.atomic():
        _rename("Python Basics", "Python Fundamentals")
        assert data_versions.catalog_memo_version() is None
        edited, reads = _plan(goal)
        assert edited == ["Python Fundamentals", "Flask Web"] and reads
        transaction.set_rollback(True)

    # Rolled back: the memo was neither read nor filled by the transaction's plan.
    after, reads = _plan(goal)
    assert after == titles and not reads


def test_a_rolled_back_edit_leaves_the_memo_in_use_and_right(goal):
    titles, _ = _plan(goal)

    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            _rename("Python Basics", "Python Fundamentals")
            raise RuntimeError("the edit fails")
        # The savepoint took the edit and its bump: no pending bump, the memo serves.
        assert data_versions.catalog_memo_version() is not None
        inside, reads = _plan(goal)
        assert inside == titles and not reads
    assert _plan(goal) == (titles, [])


def test_a_committed_edit_is_planned_with_at_once(goal):
    _plan(goal)

    _rename("Python Basics", "Python Fundamentals")  # commits; the version moves on

    titles, reads = _plan(goal)
    assert titles == ["Python Fundamentals", "Flask Web"] and reads
    assert _plan(goal) == (titles, [])


def test_with_redis_unreachable_every_plan_reads(goal, monkeypatch):
    import redis.exceptions
    from django.core.cache import cache

    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(cache, "get", unreachable)
    for _ in range(2):
        titles, reads = _plan(goal)
        assert titles == ["Python Basics", "Flask Web"] and reads
