"""What a lesson completion costs through the API, and that its lock check stays right
while the catalogue rows behind it are memoised per catalogue version.

These tests commit (transaction=True): the memo is only used outside a transaction (inside
one, the catalogue may hold the transaction's own edits, whose version bump waits for the
commit), so a test wrapped in one would never reach it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.services import lesson_create
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from learning.models import Enrollment, LessonProgress
from learning.serializers import LessonProgressSerializer

pytestmark = pytest.mark.django_db(transaction=True)

# A first completion of a lesson, the user (with its profile) already authenticated: the
# lesson (no prefetch), the lock facts (1); in the transaction (2): the enrollment locked,
# the progress row created and locked and the learner's first event on the lesson, in one
# statement (1), the row saved, the learner's active cards on the lesson retired (1), the
# course's lesson and completion counts (1), the enrollment saved, the outbox row; the
# job's send after commit (1: claimed and marked sent in one statement); the answer is the
# service's row, not read again. 29 before the lock graph was memoised, the lesson's
# prefetches dropped and the enrollment and progress rows passed on instead of read again;
# 22 before the lock facts came in one query instead of three, the counts in one instead
# of two, the job's send in one instead of four and the answer's row was no longer read
# again; 16 before the enrollment, the progress row (a get_or_create under a savepoint:
# four round trips for a new row) and the first event came in one statement.
COMPLETION_QUERIES = 11


def _catalogue_reads(queries) -> list[str]:
    # The lock graph's rows: courses and lessons with their skills and prerequisites.
    return [q["sql"] for q in queries if "ARRAY_AGG" in q["sql"]]


def _complete(api, lesson):
    return api.post(f"/api/v1/learning/lessons/{lesson.pk}/complete")


def test_completions_read_the_lock_graph_once_per_catalogue_version(as_user, learner):
    module = ModuleFactory(course=CourseFactory(title="Django"), order=1)
    first, second, third = (LessonFactory(module=module, order=i) for i in (1, 2, 3))
    third.prerequisites.set([second])
    api = as_user(learner)

    with CaptureQueriesContext(connection) as warming:
        assert _complete(api, first).status_code == 200
    assert _catalogue_reads(warming)

    # The same course's graph again: from the memo, and the lock still holds.
    with CaptureQueriesContext(connection) as locked:
        answer = _complete(api, third)
    assert answer.status_code == 400
    assert "Builds on the lesson" in answer.json()["error"]["fields"]["lesson"][0]
    assert not _catalogue_reads(locked)

    with CaptureQueriesContext(connection) as memoised:
        answer = _complete(api, second)
    assert answer.status_code == 200
    assert not _catalogue_reads(memoised)
    assert len(memoised) <= COMPLETION_QUERIES
    # The answer is the service's row, not read again: the same as the row stored.
    stored = LessonProgress.objects.select_related("lesson__module").get(pk=answer.json()["id"])
    assert answer.json() == LessonProgressSerializer(stored).data
    assert answer.json()["status"] == "completed" and answer.json()["lesson_title"] == second.title
    assert _complete(api, third).status_code == 200
    assert Enrollment.objects.get(learner=learner).progress_percent == 100

    # A catalogue write moves the version on: the new lesson (locked behind a lesson not
    # yet done) is in the graph read afresh, not missing from a stale one.
    later = LessonFactory(module=ModuleFactory(course=module.course, order=2), order=1)
    added = lesson_create(
        module=later.module, now=timezone.now(), title="Forms", order=2, prerequisites=[later]
    )
    with CaptureQueriesContext(connection) as after_edit:
        answer = _complete(api, added)
    assert answer.status_code == 400
    assert _catalogue_reads(after_edit)
    assert not LessonProgress.objects.filter(learner=learner, lesson=added).exists()
