from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assessments.models import Assessment, AssessmentAttempt
from catalog.models import Course, CourseRun
from insights.ml.dropout import dropout_dataset, evaluate_dropout
from insights.tests.oulad_sample import write_oulad_sample
from learning.models import Enrollment


@pytest.fixture
def oulad_dir(tmp_path):
    return write_oulad_sample(tmp_path / "oulad")


def _counts() -> tuple[int, ...]:
    return (
        Course.objects.count(),
        CourseRun.objects.count(),
        Assessment.objects.count(),
        Enrollment.objects.count(),
        AssessmentAttempt.objects.count(),
    )


@pytest.mark.django_db
def test_import_maps_runs_dates_and_scores_and_is_idempotent(oulad_dir):
    out = StringIO()
    call_command("import_oulad", str(oulad_dir), stdout=out)
    # 1 module, 2 runs, 4 assessments each, 32 registrations and 51 submissions per run.
    assert _counts() == (1, 2, 8, 64, 102)
    assert "64 learners" in out.getvalue()

    run = CourseRun.objects.get(code="2014J")
    assert run.starts_on.isoformat() == "2014-10-01"
    assert run.length_days == 260
    quiz = Assessment.objects.get(external_id="oulad:202")
    assert quiz.due_at == datetime(2014, 11, 10, tzinfo=UTC)  # day 40
    assert quiz.weight == 10
    assert quiz.course_run == run
    assert Assessment.objects.get(external_id="oulad:204").due_at is None  # exam without date

    drifting = Enrollment.objects.get(learner__email="learner-20001@oulad.invalid")
    assert drifting.course_run == run
    assert drifting.enrolled_at == datetime(2014, 9, 21, tzinfo=UTC)  # day -10
    assert drifting.unregistered_at == datetime(2014, 12, 20, tzinfo=UTC)  # day 80
    assert (drifting.status, drifting.final_result) == ("dropped", "withdrawn")
    assert drifting.registration_info["num_of_prev_attempts"] == 0
    assert "final_result" not in drifting.registration_info
    late = AssessmentAttempt.objects.get(learner__email="learner-20099@oulad.invalid")
    assert late.score is None  # "?" in the file

    call_command("import_oulad", str(oulad_dir), stdout=StringIO())
    assert _counts() == (1, 2, 8, 64, 102)


@pytest.mark.django_db
def test_import_of_an_incomplete_folder_stores_nothing(oulad_dir):
    (oulad_dir / "studentAssessment.csv").unlink()
    with pytest.raises(CommandError, match=r"studentAssessment\.csv is missing"):
        call_command("import_oulad", str(oulad_dir))
    assert _counts() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_day_56_population_skips_early_withdrawals_and_late_registrations(oulad_dir):
    call_command("import_oulad", str(oulad_dir), stdout=StringIO())
    data = dropout_dataset(
        enrollments=Enrollment.objects.filter(course_run__code="2014J"), days=[56]
    )
    emails = {e.learner.email for e in data.enrollments}
    assert len(emails) == 30
    assert "learner-20098@oulad.invalid" not in emails  # withdrew on day 30
    assert "learner-20099@oulad.invalid" not in emails  # registered on day 70
    assert int(data.labels.sum()) == 10
    drifting = next(
        f
        for f, e in zip(data.features, data.enrollments, strict=True)
        if e.learner.email == "learner-20001@oulad.invalid"
    )
    # Its day-40 quiz came in on day 60: missed as of day 56, like the day-20 assignment.
    assert drifting.values["missed"] == 2
    assert drifting.values["submitted"] == 0
    assert drifting.values["registration_lead_days"] == 10
    assert drifting.values["days_since_activity"] == 56


@pytest.mark.django_db
def test_evaluate_command_reports_model_and_rule_auc(oulad_dir):
    call_command("import_oulad", str(oulad_dir), stdout=StringIO())
    out = StringIO()
    call_command("evaluate_dropout_model", "--cutoff", "56", stdout=out)
    text = out.getvalue()
    assert "train: 30 enrollments, 10 withdrew later" in text
    assert "test:  30 enrollments, 10 withdrew later" in text
    # The rule flags all 10 drifting learners and the 10 struggling ones (missed the quiz):
    # TPR 1, FPR 0.5, so AUC = (1 + 0.5) / 2.
    assert "rule 'missed an assessment'      0.750" in text
    assert "logistic regression (served)     1.000" in text
    # One calibration table for the model and one for the rule (two groups: missed or not),
    # each bin's learners adding up to the 30 test learners.
    model_table = text.split("calibration, served model")[1].split("calibration, rule")[0]
    rule_table = text.split("calibration, rule as a probability:")[1].split("thresholds")[0]
    for table, bins in ((model_table, None), (rule_table, 2)):
        rows = [line.split() for line in table.splitlines() if line.strip()[:1].isdigit()]
        assert sum(int(row[1]) for row in rows) == 30
        assert bins is None or len(rows) == bins
    assert "thresholds from the training runs' predictions" in text
    assert text.count("    high  ") == 2  # served lights and chosen lights


@pytest.mark.django_db
def test_course_rates_are_fitted_on_the_training_runs_only(oulad_dir):
    call_command("import_oulad", str(oulad_dir), stdout=StringIO())
    course = Course.objects.get()
    before = evaluate_dropout(cutoff_day=56)
    # 10 of the 30 learners of 2013J still there at day 56 withdrew later: 1/3 (one course,
    # so the smoothing toward the overall rate changes nothing).
    assert before.course_rates.of(course.id) == pytest.approx(1 / 3)

    # Every 2014J learner withdrawing changes the test labels, not the fitted rate.
    Enrollment.objects.filter(course_run__code="2014J").update(
        status=Enrollment.Status.DROPPED, final_result=Enrollment.FinalResult.WITHDRAWN
    )
    after = evaluate_dropout(cutoff_day=56)
    assert after.test_dropouts == 30
    assert after.course_rates == before.course_rates


@pytest.mark.django_db
def test_evaluate_command_ablation_and_unknown_feature(oulad_dir):
    call_command("import_oulad", str(oulad_dir), stdout=StringIO())
    out = StringIO()
    call_command(
        "evaluate_dropout_model",
        "--cutoffs",
        "28,56",
        "--without",
        "course_withdrawal_rate,score_percentile",
        stdout=out,
    )
    text = out.getvalue()
    assert "features as of day 28 (train 2013*, test 2014*), without course_withdrawal_rate" in text
    assert "features as of day 56 (train 2013*, test 2014*), without course_withdrawal_rate" in text
    assert "logistic regression (served)     1.000" in text
    with pytest.raises(CommandError, match="comma-separated day numbers"):
        call_command("evaluate_dropout_model", "--cutoffs", "56,x", stdout=StringIO())
    with pytest.raises(CommandError, match=r"Unknown features \['clicks'\]"):
        call_command("evaluate_dropout_model", "--without", "clicks", stdout=StringIO())


@pytest.mark.django_db
def test_evaluate_without_data_exits_with_the_reason():
    with pytest.raises(CommandError, match="import OULAD first"):
        call_command("evaluate_dropout_model", "--cutoff", "56")
