from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import LearnerFactory
from insights.models import LearningPathSnapshot, Recommendation
from insights.tests.weekly_data import learners_due_adjustment
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db

WEEK = "2026-W11"
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)


def run(capsys, *args: str) -> str:
    call_command("adjust_learning_paths", *args)
    return capsys.readouterr().out


def weekly_snapshots(learner) -> list[tuple[int, str, str]]:
    return list(
        LearningPathSnapshot.objects.filter(learner=learner).values_list(
            "version", "trigger", "iso_week"
        )
    )


def recommendations() -> list[tuple]:
    return list(
        Recommendation.objects.order_by("pk").values_list(
            "pk", "learner_id", "kind", "lesson_id", "status", "updated_at"
        )
    )


def test_week_run_plans_every_learner_and_recommends_the_first_lesson(capsys):
    learners = learners_due_adjustment(3, now=MONDAY)

    out = run(capsys, "--week", WEEK, "-v", "2")

    assert f"Adjusting week {WEEK} (now = 2026-03-09T00:00:00+00:00)" in out
    assert "chunk 1: 3 learners (3 so far)" in out
    assert "3 learners: 3 adjusted, 0 already adjusted this week, 0 failed." in out
    for learner in learners:
        assert weekly_snapshots(learner) == [(1, "weekly_adjustment", WEEK)]
        assert f"learner {learner.pk}: 1 new path version(s), 1 active recommendations" in out
    assert sorted((r[1], r[2], r[4]) for r in recommendations()) == [
        (learner.pk, "next_lesson", "active") for learner in learners
    ]


def test_second_run_in_the_same_week_changes_nothing(capsys):
    learners = learners_due_adjustment(2, now=MONDAY)
    run(capsys, "--week", WEEK)
    before = recommendations()

    out = run(capsys, "--week", WEEK)

    assert "2 learners: 0 adjusted, 2 already adjusted this week, 0 failed." in out
    assert recommendations() == before
    assert [weekly_snapshots(learner) for learner in learners] == [
        [(1, "weekly_adjustment", WEEK)],
        [(1, "weekly_adjustment", WEEK)],
    ]


def test_dry_run_reports_decisions_and_writes_nothing(capsys):
    learner = learners_due_adjustment(1, now=MONDAY)[0]

    out = run(capsys, "--week", WEEK, "--dry-run", "-v", "2")

    assert f"Dry run for week {WEEK}" in out
    assert f"learner {learner.pk}: would apply: replan" in out
    assert weekly_snapshots(learner) == []
    assert recommendations() == []
    # A dry run does not use up the week: the real run still happens.
    assert "1 adjusted" in run(capsys, "--week", WEEK)


def test_learner_option_limits_the_run(capsys):
    first, second = learners_due_adjustment(2, now=MONDAY)

    out = run(capsys, "--week", WEEK, "--learner", str(second.pk))

    assert "1 learners: 1 adjusted" in out
    assert weekly_snapshots(first) == []
    assert weekly_snapshots(second) == [(1, "weekly_adjustment", WEEK)]


def test_one_failing_learner_does_not_stop_the_others(capsys):
    first, last = learners_due_adjustment(2, now=MONDAY)
    # Active (has a goal) but without the profile the adjustment needs.
    broken = LearnerFactory(profile=None)
    goal = LearningGoalFactory(learner=broken)
    GoalSkillFactory(goal=goal, skill=first.learning_goals.get().target_skills.get().skill)

    with pytest.raises(CommandError, match=f"1 learner\\(s\\) failed: {broken.pk}"):
        call_command("adjust_learning_paths", "--week", WEEK)

    captured = capsys.readouterr()
    assert f"learner {broken.pk}: FAILED User {broken.pk} has no learner profile." in captured.err
    assert "3 learners: 2 adjusted, 0 already adjusted this week, 1 failed." in captured.out
    assert weekly_snapshots(first) == [(1, "weekly_adjustment", WEEK)]
    assert weekly_snapshots(last) == [(1, "weekly_adjustment", WEEK)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-48"], "--week must look like 2026-W48, not '2026-48'."),
        (["--week", "2026-W54"], "--week 2026-W54: Invalid week: 54."),
        (["--learner", "999999"], "No learner with id 999999."),
        (["--chunk-size", "0"], "--chunk-size must be at least 1."),
    ],
)
def test_bad_options_are_rejected_with_a_reason(args, message):
    with pytest.raises(CommandError) as error:
        call_command("adjust_learning_paths", *args)

    assert str(error.value) == message
