"""The set-based weekly chunk: same stored results as learner by learner, bounded queries,
dry run, idempotency and row locks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import LearnerProfile
from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.ml.cf import served_similarity
from insights.models import LearningPathSnapshot, Recommendation
from insights.paths import generate_learning_path, paths_memo_clear
from insights.tests.factories import LearnerSkillStateFactory, RecommendationFactory
from insights.tests.helpers import NOW, quiz_attempt
from insights.tests.weekly_data import learners_due_adjustment
from insights.weekly import adjust_chunk, adjust_learner, adjust_learners, iso_week
from learning.models import LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearnerEventFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)
from skillstudio.data_versions import learner_version

WEEK = iso_week(NOW)


def make_learner(**profile):
    learner = LearnerFactory(password=None)
    if profile:
        LearnerProfile.objects.filter(user=learner).update(**profile)
    return learner


@pytest.fixture
def sample(db):
    """Learners in the situations the weekly run tells apart, sharing one small catalogue."""
    python, flask = SkillFactory(slug="python"), SkillFactory(slug="flask")
    sql = SkillFactory(slug="sql")
    basics = CourseFactory(title="Python Basics", skills=[python], estimated_hours=10)
    module = ModuleFactory(course=basics, order=1)
    hello = LessonFactory(module=module, order=1, title="Hello", skills=[python])
    loops = LessonFactory(module=module, order=2, title="Loops", skills=[python])
    web = CourseFactory(title="Flask Web", skills=[flask], estimated_hours=20)
    web.prerequisites.add(basics)
    LessonFactory(module=ModuleFactory(course=web), order=1, title="Routes", skills=[flask])
    data = CourseFactory(title="SQL Data", skills=[sql], estimated_hours=8)
    LessonFactory(module=ModuleFactory(course=data), order=1, title="Joins", skills=[sql])

    def goal(learner, skill, level=7, **fields):
        created = LearningGoalFactory(learner=learner, title=f"Learn {skill.slug}", **fields)
        GoalSkillFactory(goal=created, skill=skill, target_level=level)
        return created

    learners = {}
    # Struggling: failed the same quiz twice, weak on python, stalled on a lesson.
    struggling = learners["struggling"] = make_learner(current_difficulty="intermediate")
    EnrollmentFactory(learner=struggling, course=basics, enrolled_at=NOW - timedelta(days=20))
    goal(struggling, python)
    failed = quiz_attempt(struggling, at=NOW - timedelta(days=3), skill=python, correct=3, total=10)
    quiz_attempt(
        struggling, at=NOW - timedelta(days=2), assessment=failed.assessment, score=35, passed=False
    )
    LessonProgressFactory(learner=struggling, lesson=hello, started_at=NOW - timedelta(days=10))
    # Improving, in Tokyo: higher scores lately, study sessions on several days.
    improving = learners["improving"] = make_learner(timezone="Asia/Tokyo")
    EnrollmentFactory(learner=improving, course=basics, enrolled_at=NOW - timedelta(days=25))
    goal(improving, flask)
    quiz_attempt(improving, at=NOW - timedelta(days=25), skill=flask, correct=8, total=10)
    quiz_attempt(improving, at=NOW - timedelta(days=4), skill=flask, correct=9, total=10)
    quiz_attempt(improving, at=NOW - timedelta(days=1), score=95)
    for day in range(4):
        for minute in (0, 10, 25):
            LearnerEventFactory(
                learner=improving,
                lesson_id=loops.pk,
                occurred_at=NOW - timedelta(days=day, hours=3, minutes=minute),
            )
    LessonProgressFactory(
        learner=improving,
        lesson=hello,
        status=LessonProgress.Status.COMPLETED,
        started_at=NOW - timedelta(days=6),
        completed_at=NOW - timedelta(days=5),
        time_spent_seconds=1200,
    )
    # Behind schedule: a path two weeks old, nothing done, deadline in two weeks.
    behind = learners["behind"] = make_learner()
    late = goal(behind, python, deadline=(NOW + timedelta(days=14)).date())
    generate_learning_path(goal=late, now=NOW - timedelta(days=14))
    # No goals: recent events only, one expired and one skipped recommendation.
    idle = learners["no_goals"] = make_learner()
    EnrollmentFactory(learner=idle, course=data, enrolled_at=NOW - timedelta(days=2))
    LearnerEventFactory(learner=idle, occurred_at=NOW - timedelta(days=1))
    RecommendationFactory(
        learner=idle, lesson=loops, created_at=NOW - timedelta(days=9), expires_at=NOW
    )
    RecommendationFactory(
        learner=idle,
        kind=Recommendation.Kind.NEXT_LESSON,
        lesson=data.modules.get().lessons.get(),
        status=Recommendation.Status.SKIPPED,
        created_at=NOW - timedelta(days=3),
        acted_at=NOW - timedelta(days=2),
    )
    # Goal changed since its path: a second target skill, and a mastered skill state.
    changed = learners["goal_changed"] = make_learner()
    moved = goal(changed, python)
    generate_learning_path(goal=moved, now=NOW - timedelta(days=7))
    GoalSkillFactory(goal=moved, skill=sql, target_level=6)
    LearnerSkillStateFactory(
        learner=changed, skill=python, level=3, mastery=0.3, last_practiced_at=NOW - timedelta(9)
    )
    # Newer python answers than the struggling learner's: per-skill windows must not mix.
    quiz_attempt(changed, at=NOW - timedelta(days=1), skill=python, correct=7, total=10)
    # Declining at the advanced level.
    declining = learners["declining"] = make_learner(current_difficulty="advanced")
    goal(declining, sql, level=5)
    quiz_attempt(declining, at=NOW - timedelta(days=20), score=92)
    quiz_attempt(declining, at=NOW - timedelta(days=2), score=45)
    # Already adjusted this ISO week.
    done = learners["done"] = make_learner(weekly_adjusted_week=WEEK)
    goal(done, python)
    return learners


def stored(learner_ids: list[int]) -> dict:
    """What the weekly run stores, without row ids (the two runs allocate different ones)."""
    versions = dict(
        LearningPathSnapshot.objects.filter(learner_id__in=learner_ids).values_list("pk", "version")
    )
    snapshots = list(
        LearningPathSnapshot.objects.filter(learner_id__in=learner_ids)
        .order_by("learner_id", "goal_id", "version")
        .values_list(
            "learner_id",
            "goal_id",
            "version",
            "items",
            "metadata",
            "is_active",
            "trigger",
            "changes",
            "change_summary",
            "iso_week",
            "created_at",
        )
    )

    def without_ids(row: tuple) -> tuple:
        # Snapshots are named by version, in the row and in a course card's payload.
        payload = row[7]
        if payload.get("snapshot_id"):
            payload = {**payload, "snapshot_id": versions[payload["snapshot_id"]]}
        return (*row[:7], payload, *row[8:-1], versions.get(row[-1]))

    recommendations = sorted(
        (
            without_ids(row)
            for row in Recommendation.objects.filter(learner_id__in=learner_ids).values_list(
                "learner_id",
                "kind",
                "lesson_id",
                "course_id",
                "status",
                "reason",
                "score",
                "payload",
                "expires_at",
                "created_at",
                "source_snapshot_id",
            )
        ),
        key=repr,
    )
    profiles = list(
        LearnerProfile.objects.filter(user_id__in=learner_ids)
        .order_by("user_id")
        .values_list(
            "user_id",
            "behavioral_metrics",
            "weekly_adjusted_week",
            "struggle",
            "recommendations_refreshed_at",
            "difficulty_changed_at",
            "current_difficulty",
        )
    )
    return {"snapshots": snapshots, "recommendations": recommendations, "profiles": profiles}


def outcome(results) -> list[tuple]:
    return [
        (r.learner_id, r.skipped, r.adjustments, len(r.snapshot_ids), r.active_recommendations)
        for r in sorted(results, key=lambda r: r.learner_id)
    ]


def test_a_chunk_stores_what_learner_by_learner_runs_store(sample):
    ids = sorted(learner.pk for learner in sample.values())
    with transaction.atomic():
        one_by_one = outcome(adjust_learner(learner_id=pk, now=NOW) for pk in ids)
        expected = stored(ids)
        transaction.set_rollback(True)

    chunk = outcome(adjust_learners(learner_ids=ids, now=NOW).values())

    assert chunk == one_by_one
    assert stored(ids) == expected
    kinds = {
        name: [a["kind"] for a in next(r for r in chunk if r[0] == learner.pk)[2]]
        for name, learner in sample.items()
    }
    # The sample covers what the run tells apart (worked out from the data above).
    assert kinds == {
        # 30% and 35% at the intermediate level: revision and an easier level.
        "struggling": ["add_revision", "reduce_load", "replan"],
        # Latest scores 80, 90, 95: 88.3% average.
        "improving": ["increase_challenge", "replan"],
        "behind": ["behind_schedule"],
        "no_goals": [],
        # 7 days x 5 h of the 10 planned hours expected (50%), none done.
        "goal_changed": ["behind_schedule", "replan"],
        "declining": ["reduce_load", "replan"],
        "done": [],
    }
    done = next(r for r in chunk if r[0] == sample["done"].pk)
    assert done[1] is True
    profiles = {row[0]: row for row in expected["profiles"]}
    assert profiles[sample["improving"].pk][6] == "intermediate"
    # 92% then 45%: a 68.5% average keeps the level; the fall itself reduces the load.
    assert profiles[sample["declining"].pk][6] == "advanced"
    assert profiles[sample["struggling"].pk][6] == "beginner"
    # The moves are recorded, so the same scores do not at once ask for another one.
    moved = {sample["improving"].pk, sample["struggling"].pk}
    assert {
        user_id: changed_at for user_id, *_, changed_at, _ in expected["profiles"] if changed_at
    } == dict.fromkeys(moved, NOW)
    assert [r for r in expected["recommendations"] if r[1] == "difficulty"] == []
    assert profiles[sample["struggling"].pk][3]["signals"] == [
        "repeated_failures",
        "stalled_progress",
    ]
    assert profiles[sample["improving"].pk][1]["timezone"] == "Asia/Tokyo"
    assert profiles[sample["done"].pk][1:4] == ({}, WEEK, None)
    # The card past its expiry is expired; the only lesson of the course, skipped two
    # days ago, is not suggested again.
    idle = [r for r in expected["recommendations"] if r[0] == sample["no_goals"].pk]
    assert [(r[1], r[4]) for r in idle] == [("next_lesson", "expired"), ("next_lesson", "skipped")]


def test_second_chunk_run_in_the_week_changes_nothing(sample):
    ids = sorted(learner.pk for learner in sample.values())
    adjust_learners(learner_ids=ids, now=NOW)
    before = stored(ids)

    again = adjust_learners(learner_ids=ids, now=NOW + timedelta(days=1))

    assert all(result.skipped for result in again.values())
    assert stored(ids) == before


def test_dry_run_chunk_decides_and_writes_nothing(sample):
    ids = sorted(learner.pk for learner in sample.values())
    before = stored(ids)

    results = adjust_learners(learner_ids=ids, now=NOW, dry_run=True)

    assert stored(ids) == before
    assert [a["kind"] for a in results[sample["declining"].pk].adjustments] == [
        "reduce_load",
        "replan",
    ]


def chunk_queries(count: int, now) -> int:
    learners = learners_due_adjustment(count, now=now)
    # The active CF model is looked up at most every few seconds per process: look it up
    # now, so that neither measurement includes that one query.
    served_similarity()
    # Each chunk as a fresh worker runs it: the plans' catalogue rows not yet memoised.
    paths_memo_clear()
    with CaptureQueriesContext(connection) as captured:
        results = adjust_learners(learner_ids=[learner.pk for learner in learners], now=now)
    assert [len(r.snapshot_ids) for r in results.values()] == [1] * count
    return len(captured)


@pytest.mark.django_db
def test_a_chunk_costs_the_same_queries_for_2_and_for_12_learners():
    small = chunk_queries(2, NOW)
    LearningPathSnapshot.objects.all().delete()
    large = chunk_queries(12, NOW + timedelta(days=7))

    # The lock rule's graph for course suggestions (courses, lessons, skill names) is read
    # only when some learner of the chunk has a course to suggest: here only the larger
    # chunk has one. Otherwise the same queries, however many learners.
    assert large - small in (0, 3)
    # Sessions, histograms and streaks in one query (activity_figures): 50, was 52; the
    # paths' lessons, for those outside each goal (insights.paths._path_lessons): 51.
    assert large <= 51


@pytest.mark.django_db(transaction=True)
def test_a_learner_locked_by_a_refresh_is_left_to_the_one_by_one_pass():
    learners = learners_due_adjustment(3, now=NOW)
    ids = [learner.pk for learner in learners]
    locker = connection.get_new_connection(connection.get_connection_params())
    try:
        locker.execute(
            "SELECT 1 FROM accounts_learnerprofile WHERE user_id = %s FOR UPDATE", [ids[1]]
        )
        results = adjust_learners(learner_ids=ids, now=NOW, skip_locked=True)
        assert sorted(results) == [ids[0], ids[2]]
        assert not LearningPathSnapshot.objects.filter(learner_id=ids[1]).exists()
    finally:
        locker.rollback()
        locker.close()

    report = adjust_chunk(learner_ids=ids, now=NOW)

    # The whole chunk can lock now: the two adjusted before are skipped, the third done.
    assert report.succeeded == ids
    assert sorted(
        LearningPathSnapshot.objects.filter(iso_week=WEEK).values_list("learner_id", flat=True)
    ) == sorted(ids)


@pytest.mark.django_db
def test_a_failing_chunk_falls_back_to_one_learner_at_a_time(monkeypatch):
    learners = learners_due_adjustment(2, now=NOW)
    ids = [learner.pk for learner in learners]
    calls = []

    def broken(**kwargs):
        calls.append(kwargs["learner_ids"])
        if len(kwargs["learner_ids"]) > 1:
            raise RuntimeError("bad data in the chunk")
        return real(**kwargs)

    real = adjust_learners
    monkeypatch.setattr("insights.weekly.adjust_learners", broken)

    report = adjust_chunk(learner_ids=[*ids, 999999], now=NOW)

    assert report.succeeded == ids
    assert report.failed == {999999: "ValueError: No user with id 999999."}
    assert calls == [[*ids, 999999], [ids[0]], [ids[1]]]
    assert LearningPathSnapshot.objects.filter(iso_week=WEEK).count() == 2


def test_a_chunk_moves_on_the_data_versions_of_the_learners_it_wrote(
    sample, django_capture_on_commit_callbacks
):
    ids = sorted(learner.pk for learner in sample.values())
    before = {pk: learner_version(pk) for pk in ids}

    with django_capture_on_commit_callbacks(execute=True):
        adjust_learners(learner_ids=ids, now=NOW)

    moved = {pk for pk in ids if learner_version(pk) != before[pk]}
    # Everyone but the learner already adjusted this week, for whom nothing was written.
    assert moved == set(ids) - {sample["done"].pk}
