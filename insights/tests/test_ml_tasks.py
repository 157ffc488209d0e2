"""Predictive-model tasks run in process (Task.apply)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.tests.factories import CourseFactory
from insights.models import DropoutRisk, MLModel
from insights.tasks import score_dropout_risk, train_predictive_models
from insights.tests.oulad_sample import write_oulad_sample
from learning.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_weekly_training_skips_what_the_data_cannot_support(tmp_path):
    assert train_predictive_models.apply(kwargs={"names": ["dropout"]}).result == {"dropout": None}
    call_command("import_oulad", str(write_oulad_sample(tmp_path)), stdout=StringIO())
    result = train_predictive_models.apply(kwargs={"names": ["dropout", "course_cf"]}).result
    assert result == {"dropout": 1, "course_cf": 1}
    assert set(MLModel.objects.filter(is_active=True).values_list("name", flat=True)) == {
        "dropout",
        "course_cf",
    }


def test_nightly_scoring_task(tmp_path, learner):
    assert score_dropout_risk.apply(kwargs={"now": NIGHT.isoformat()}).result["scored"] == 0
    call_command("import_oulad", str(write_oulad_sample(tmp_path)), stdout=StringIO())
    train_predictive_models.apply(kwargs={"names": ["dropout"]})
    enrollment = EnrollmentFactory(
        learner=learner, course=CourseFactory(), enrolled_at=NIGHT - timedelta(days=30)
    )
    result = score_dropout_risk.apply(kwargs={"now": NIGHT.isoformat()}).result
    assert (result["model_version"], result["scored"]) == (1, 1)
    assert DropoutRisk.objects.get().enrollment == enrollment
