"""Revision reads each weak skill's lessons in order once per catalogue version (a
per-process memo, insights.recommendations._SKILL_LESSONS): the order is the same for every
learner, and ranking a skill's lessons costs in proportion to the catalogue. A committed
catalogue edit moves the version on, so the next card comes from the edited catalogue.

These tests commit (transaction=True): the version only moves on a commit.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Course, Lesson
from catalog.services import course_unpublish, lesson_update
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW, complete, quiz_attempt, revision_lessons
from learning.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _ranking_reads(queries) -> int:
    # The skill's lessons in revision order: the only query that reads every lesson of it.
    return sum("ORDER BY lesson_skills.skill_id" in q["sql"] for q in queries)


def _revise(learner) -> tuple[list[tuple[str, str]], int]:
    with CaptureQueriesContext(connection) as queries:
        items = revision_lessons(learner=learner, now=NOW)
    return [(item.skill, item.title) for item in items], _ranking_reads(queries)


@pytest.fixture
def weak_in_sql(learner):
    """A learner weak in SQL (30% on a quiz three days ago) and in Python (mastery 20%),
    enrolled in two SQL courses: the easiest SQL lesson is in "Databases B"; "Joins",
    completed a month ago, is a review and comes first; "Indexes" was skimmed an hour ago
    and rests (a skim is no study: SQL still needs revision)."""
    sql = SkillFactory(slug="sql", name="SQL")
    python = SkillFactory(slug="python", name="Python")
    quiz_attempt(learner, at=NOW - timedelta(days=3), skill=sql, correct=3, total=10)
    LearnerSkillStateFactory(
        learner=learner,
        skill=python,
        mastery=0.2,
        level=2,
        last_practiced_at=NOW - timedelta(days=3),
    )
    first = ModuleFactory(course=CourseFactory(title="Databases A"), order=1)
    second = ModuleFactory(course=CourseFactory(title="Databases B"), order=1)
    for module in (first, second):
        EnrollmentFactory(
            learner=learner, course=module.course, enrolled_at=NOW - timedelta(days=60)
        )
    joins = LessonFactory(module=first, order=1, title="Joins", skills=[sql], difficulty="advanced")
    indexes = LessonFactory(
        module=first, order=2, title="Indexes", skills=[sql], difficulty="beginner"
    )
    LessonFactory(module=second, order=1, title="SELECT", skills=[sql], difficulty="beginner")
    LessonFactory(module=second, order=2, title="Lists", skills=[python], difficulty="beginner")
    complete(learner, joins, at=NOW - timedelta(days=30))
    complete(learner, indexes, at=NOW - timedelta(hours=1), skimmed=True)
    return learner


def test_each_skill_is_ranked_once_per_catalogue_version(weak_in_sql):
    items, reads = _revise(weak_in_sql)
    # Python is weaker (0.8 x (1 + 3/7)) than SQL (0.7 x (1 + 3/7)); SQL's review of
    # "Joins" comes before the easiest lesson it has not done, "Indexes" rests.
    assert items == [("python", "Lists"), ("sql", "Joins")]
    assert reads == 1

    again, reads = _revise(weak_in_sql)
    assert again == items and reads == 0  # from the memo


def test_a_committed_catalogue_edit_is_read_at_once(weak_in_sql):
    _revise(weak_in_sql)  # fills the memo
    lesson_update(lesson=Lesson.objects.get(title="Joins"), now=NOW, title="SQL joins")

    items, reads = _revise(weak_in_sql)
    assert items == [("python", "Lists"), ("sql", "SQL joins")] and reads == 1

    course_unpublish(course=Course.objects.get(title="Databases A"), now=NOW)

    # The review's course is gone: the easiest SQL lesson left is "SELECT" (Python's
    # "Lists" is in the same course as "SELECT" and stays).
    items, reads = _revise(weak_in_sql)
    assert items == [("python", "Lists"), ("sql", "SELECT")] and reads == 1


def test_a_transaction_that_edits_the_catalogue_ranks_its_own_rows(weak_in_sql):
    before, _ = _revise(weak_in_sql)  # fills the memo

    with transaction.atomic():
        course_unpublish(course=Course.objects.get(title="Databases A"), now=NOW)
        edited, reads = _revise(weak_in_sql)
        assert edited == [("python", "Lists"), ("sql", "SELECT")] and reads == 1
        transaction.set_rollback(True)

    # Rolled back: the memo was neither read nor filled by the transaction.
    after, reads = _revise(weak_in_sql)
    assert after == before and reads == 0
