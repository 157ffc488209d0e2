"""Integration tests with real `celery worker` processes, real Redis and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import InstructorFactory, LearnerFactory
from assessments.models import Answer
from assessments.services import attempt_start, attempt_submit
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.dashboard import WARM_LOCK, cached_learner_dashboard
from insights.models import LearningPathSnapshot, PendingJob, Recommendation
from insights.tests.weekly_data import learners_due_adjustment
from learning.events import ingest_events
from learning.models import LearnerEvent, LessonProgress
from learning.services import lesson_complete
from learning.tests.factories import LearnerEventFactory
from skillstudio import jobs
from skillstudio.testing import wait_for

pytestmark = pytest.mark.worker


def job_status(job: PendingJob) -> str:
    job.refresh_from_db()
    return job.status


def test_deferred_job_is_run_by_a_worker_and_marked_done(workers):
    workers.start()

    jobs.defer("skillstudio.relay_pending_jobs")

    job = PendingJob.objects.get()
    wait_for(lambda: job_status(job) == "done", what="the worker to finish", details=workers.log)
    assert job.finished_at is not None
    assert job.last_error == ""


WEEK = "2026-W11"
MONDAY = datetime(2026, 3, 9, 3, tzinfo=UTC)


def all_jobs_finished(expected: int) -> bool:
    statuses = list(PendingJob.objects.values_list("status", flat=True))
    return len(statuses) == expected and set(statuses) == {"done"}


def weekly_snapshots() -> list[tuple[int, int, str]]:
    return list(
        LearningPathSnapshot.objects.filter(trigger="weekly_adjustment")
        .order_by("learner_id", "version")
        .values_list("learner_id", "version", "iso_week")
    )


def recommendations() -> list[tuple]:
    return list(
        Recommendation.objects.order_by("pk").values_list(
            "pk", "learner_id", "kind", "lesson_id", "status", "updated_at"
        )
    )


def test_weekly_adjustment_fans_out_and_a_second_run_in_the_week_changes_nothing(workers):
    workers.start()  # boots while the test data is written
    learners = learners_due_adjustment(5, now=MONDAY)

    jobs.defer("insights.adjust_learning_paths_weekly", now=MONDAY.isoformat(), chunk_size=2)

    # The fan-out job plus chunks of 2, 2 and 1 learners.
    wait_for(lambda: all_jobs_finished(4), what="the weekly run", details=workers.log)
    chunks = PendingJob.objects.filter(task_name="insights.adjust_learner_chunk")
    assert sorted(len(job.kwargs["learner_ids"]) for job in chunks) == [1, 2, 2]
    assert weekly_snapshots() == [(learner.pk, 1, WEEK) for learner in learners]
    first_run = recommendations()
    assert [(r[1], r[2], r[4]) for r in first_run] == [
        (learner.pk, "next_lesson", "active") for learner in learners
    ]

    jobs.defer("insights.adjust_learning_paths_weekly", now=MONDAY.isoformat(), chunk_size=2)

    wait_for(lambda: all_jobs_finished(8), what="the second weekly run", details=workers.log)
    assert weekly_snapshots() == [(learner.pk, 1, WEEK) for learner in learners]
    assert recommendations() == first_run


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            """
        )
        return cursor.fetchone()[0]


def test_worker_killed_mid_chunk_is_restarted_and_finishes_without_duplicates(workers):
    first = workers.start()
    learners = learners_due_adjustment(5, now=MONDAY)
    # A second connection holds the third learner's profile row, as a quiz-submit refresh
    # would: the chunk skips that learner and commits the other four, then the worker
    # adjusts the third on its own and blocks there.
    locker = connection.get_new_connection(connection.get_connection_params())
    locker.execute(
        "SELECT 1 FROM accounts_learnerprofile WHERE user_id = %s FOR UPDATE", [learners[2].pk]
    )
    jobs.defer(
        "insights.adjust_learner_chunk",
        learner_ids=[learner.pk for learner in learners],
        now=MONDAY.isoformat(),
    )
    wait_for(
        lambda: backends_waiting_for_a_lock() == 1,
        what="the worker to block on learner 3",
        details=workers.log,
    )
    others = [learner for i, learner in enumerate(learners) if i != 2]
    assert weekly_snapshots() == [(learner.pk, 1, WEEK) for learner in others]
    done_before_kill = recommendations()

    workers.kill(first)
    locker.rollback()
    locker.close()
    workers.start()

    # acks_late: the unacknowledged message comes back to the new worker.
    wait_for(lambda: all_jobs_finished(1), what="the redelivered chunk", details=workers.log)
    assert weekly_snapshots() == [(learner.pk, 1, WEEK) for learner in learners]
    after = recommendations()
    assert sorted((r[1], r[2], r[4]) for r in after) == [
        (learner.pk, "next_lesson", "active") for learner in learners
    ]
    # The four learners finished before the kill were skipped, not redone.
    assert [r for r in after if r[1] != learners[2].pk] == done_before_kill
    assert "Task insights.adjust_learner_chunk" in workers.log().split("test2@")[-1]


@pytest.fixture
def study_material():
    """Python Basics (lessons Variables, Loops) and a published two-question quiz."""
    python = SkillFactory(slug="python", name="Python")
    instructor = InstructorFactory(password=None)
    course = CourseFactory(title="Python Basics", skills=[python], owner=instructor)
    module = ModuleFactory(course=course, order=1)
    variables = LessonFactory(module=module, order=1, title="Variables", skills=[python])
    loops = LessonFactory(module=module, order=2, title="Loops", skills=[python])
    quiz = AssessmentFactory(owner=instructor, course=course)
    wrong_choices = {}
    for order in (1, 2):
        question = QuestionFactory(assessment=quiz, skill=python, order=order)
        ChoiceFactory(question=question, is_correct=True)
        wrong_choices[question.pk] = ChoiceFactory(question=question, is_correct=False).pk
    return {"lessons": (variables, loops), "quiz": quiz, "wrong": wrong_choices}


def test_learner_writes_succeed_with_redis_down_and_follow_ups_run_when_it_is_back(
    workers, study_material
):
    learner = LearnerFactory(password=None)
    variables, loops = study_material["lessons"]
    workers.start()
    workers.broker.stop()
    now = timezone.now()

    # Each service defers its follow-up in its own transaction (the outbox).
    progress = lesson_complete(learner=learner, lesson=variables, now=now)
    attempt = attempt_start(learner=learner, assessment=study_material["quiz"], now=now)
    attempt = attempt_submit(
        attempt=attempt,
        responses={qid: {"choices": [choice]} for qid, choice in study_material["wrong"].items()},
        now=now,
    )
    ingested = ingest_events(
        learner=learner,
        events=[
            {"event_id": str(uuid.uuid4()), "type": "lesson_viewed", "occurred_at": now.isoformat(),
             "lesson_id": loops.pk},
            {"event_id": str(uuid.uuid4()), "type": "heartbeat", "occurred_at": now.isoformat()},
        ],
        now=now,
    )  # fmt: skip

    # Everything the learner did is stored; the follow-ups wait in PostgreSQL.
    assert LessonProgress.objects.get(pk=progress.pk).status == "completed"
    attempt.refresh_from_db()
    assert (attempt.submitted_at, attempt.score) == (now, Decimal("0.00"))
    assert Answer.objects.filter(attempt=attempt, is_correct=False).count() == 2
    assert (ingested.stored, ingested.errors) == (2, [])
    assert LearnerEvent.objects.filter(learner=learner).count() == 2
    assert list(PendingJob.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert not Recommendation.objects.filter(learner=learner).exists()
    learner.profile.refresh_from_db()
    assert learner.profile.recommendations_refreshed_at is None

    workers.broker.start()
    call_command("relay_jobs")

    wait_for(lambda: all_jobs_finished(2), what="the relayed follow-ups", details=workers.log)
    active = Recommendation.objects.filter(learner=learner, status="active")
    # Variables is done, so the next lesson recommended is Loops.
    assert active.get(kind="next_lesson").lesson == loops
    # The struggle check ran after the quiz and is kept for instructors.
    learner.profile.refresh_from_db()
    assert learner.profile.struggle["checked_at"] >= now.isoformat()


def test_a_dashboard_warm_run_fans_out_to_the_workers_and_frees_its_lock(workers):
    workers.start()
    workers.start()
    now = timezone.now()
    learners = learners_due_adjustment(5, now=now)
    for learner in learners:
        LearnerEventFactory(learner=learner, occurred_at=now - timedelta(hours=1))

    jobs.defer("insights.warm_dashboards", chunk_size=2)

    # The beat task queues chunks of 2, 2 and 1 learners; the last one done frees the lock.
    wait_for(lambda: all_jobs_finished(1), what="the fan-out", details=workers.log)
    workers_cache = {**settings.CACHES["default"], "LOCATION": workers.broker.url}
    with override_settings(CACHES={"default": workers_cache}):
        wait_for(lambda: cache.get(WARM_LOCK) is None, what="the chunks", details=workers.log)
        log = workers.log()
        assert log.count("insights.warm_dashboard_chunk") >= 3
        assert " finished: 5 learners in 3 chunks, 5 stored, 0 failed, " in log
        for learner in learners:
            assert cached_learner_dashboard(learner=User.objects.get(pk=learner.pk), now=now)[1]
