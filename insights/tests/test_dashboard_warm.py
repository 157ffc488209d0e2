"""Refresh-ahead: dashboards computed before the learner asks, stored as the read path would.

These tests commit (transaction=True): versions move on commit and neither the read path
nor the warm touches the cache inside a transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import redis.exceptions
from django.core.cache import cache
from django.core.management import CommandError, call_command

from accounts.models import LearnerProfile, User
from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AssessmentAttemptFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights import dashboard
from insights.dashboard import (
    WARM_LOCK,
    WARM_PERIOD,
    cached_learner_dashboard,
    learner_dashboard,
    recently_active_learner_ids,
    warm_active_dashboards,
    warm_dashboards,
    warm_run_record,
)
from insights.models import InstructorMessage
from insights.selectors import UNREAD_SHOWN, unread_instructor_messages
from insights.tasks import refresh_recommendations, warm_dashboard_chunk, warm_dashboards_task
from learning.models import LessonProgress
from learning.services import lesson_complete
from learning.tests.factories import (
    EnrollmentFactory,
    LearnerEventFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

# 18:00 UTC is 13:00 in New York (UTC-5 in March).
NOW = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)


def fresh(learner: User) -> User:
    return User.objects.get(pk=learner.pk)


@pytest.fixture
def course_lessons():
    module = ModuleFactory(course=CourseFactory(title="Django"), order=1)
    return [LessonFactory(module=module, title=f"Lesson {o}", order=o) for o in (1, 2)]


def enrolled(course_lessons, *, zone: str = "UTC", studied_at: datetime = NOW) -> User:
    learner = LearnerFactory()
    LearnerProfile.objects.filter(user=learner).update(timezone=zone)
    EnrollmentFactory(
        learner=learner, course=course_lessons[0].module.course, enrolled_at=NOW - timedelta(40)
    )
    LearnerEventFactory(learner=learner, occurred_at=studied_at)
    return learner


def test_warmed_dashboards_are_served_from_the_cache(course_lessons):
    first, second = enrolled(course_lessons), enrolled(course_lessons)

    report = warm_dashboards(learner_ids=[first.pk, second.pk], now=NOW)

    assert (report.learners, report.stored, report.failed, report.stopped) == (2, 2, [], "")
    for learner in (first, second):
        data, hit = cached_learner_dashboard(learner=fresh(learner), now=NOW + timedelta(minutes=1))
        assert hit
        assert data == learner_dashboard(learner=fresh(learner), now=NOW)
        assert data["recommended_next_lessons"][0]["title"] == "Lesson 1"


def test_the_warm_stores_the_unread_messages_the_page_shows(
    course_lessons, django_assert_num_queries
):
    """The page's first view after a run reads its messages from the cache too: each
    learner's own unread ones, newest first, at most UNREAD_SHOWN."""
    busy, quiet = enrolled(course_lessons), enrolled(course_lessons)
    course = course_lessons[0].module.course

    def message(learner: User, body: str, minutes_ago: int, read: bool = False) -> None:
        InstructorMessage.objects.create(
            learner=learner,
            sender=course.owner,
            course=course,
            body=body,
            created_at=NOW - timedelta(minutes=minutes_ago),
            read_at=NOW if read else None,
        )

    for n in range(UNREAD_SHOWN + 2):
        message(busy, f"Note {n}", minutes_ago=n)
    message(quiet, "Read already", minutes_ago=1, read=True)
    message(quiet, "Need a hand?", minutes_ago=2)

    warm_dashboards(learner_ids=[busy.pk, quiet.pk], now=NOW)

    with django_assert_num_queries(0):
        cards = {
            learner.pk: [card.body for card in unread_instructor_messages(learner=learner)]
            for learner in (busy, quiet)
        }
    assert cards == {
        busy.pk: [f"Note {n}" for n in range(UNREAD_SHOWN)],
        quiet.pk: ["Need a hand?"],
    }


def test_a_failure_of_the_messages_still_stores_the_dashboards(course_lessons, monkeypatch):
    learner = enrolled(course_lessons)

    def broken(**kwargs):
        raise ValueError("bad row")

    monkeypatch.setattr(dashboard, "unread_message_entries", broken)
    report = warm_dashboards(learner_ids=[learner.pk], now=NOW)

    assert (report.stored, report.failed, report.stopped) == (1, [], "")
    assert cached_learner_dashboard(learner=fresh(learner), now=NOW)[1]


def test_a_write_during_the_warm_makes_its_entry_unreachable_not_stale(course_lessons, monkeypatch):
    learner = enrolled(course_lessons)
    compute = dashboard._from_sections

    def write_while_computing(*args):
        data = compute(*args)
        # Committed after the warm read the version and computed, before it stores.
        lesson_complete(learner=fresh(learner), lesson=course_lessons[0], now=NOW)
        return data

    monkeypatch.setattr(dashboard, "_from_sections", write_while_computing)
    assert warm_dashboards(learner_ids=[learner.pk], now=NOW).stored == 1
    monkeypatch.undo()

    data, hit = cached_learner_dashboard(learner=fresh(learner), now=NOW)
    assert not hit
    assert data["performance_summary"]["lessons_completed"] == 1
    assert data["recommended_next_lessons"][0]["title"] == "Lesson 2"


def test_an_entry_is_not_served_after_the_learners_local_midnight(course_lessons):
    # 23:50 in New York; the event that morning makes a 1-day streak.
    evening = datetime(2026, 3, 5, 4, 50, tzinfo=UTC)
    learner = enrolled(
        course_lessons, zone="America/New_York", studied_at=evening - timedelta(hours=10)
    )
    warm_dashboards(learner_ids=[learner.pk], now=evening)
    assert cached_learner_dashboard(learner=fresh(learner), now=evening)[0]["streak"] == 1

    # 00:05 the next day: within the entry's lifetime, but a new local date.
    after_midnight = evening + timedelta(minutes=15)
    data, hit = cached_learner_dashboard(learner=fresh(learner), now=after_midnight)

    assert not hit
    assert data["generated_at"] == after_midnight.isoformat()
    # Still a streak: yesterday (local) was active, today has not started.
    assert data["streak"] == 1
    assert data == learner_dashboard(learner=fresh(learner), now=after_midnight)


def test_active_learners_have_recent_events_progress_or_attempts(course_lessons):
    by_event = enrolled(course_lessons, studied_at=NOW - timedelta(days=3))
    by_progress = LearnerFactory()
    LessonProgressFactory(
        learner=by_progress,
        lesson=course_lessons[0],
        status=LessonProgress.Status.COMPLETED,
        started_at=NOW - timedelta(days=20),
        completed_at=NOW - timedelta(days=10),
    )
    by_attempt = LearnerFactory()
    AssessmentAttemptFactory(learner=by_attempt, started_at=NOW - timedelta(days=1))
    enrolled(course_lessons, studied_at=NOW - timedelta(days=15))  # too long ago
    LearnerFactory()  # never active
    deactivated = enrolled(course_lessons, studied_at=NOW - timedelta(days=1))
    User.objects.filter(pk=deactivated.pk).update(is_active=False)

    active = list(recently_active_learner_ids(now=NOW, days=14))

    assert active == sorted([by_event.pk, by_progress.pk, by_attempt.pk])


def test_the_beat_task_fans_active_learners_out_in_chunks_on_the_bulk_queue(course_lessons, broker):
    active = [enrolled(course_lessons, studied_at=NOW - timedelta(days=d)) for d in (1, 2, 3)]
    idle = enrolled(course_lessons, studied_at=NOW - timedelta(days=30))

    result = warm_dashboards_task.apply(kwargs={"now": NOW.isoformat(), "chunk_size": 2}).result

    run = result["run"]
    assert result == {"learners": 3, "chunks": 2, "run": run, "stopped": ""}
    ids = [learner.pk for learner in active]
    chunk = {"run": run, "now": NOW.isoformat()}
    assert [(m["task"], m["kwargs"]) for m in broker.queued("bulk")] == [
        ("insights.warm_dashboard_chunk", {**chunk, "learner_ids": ids[:2]}),
        ("insights.warm_dashboard_chunk", {**chunk, "learner_ids": ids[2:]}),
    ]
    assert broker.queued("celery") == []  # the write follow-ups' queue stays free
    assert cache.get(WARM_LOCK) == run
    # Nothing computed yet: the workers do it, a chunk each.
    assert not cached_learner_dashboard(learner=fresh(active[0]), now=NOW)[1]

    for message in broker.queued("bulk"):
        assert cache.get(WARM_LOCK) == run  # held until the run's last chunk is done
        warm_dashboard_chunk.apply(kwargs=message["kwargs"])

    assert cache.get(WARM_LOCK) is None
    record = warm_run_record(run)
    assert (record["learners"], record["chunks"], record["left"]) == (3, 2, 0)
    assert (record["stored"], record["failed"]) == (3, 0)
    assert record["finished_at"] >= record["started_at"]
    for learner in active:
        assert cached_learner_dashboard(learner=fresh(learner), now=NOW)[1]
    assert not cached_learner_dashboard(learner=fresh(idle), now=NOW)[1]


def test_a_beat_while_a_run_is_in_progress_queues_nothing(course_lessons, broker):
    enrolled(course_lessons)
    cache.set(WARM_LOCK, "the previous run", timeout=60)

    result = warm_dashboards_task.apply(kwargs={"now": NOW.isoformat()}).result

    assert result["stopped"] == "another warm run is in progress"
    assert broker.queued("bulk") == []


def test_a_chunk_of_a_superseded_run_computes_nothing(course_lessons):
    learner = enrolled(course_lessons)
    cache.set(WARM_LOCK, "a newer run", timeout=60)

    result = warm_dashboard_chunk.apply(
        kwargs={"learner_ids": [learner.pk], "run": "an older run", "now": NOW.isoformat()}
    ).result

    assert result == {"stored": 0, "failed": 0, "stopped": "superseded by a newer run"}
    assert not cached_learner_dashboard(learner=fresh(learner), now=NOW)[1]
    assert cache.get(WARM_LOCK) == "a newer run"


def test_a_run_with_nobody_active_releases_its_lock_at_once(course_lessons, broker):
    enrolled(course_lessons, studied_at=NOW - timedelta(days=30))

    result = warm_dashboards_task.apply(kwargs={"now": NOW.isoformat()}).result

    assert (result["learners"], result["chunks"], result["stopped"]) == (0, 0, "")
    assert cache.get(WARM_LOCK) is None
    assert broker.queued("bulk") == []


def test_a_broker_outage_releases_the_lock_for_the_next_beat(course_lessons, settings, tmp_path):
    enrolled(course_lessons)
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path}/no-broker.sock"

    result = warm_dashboards_task.apply(kwargs={"now": NOW.isoformat()}).result

    assert result["stopped"].startswith("broker unreachable after 0 of 1 chunks")
    assert cache.get(WARM_LOCK) is None


def test_a_run_while_another_is_in_progress_does_nothing(course_lessons):
    learner = enrolled(course_lessons)
    cache.set(WARM_LOCK, "another run", timeout=60)

    report = warm_active_dashboards(now=NOW)

    assert (report.stored, report.stopped) == (0, "another warm run is in progress")
    assert not cached_learner_dashboard(learner=fresh(learner), now=NOW)[1]
    cache.delete(WARM_LOCK)
    assert warm_active_dashboards(now=NOW).stored == 1


def test_the_command_during_a_beat_run_says_it_warmed_nothing(course_lessons):
    enrolled(course_lessons, studied_at=datetime.now(UTC))
    cache.set(WARM_LOCK, "the beat's run", timeout=60)
    out = StringIO()

    with pytest.raises(CommandError, match="Nothing warmed: another warm run is in progress"):
        call_command("warm_dashboards", stdout=out)

    assert "dashboards stored" not in out.getvalue()


def test_a_runs_lock_expires_before_the_next_beat(course_lessons, broker):
    enrolled(course_lessons)

    warm_dashboards_task.apply(kwargs={"now": NOW.isoformat()})

    # Taken a moment after its beat, a lock living the whole period would still be held
    # at the next one: a run that overran would then skip a period, not be superseded.
    lifetime = cache._cache.get_client().ttl(cache.make_key(WARM_LOCK))
    assert 0 < lifetime <= WARM_PERIOD - 30


def test_the_write_follow_up_task_warms_the_learner(course_lessons):
    learner = enrolled(course_lessons)
    lesson_complete(learner=fresh(learner), lesson=course_lessons[0], now=NOW)

    refresh_recommendations.apply(kwargs={"learner_id": learner.pk})

    data, hit = cached_learner_dashboard(learner=fresh(learner), now=datetime.now(UTC))
    assert hit
    assert data["recommended_next_lessons"][0]["title"] == "Lesson 2"


def test_redis_down_stops_the_warm_without_an_error(course_lessons, monkeypatch):
    learner = enrolled(course_lessons)

    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    for method in ("get", "get_many", "set", "set_many", "add"):
        monkeypatch.setattr(cache, method, unreachable)

    assert warm_dashboards(learner_ids=[learner.pk], now=NOW).stopped == "Redis unreachable"
    assert warm_active_dashboards(now=NOW).stopped == "Redis unreachable"
    result = warm_dashboards_task.apply(kwargs={"now": NOW.isoformat()}).result
    assert result["stopped"] == "Redis unreachable"


def test_the_command_warms_chosen_learners_with_progress(course_lessons):
    chosen, other = enrolled(course_lessons), enrolled(course_lessons)
    out = StringIO()

    call_command("warm_dashboards", "--learner", str(chosen.pk), stdout=out)

    assert "1 learners, 1 dashboards stored, 0 failed" in out.getvalue()
    assert cached_learner_dashboard(learner=fresh(chosen), now=datetime.now(UTC))[1]
    assert not cached_learner_dashboard(learner=fresh(other), now=datetime.now(UTC))[1]


def test_the_command_dry_run_counts_and_stores_nothing(course_lessons):
    learners = [enrolled(course_lessons, studied_at=datetime.now(UTC)) for _ in range(3)]
    out = StringIO()

    call_command("warm_dashboards", "--dry-run", stdout=out)

    assert "Dry run: 3 learners active in the last 14 days would be warmed." in out.getvalue()
    assert not any(
        cached_learner_dashboard(learner=fresh(learner), now=datetime.now(UTC))[1]
        for learner in learners
    )


def test_the_command_rejects_unknown_learners_and_conflicting_options():
    with pytest.raises(CommandError, match="No such learner: 987654"):
        call_command("warm_dashboards", "--learner", "987654", stdout=StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("warm_dashboards", "--learner", "1", "--all", stdout=StringIO())
    with pytest.raises(CommandError, match="chunk-size"):
        call_command("warm_dashboards", "--chunk-size", "0", stdout=StringIO())
