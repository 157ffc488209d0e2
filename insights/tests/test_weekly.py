from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import LearnerProfile, User
from accounts.tests.factories import InstructorFactory, LearnerFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot, Recommendation
from insights.paths import generate_learning_path
from insights.tests.helpers import NOW, difficulty_advice, quiz_attempt
from insights.weekly import active_learner_ids, adjust_learner, iso_week
from learning.models import Enrollment
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearnerEventFactory,
    LearningGoalFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(learner):
    python, flask = SkillFactory(slug="python"), SkillFactory(slug="flask")
    basics = CourseFactory(title="Python Basics", skills=[python], estimated_hours=10)
    LessonFactory(module=ModuleFactory(course=basics, order=1), order=1, title="Hello")
    web = CourseFactory(title="Flask Web", skills=[flask], estimated_hours=20)
    goal = LearningGoalFactory(learner=learner, title="Backend")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    EnrollmentFactory(learner=learner, course=basics, enrolled_at=NOW - timedelta(days=3))
    return {"goal": goal, "basics": basics, "web": web, "flask": flask}


def state(learner) -> tuple:
    """Everything the weekly run may write, to compare before and after."""
    profile = LearnerProfile.objects.get(user=learner)
    return (
        list(LearningPathSnapshot.objects.filter(learner=learner).values_list("id", "is_active")),
        list(
            Recommendation.objects.filter(learner=learner)
            .order_by("id")
            .values_list("id", "status", "reason", "expires_at")
        ),
        profile.behavioral_metrics,
        profile.weekly_adjusted_week,
        profile.struggle,
        profile.recommendations_refreshed_at,
        profile.difficulty_changed_at,
        profile.current_difficulty,
    )


def test_iso_week_is_the_utc_iso_week():
    assert iso_week(NOW) == "2026-W10"
    assert iso_week(NOW - timedelta(days=3)) == "2026-W09"


def test_first_run_plans_refreshes_and_records_the_week(learner, setup):
    result = adjust_learner(learner_id=learner.pk, now=NOW)

    snapshot = LearningPathSnapshot.objects.get(learner=learner)
    assert result.snapshot_ids == [snapshot.pk]
    assert (snapshot.trigger, snapshot.iso_week, snapshot.version) == (
        "weekly_adjustment",
        "2026-W10",
        1,
    )
    assert {
        "kind": "replan",
        "goal_id": setup["goal"].pk,
        "reason": ("Planned a first path for 'Backend'"),
    } in result.adjustments
    profile = LearnerProfile.objects.get(user=learner)
    assert profile.weekly_adjusted_week == "2026-W10"
    assert profile.behavioral_metrics["weekly_adjustment"]["adjustments"] == result.adjustments
    assert profile.recommendations_refreshed_at == NOW
    assert Recommendation.objects.filter(
        learner=learner, status="active", kind="next_lesson"
    ).exists()


def test_second_run_in_the_same_week_changes_nothing(learner, setup):
    adjust_learner(learner_id=learner.pk, now=NOW)
    before = state(learner)
    # New data that would change the plan and the recommendations.
    GoalSkillFactory(goal=setup["goal"], skill=setup["flask"], target_level=7)
    quiz_attempt(learner, at=NOW + timedelta(days=1), score=95)

    again = adjust_learner(learner_id=learner.pk, now=NOW + timedelta(days=2))

    assert again.skipped is True
    assert state(learner) == before


def test_next_week_writes_a_snapshot_only_when_the_path_changes(learner, setup):
    adjust_learner(learner_id=learner.pk, now=NOW)

    unchanged = adjust_learner(learner_id=learner.pk, now=NOW + timedelta(days=7))
    GoalSkillFactory(goal=setup["goal"], skill=setup["flask"], target_level=7)
    changed = adjust_learner(learner_id=learner.pk, now=NOW + timedelta(days=14))

    assert (unchanged.skipped, unchanged.snapshot_ids) == (False, [])
    assert [a["kind"] for a in unchanged.adjustments if a["kind"] == "replan"] == []
    latest = LearningPathSnapshot.objects.get(learner=learner, is_active=True)
    assert changed.snapshot_ids == [latest.pk]
    assert (latest.version, latest.iso_week) == (2, "2026-W12")
    assert latest.change_summary == "Added Flask Web."
    assert {
        "kind": "replan",
        "goal_id": setup["goal"].pk,
        "reason": "Goal 'Backend' changed since the last plan",
    } in changed.adjustments


def test_user_generated_path_that_still_fits_is_kept(learner, setup):
    generate_learning_path(goal=setup["goal"], now=NOW - timedelta(days=1))

    result = adjust_learner(learner_id=learner.pk, now=NOW)

    assert result.snapshot_ids == []
    assert LearningPathSnapshot.objects.filter(learner=learner).count() == 1


def test_dry_run_reports_and_writes_nothing(learner, setup):
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=90)
    before = state(learner)

    result = adjust_learner(learner_id=learner.pk, now=NOW, dry_run=True)

    assert state(learner) == before
    assert [a["kind"] for a in result.adjustments] == ["increase_challenge", "replan"]
    assert result.adjustments[0]["reason"].startswith(
        "Excellent performance (90%) - increasing challenge to intermediate (your last quiz: "
    )


def test_high_scores_raise_difficulty_and_a_recovered_topic_needs_no_revision(learner, setup):
    weak = SkillFactory(slug="async_programming")
    LessonFactory(title="Await", skills=[weak])
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=90)
    quiz_attempt(learner, at=NOW - timedelta(days=2), skill=weak, correct=9, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=40), skill=weak, correct=0, total=10)
    # Latest ten answers on async_programming: 9 right of 10; quiz average (90 + 90) / 2.

    result = adjust_learner(learner_id=learner.pk, now=NOW)

    assert LearnerProfile.objects.get(user=learner).current_difficulty == "intermediate"
    assert "add_revision" not in [a["kind"] for a in result.adjustments]


def test_weak_topic_gets_revision_recommendation(learner, setup):
    weak = SkillFactory(slug="async_programming")
    await_lesson = LessonFactory(title="Await", skills=[weak])
    quiz_attempt(learner, at=NOW - timedelta(days=2), skill=weak, correct=4, total=10)

    result = adjust_learner(learner_id=learner.pk, now=NOW)

    assert {
        "kind": "add_revision",
        "reason": f"Revision added for {weak.name} (40%)",
    } in result.adjustments
    rec = Recommendation.objects.get(learner=learner, kind="revision", status="active")
    assert rec.lesson_id == await_lesson.pk
    assert rec.reason == (
        f"Study {weak.name} with “Await” — 40% correct on your last 10 answers, last "
        "practised 2 days ago; about 20 minutes"
    )
    assert "async_programming" not in rec.reason


def test_unknown_learner_is_a_clear_error():
    with pytest.raises(ValueError, match="No user with id 999999"):
        adjust_learner(learner_id=999999, now=NOW)


def test_active_learner_ids_come_in_chunks(django_assert_num_queries):
    with_goal = [LearningGoalFactory().learner for _ in range(3)]
    enrolled = EnrollmentFactory(status=Enrollment.Status.ACTIVE).learner
    recent = LearnerEventFactory(occurred_at=NOW - timedelta(days=2)).learner
    LearnerEventFactory(occurred_at=NOW - timedelta(days=40))  # not active any more
    LearnerFactory()  # nothing at all
    InstructorFactory()
    expected = sorted(u.pk for u in [*with_goal, enrolled, recent])

    with django_assert_num_queries(3):  # one query per chunk
        chunks = list(active_learner_ids(now=NOW, chunk_size=2))

    assert chunks == [expected[0:2], expected[2:4], expected[4:5]]


def test_goal_behind_schedule_is_reported(learner, setup):
    goal = setup["goal"]
    goal.deadline = (NOW + timedelta(days=14)).date()
    goal.save()
    generate_learning_path(goal=goal, now=NOW - timedelta(days=14))

    result = adjust_learner(learner_id=learner.pk, now=NOW)

    # 10 planned hours, none done; 14 of 28 days gone: 50% expected.
    assert {
        "kind": "behind_schedule",
        "goal_id": goal.pk,
        "reason": "Behind schedule on 'Backend': 0 of 10 h of the path done (0%); "
        "50% expected by now",
    } in result.adjustments
    assert result.snapshot_ids == []


def _unnamed(adjustments: list[dict]) -> list[dict]:
    """The adjustments with their reasons up to the quizzes they name (a difficulty change
    lists the quizzes it counts, test_recommendations checks how)."""
    return [{**a, "reason": a["reason"].split(" (your last")[0]} for a in adjustments]


def fresh(learner) -> User:
    return User.objects.select_related("profile").get(pk=learner.pk)


def difficulty_state(learner) -> tuple[str, str | None, list[str]]:
    """The stored level, when it last changed, and the active difficulty cards' reasons."""
    profile = LearnerProfile.objects.get(user=learner)
    cards = Recommendation.objects.filter(learner=learner, kind="difficulty", status="active")
    return (
        profile.current_difficulty,
        profile.difficulty_changed_at.isoformat() if profile.difficulty_changed_at else None,
        list(cards.values_list("reason", flat=True)),
    )


def test_a_raised_level_is_judged_only_on_quizzes_taken_at_it(learner, setup):
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=90)
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=90)

    first = adjust_learner(learner_id=learner.pk, now=NOW)

    # 90% at beginner: moved up once, and no card pushing on to advanced from the same scores.
    assert {
        "kind": "increase_challenge",
        "reason": "Excellent performance (90%) - increasing challenge to intermediate",
    } in _unnamed(first.adjustments)
    assert difficulty_state(learner) == ("intermediate", NOW.isoformat(), [])

    week = NOW + timedelta(days=7)
    second = adjust_learner(learner_id=learner.pk, now=week)
    advice = difficulty_advice(learner=fresh(learner), now=week)

    # The old beginner scores are still within 30 days but no longer count.
    assert "increase_challenge" not in [a["kind"] for a in second.adjustments]
    assert difficulty_state(learner) == ("intermediate", NOW.isoformat(), [])
    assert (advice.change, advice.attempts, advice.reason) == (
        "keep",
        0,
        "Moved to intermediate on 2026-03-04 - waiting for quiz results at this level",
    )

    raised = [
        quiz_attempt(learner, at=week + timedelta(days=1), score=90),
        quiz_attempt(learner, at=week + timedelta(days=2), score=90),
    ]
    later = week + timedelta(days=3)
    advice = difficulty_advice(learner=fresh(learner), now=later)

    assert (advice.current, advice.recommended, advice.attempts, advice.reason) == (
        "intermediate",
        "advanced",
        2,
        "Excellent performance (90%) - increasing challenge to advanced (your last 2 quizzes: "
        + ", ".join(f"“{a.assessment.title}” 90%" for a in reversed(raised))
        + ")",
    )
    adjust_learner(learner_id=learner.pk, now=week + timedelta(days=7))
    assert difficulty_state(learner) == (
        "advanced",
        (week + timedelta(days=7)).isoformat(),
        [],
    )


def test_a_lowered_level_is_judged_only_on_quizzes_taken_at_it(learner, setup):
    LearnerProfile.objects.filter(user=learner).update(current_difficulty="advanced")
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=40)
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=40)

    first = adjust_learner(learner_id=learner.pk, now=NOW)

    assert {
        "kind": "reduce_load",
        "reason": "Recent quiz average is 40% - easing to intermediate content to rebuild "
        "confidence",
    } in _unnamed(first.adjustments)
    assert difficulty_state(learner) == ("intermediate", NOW.isoformat(), [])

    week = NOW + timedelta(days=7)
    second = adjust_learner(learner_id=learner.pk, now=week)

    assert "reduce_load" not in [a["kind"] for a in second.adjustments]
    assert difficulty_state(learner) == ("intermediate", NOW.isoformat(), [])

    lowered = [
        quiz_attempt(learner, at=week + timedelta(days=1), score=30),
        quiz_attempt(learner, at=week + timedelta(days=2), score=40),
    ]
    later = week + timedelta(days=3)
    advice = difficulty_advice(learner=fresh(learner), now=later)

    # (30 + 40) / 2 = 35% at intermediate.
    assert (advice.recommended, advice.recent_average, advice.reason) == (
        "beginner",
        35.0,
        "Recent quiz average is 35% - easing to beginner content to rebuild confidence (your "
        f"last 2 quizzes: “{lowered[1].assessment.title}” 40%, "
        f"“{lowered[0].assessment.title}” 30%)",
    )
