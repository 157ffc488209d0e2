from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory
from catalog.tests.factories import CourseFactory
from insights.ml import registry
from insights.ml.dropout import (
    risk_level,
    score_active_enrollments,
    score_enrollments,
    train_dropout,
)
from insights.models import DropoutRisk, MLModel, Recommendation
from insights.tests.oulad_sample import write_oulad_sample
from learning.models import Enrollment
from learning.tests.factories import EnrollmentFactory, LearnerEventFactory

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def fresh_loader():
    # The process-wide loader would otherwise serve a model cached by an earlier test.
    registry.loader.clear()
    yield
    registry.loader.clear()


@pytest.fixture
def trained(tmp_path):
    call_command("import_oulad", str(write_oulad_sample(tmp_path)), stdout=StringIO())
    return train_dropout(enrollments=Enrollment.objects.all(), now=T, days=[56])


@pytest.fixture
def platform(learner, other_learner):
    """Alice stopped 60 days ago and missed all three quizzes; Bob is on track."""
    course = CourseFactory(title="Python Basics")
    quizzes = [AssessmentFactory(course=course, due_at=T - d * DAY) for d in (60, 50, 40)]
    alice = EnrollmentFactory(learner=learner, course=course, enrolled_at=T - 70 * DAY)
    bob = EnrollmentFactory(learner=other_learner, course=course, enrolled_at=T - 70 * DAY)
    LearnerEventFactory(learner=learner, course_id=course.id, occurred_at=T - 60 * DAY)
    for quiz in quizzes:
        at = quiz.due_at - DAY
        AssessmentAttemptFactory(
            learner=other_learner, assessment=quiz, started_at=at, submitted_at=at, score=85
        )
    LearnerEventFactory(learner=other_learner, course_id=course.id, occurred_at=T - DAY)
    return alice, bob


def test_traffic_light_thresholds():
    assert [risk_level(p) for p in (0.0, 0.19, 0.2, 0.39, 0.4, 1.0)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


@pytest.mark.django_db
def test_training_stores_an_active_version_with_metrics(trained):
    assert trained.is_active and trained.name == "dropout" and trained.version == 1
    # Day 56 of both runs: 30 learners each, 10 of whom withdrew later.
    assert trained.metrics["examples"] == 60
    assert trained.metrics["dropouts"] == 20
    assert trained.training_window_start < trained.training_window_end


@pytest.mark.django_db
def test_risk_factors_name_the_learners_own_numbers(trained, platform):
    alice, bob = platform
    risks = {r.enrollment_id: r for r in score_enrollments(enrollments=platform, now=T)}
    assert risks[alice.id].level == "high"
    assert risks[bob.id].level == "low"
    texts = [f["text"] for f in risks[alice.id].factors]
    assert "missed 3 of the 3 assessments due so far" in texts
    assert set(texts) <= {
        "missed 3 of the 3 assessments due so far",
        "missed 3 of the last 3 assessments",
        "no activity for 60 days",
        "no graded assessment yet",
    }
    weights = [f["weight"] for f in risks[alice.id].factors]
    assert weights == sorted(weights, reverse=True) and weights[-1] > 0


@pytest.mark.django_db
def test_nightly_scoring_stores_risks_and_supports_high_risk_once(trained, platform):
    alice, bob = platform
    summary = score_active_enrollments(now=T)
    assert (summary.model_version, summary.scored, summary.high) == (1, 2, 1)

    stored = {r.enrollment_id: r for r in DropoutRisk.objects.all()}
    assert set(stored) == {alice.id, bob.id}  # imported OULAD runs are over: not scored
    assert stored[alice.id].level == "high" and stored[alice.id].model_id == trained.id
    (support,) = Recommendation.objects.filter(kind=Recommendation.Kind.SUPPORT)
    assert support.learner_id == alice.learner_id and support.course_id == alice.course_id
    assert support.reason.startswith("Keep going with Python Basics: ")
    assert stored[alice.id].factors[0]["text"] in support.reason

    # Re-running the same night changes nothing and adds no second recommendation.
    again = score_active_enrollments(now=T)
    assert again.support_recommendations == 0
    assert DropoutRisk.objects.count() == 2
    assert Recommendation.objects.filter(kind=Recommendation.Kind.SUPPORT).count() == 1

    # Bob completes the course: his stale risk disappears on the next run.
    Enrollment.objects.filter(pk=bob.pk).update(status=Enrollment.Status.COMPLETED)
    score_active_enrollments(now=T + DAY)
    assert list(DropoutRisk.objects.values_list("enrollment_id", flat=True)) == [alice.id]


@pytest.mark.django_db
def test_scoring_without_an_active_model_does_nothing(platform):
    summary = score_active_enrollments(now=T)
    assert (summary.model_version, summary.scored) == (None, 0)
    assert not DropoutRisk.objects.exists()


@pytest.mark.django_db
def test_train_models_command(tmp_path):
    with pytest.raises(CommandError, match="Could not train: dropout"):
        call_command("train_models", "--name", "dropout", stdout=StringIO(), stderr=StringIO())
    call_command("import_oulad", str(write_oulad_sample(tmp_path)), stdout=StringIO())
    out = StringIO()
    call_command("train_models", "--name", "dropout", stdout=out)
    assert "dropout: stored v1 (active)" in out.getvalue()
    # Per run: day 28 has the 30 learners plus the day-30 withdrawal (31); day 56 the 30;
    # day 84 loses the 10 who withdrew on day 80 and gains the day-70 registrant (21).
    assert MLModel.objects.get(name="dropout").metrics["examples"] == 2 * (31 + 30 + 21)


@pytest.mark.django_db
def test_score_command_dry_run_writes_nothing(trained, platform):
    out = StringIO()
    call_command("score_dropout_risk", "--dry-run", stdout=out)
    assert "Would score 2 active enrollments with dropout v1" in out.getvalue()
    assert not DropoutRisk.objects.exists()
    assert not Recommendation.objects.exists()


@pytest.mark.django_db
def test_score_command_without_a_model_says_so(platform):
    with pytest.raises(CommandError, match="No active dropout model"):
        call_command("score_dropout_risk", stdout=StringIO())


@pytest.mark.django_db
def test_nightly_scoring_queries_do_not_grow_with_enrollments(
    trained, platform, django_assert_max_num_queries
):
    alice, _ = platform
    # active-model id + its artifact (first use), active enrollments, 5 feature queries,
    # savepoint, risk upsert, support recommendations, release, stale-risk cleanup
    with django_assert_max_num_queries(13):
        assert score_active_enrollments(now=T).scored == 2
    for _ in range(30):
        EnrollmentFactory(course=alice.course, enrolled_at=T - 10 * DAY)
    with django_assert_max_num_queries(13):
        assert score_active_enrollments(now=T).scored == 32
