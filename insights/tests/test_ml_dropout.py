from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory
from catalog.tests.factories import CourseFactory
from insights.ml import registry
from insights.ml.dropout import (
    COURSE_RATE,
    Dataset,
    DropoutArtifact,
    dropout_dataset,
    explain,
    factor_text,
    fit_artifact,
    fit_course_rates,
    make_estimator,
    risk_level,
    score_active_enrollments,
    score_enrollments,
    train_dropout,
)
from insights.ml.features import FEATURE_NAMES, EnrollmentFeatures, cutoff_for_day, features_as_of
from insights.models import DropoutRisk, MLModel, Recommendation
from insights.recommendations import refresh_recommendations
from insights.tests.oulad_sample import write_oulad_sample
from insights.weekly import adjust_learner
from learning.models import Enrollment
from learning.tests.factories import EnrollmentFactory, LearnerEventFactory

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


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
    assert [risk_level(p) for p in (0.0, 0.089, 0.09, 0.189, 0.19, 1.0)] == [
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
    # The model card on the version: the time-split validation and the lights it used.
    metrics = trained.metrics
    assert metrics["thresholds"] == {"medium": 0.09, "high": 0.19}
    assert set(metrics["validation_lights"]) == {"high", "medium", "low"}
    shares = [light["share"] for light in metrics["validation_lights"].values()]
    assert sum(shares) == pytest.approx(1.0)
    assert 0 <= metrics["validation_brier"] <= 1
    assert 0 <= metrics["validation_pr_auc"] <= 1


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
def test_support_card_survives_a_refresh(trained, platform):
    alice, _ = platform
    score_active_enrollments(now=T)
    (support,) = Recommendation.objects.filter(kind="support", status="active")

    # What a finished lesson or quiz triggers (the follow-up), then the weekly run.
    refresh_recommendations(learner=alice.learner, now=T + HOUR)
    adjust_learner(learner_id=alice.learner_id, now=T + 2 * HOUR)

    support.refresh_from_db()
    assert (support.status, support.course_id) == ("active", alice.course_id)
    assert support.reason.startswith("Keep going with Python Basics: ")
    assert Recommendation.objects.filter(kind="support").count() == 1

    # Once the risk is no longer high, the next refresh retires the card.
    DropoutRisk.objects.filter(enrollment=alice).update(level=DropoutRisk.Level.MEDIUM)
    refresh_recommendations(learner=alice.learner, now=T + 3 * HOUR)
    support.refresh_from_db()
    assert support.status == "expired"


@pytest.mark.django_db
def test_a_risk_no_longer_high_loses_its_card_on_the_next_night(trained, platform):
    alice, _ = platform
    score_active_enrollments(now=T)
    LearnerEventFactory(learner=alice.learner, course_id=alice.course_id, occurred_at=T + DAY)
    for quiz in alice.course.assessments.all():
        AssessmentAttemptFactory(
            learner=alice.learner, assessment=quiz, started_at=T, submitted_at=T, score=90
        )

    summary = score_active_enrollments(now=T + DAY)

    assert summary.high == 0
    assert not Recommendation.objects.filter(kind="support", status="active").exists()


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
    # active-model id + its artifact (first use), active enrollments, 6 feature queries,
    # risk upsert, stale-risk cleanup, learners holding a support card (12), then per chunk
    # of learners to refresh the recommendation writer's fixed set (24 with the lock
    # rule's facts and graphs).
    with django_assert_max_num_queries(36):
        assert score_active_enrollments(now=T).scored == 2
    for _ in range(30):
        EnrollmentFactory(course=alice.course, enrolled_at=T - 10 * DAY)
    with django_assert_max_num_queries(36):
        assert score_active_enrollments(now=T).scored == 32


# The feature list of dropout model versions trained before the course rate, the grade
# weight features and the score percentile were added.
FIRST_FEATURES = tuple(
    n
    for n in FEATURE_NAMES
    if n not in ("weight_missed", "weight_submitted_share", "score_percentile")
)


def _examples(rows: list[tuple[int, int]]) -> Dataset:
    """(course id, withdrew) per example; the learner features are all zero."""
    zeros = dict.fromkeys(FEATURE_NAMES, 0.0)
    features = [
        EnrollmentFeatures(i, T, {**zeros, "missed": float(y)}, {}, course)
        for i, (course, y) in enumerate(rows)
    ]
    return Dataset(features, np.array([y for _, y in rows]))


def test_course_rates_shrink_toward_the_overall_rate():
    # Course 1: 6 of 8 withdrew; course 2: 0 of 12; overall 6 of 20 = 0.3.
    data = _examples([(1, 1)] * 6 + [(1, 0)] * 2 + [(2, 0)] * 12)
    rates = fit_course_rates(course_ids=[f.course_id for f in data.features], labels=data.labels)
    assert rates.overall == pytest.approx(0.3)
    assert rates.of(1) == pytest.approx((6 + 20 * 0.3) / (8 + 20))
    assert rates.of(2) == pytest.approx((0 + 20 * 0.3) / (12 + 20))
    assert rates.of(3) == pytest.approx(0.3) and not rates.seen(3)
    assert rates.of(None) == pytest.approx(0.3)

    artifact = fit_artifact(data=data, days=[56])
    assert artifact.feature_names[-1] == COURSE_RATE
    assert artifact.course_rates == rates
    assert artifact.values(data.features[0])[COURSE_RATE] == pytest.approx(12 / 28)


def test_factor_texts_for_grade_weight_standing_and_course():
    v = {"weight_missed": 30.0, "weight_submitted_share": 0.25, "no_score_yet": 0.0,
         "score_percentile": 0.125, COURSE_RATE: 0.2345}  # fmt: skip
    assert factor_text("missed_weight", v, {}) == (
        "missed work worth 30 % of the course grade (75% of the grade weight due so far)"
    )
    assert factor_text("standing", v, {}) == (
        "graded results so far ahead of 12% of the course's learners"
    )
    assert factor_text("course", v, {"course_seen": 1.0}) == (
        "in earlier runs of this course 23% of the learners still enrolled partway through "
        "withdrew later"
    )
    # A course the model never saw gets the overall rate, which says nothing about it.
    assert factor_text("course", v, {"course_seen": 0.0}) is None
    assert factor_text("standing", {**v, "no_score_yet": 1.0}, {}) is None
    assert factor_text("missed_weight", {**v, "weight_missed": 0.0}, {}) is None


@pytest.mark.django_db
def test_oulad_learner_factors_carry_their_own_numbers(trained):
    # A drifting 2014J learner of the sample at day 56: registered 10 days early, handed in
    # neither the day-20 assignment (20 % of the grade) nor the day-40 quiz (10 %).
    drifting = Enrollment.objects.select_related("course_run").get(
        learner__email="learner-20001@oulad.invalid"
    )
    (features,) = features_as_of(pairs=[(drifting, cutoff_for_day(drifting, 56))])
    artifact = registry.active_model("dropout").artifact
    texts = [f["text"] for f in explain(artifact, features)]
    assert texts
    assert set(texts) <= {
        "missed 2 of the 2 assessments due so far",
        "missed 2 of the last 2 assessments",
        "missed work worth 30 % of the course grade (100% of the grade weight due so far)",
        "no activity for 56 days",
        "no graded assessment yet",
        "registered 10 days before the course started",
        # 20 of the 60 day-56 examples withdrew later (one course: its rate is the overall).
        "in earlier runs of this course 33% of the learners still enrolled partway through "
        "withdrew later",
    }


@pytest.mark.django_db
def test_a_version_stored_before_the_new_features_still_loads_and_scores(trained, platform):
    """Old artifacts (pickled without course rates, on the first feature list) keep working
    until a newer version is activated."""
    oulad = Enrollment.objects.filter(course_run__isnull=False)  # what `trained` was fit on
    data = dropout_dataset(enrollments=oulad, days=[56])
    estimator = make_estimator().fit(
        np.array([[f.values[n] for n in FIRST_FEATURES] for f in data.features]), data.labels
    )
    old = DropoutArtifact.__new__(DropoutArtifact)
    old.__dict__.update(estimator=estimator, feature_names=FIRST_FEATURES, days=(56,))
    assert "course_rates" not in old.__dict__  # pickled exactly as before the new field
    version = registry.model_save(name="dropout", artifact=old, now=T, activate=True)

    alice, bob = platform
    risks = {r.enrollment_id: r for r in score_enrollments(enrollments=platform, now=T)}
    assert registry.active_model("dropout").version == version.version == 2
    assert registry.active_model("dropout").artifact.course_rates is None
    assert risks[alice.id].level == "high" and risks[bob.id].level == "low"
    assert "missed 3 of the 3 assessments due so far" in [
        f["text"] for f in risks[alice.id].factors
    ]
    assert COURSE_RATE not in risks[alice.id].features

    # Retraining stores a version on the full feature list that is served from then on.
    new = train_dropout(enrollments=oulad, now=T, days=[56])
    assert new.parameters["features"][-1] == COURSE_RATE
    rescored = score_enrollments(enrollments=platform, now=T)
    # Python Basics is not one of the trained courses: the overall rate, 20 of 60.
    assert rescored[0].features[COURSE_RATE] == pytest.approx(1 / 3, abs=1e-3)
