"""Insights tasks run in process (Task.apply): what each does, and that a rerun is harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import SkillFactory
from insights.models import LearningPathSnapshot, MLModel, PendingJob, Recommendation
from insights.tasks import (
    adjust_learner_chunk,
    adjust_learning_paths_weekly,
    refit_skill_model,
    refresh_recommendations,
)
from insights.tests.helpers import quiz_attempt
from insights.tests.weekly_data import learners_due_adjustment
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 9, 3, tzinfo=UTC)


def test_weekly_fan_out_defers_one_job_per_chunk_with_the_same_now(
    django_capture_on_commit_callbacks,
):
    learners = learners_due_adjustment(5, now=MONDAY)

    with django_capture_on_commit_callbacks(execute=False) as sends:
        result = adjust_learning_paths_weekly.apply(
            kwargs={"now": MONDAY.isoformat(), "chunk_size": 2}
        )

    assert result.result == 3
    chunks = PendingJob.objects.filter(task_name="insights.adjust_learner_chunk").order_by("pk")
    ids = [learner.pk for learner in learners]
    assert [job.kwargs for job in chunks] == [
        {"learner_ids": ids[0:2], "now": "2026-03-09T03:00:00+00:00"},
        {"learner_ids": ids[2:4], "now": "2026-03-09T03:00:00+00:00"},
        {"learner_ids": ids[4:5], "now": "2026-03-09T03:00:00+00:00"},
    ]
    # Sent only once the fan-out's transaction commits.
    assert len(sends) == 3


def test_chunk_isolates_a_failing_learner():
    first, last = learners_due_adjustment(2, now=MONDAY)
    without_profile = LearnerFactory(profile=None, password=None)

    result = adjust_learner_chunk.apply(
        kwargs={"learner_ids": [first.pk, without_profile.pk, last.pk], "now": MONDAY.isoformat()}
    )

    assert result.result == {"adjusted": 2, "failed": 1}
    assert set(LearningPathSnapshot.objects.values_list("learner_id", flat=True)) == {
        first.pk,
        last.pk,
    }


def test_refresh_recommendations_recommends_the_first_lesson():
    learner = learners_due_adjustment(1, now=MONDAY)[0]
    assert learner.profile.recommendations_refreshed_at is None  # never refreshed

    assert refresh_recommendations.apply(kwargs={"learner_id": learner.pk}).result == 1
    learner.profile.refresh_from_db()
    assert learner.profile.recommendations_refreshed_at is not None
    assert learner.profile.struggle["is_struggling"] is False
    assert refresh_recommendations.apply(kwargs={"learner_id": learner.pk}).result == 1

    active = Recommendation.objects.get(learner=learner, status="active")
    assert (active.kind, active.lesson.title) == ("next_lesson", "Variables")


def test_refresh_for_a_deleted_learner_does_nothing():
    assert refresh_recommendations.apply(kwargs={"learner_id": 987654}).result == 0


def test_refit_stores_a_new_version_only_when_there_are_new_answers():
    learner = LearnerFactory(password=None)
    python = SkillFactory(slug="python")
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=python)

    assert refit_skill_model.apply().result is None  # no answers at all
    quiz_attempt(learner, at=MONDAY - timedelta(days=2), skill=python, correct=2, total=4)

    first = refit_skill_model.apply().result
    again = refit_skill_model.apply().result
    quiz_attempt(learner, at=MONDAY - timedelta(days=1), skill=python, correct=3, total=4)
    after_new_answers = refit_skill_model.apply().result

    assert (first, again, after_new_answers) == (1, None, 2)
    active = MLModel.objects.get(name="skill_model", is_active=True)
    assert (active.version, active.metrics["answers"]) == (2, 8)
