from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from catalog.tests.factories import CourseFactory
from insights.ml.registry import model_save
from insights.models import DropoutRisk, MLModel
from insights.tests.ml_data import build_answered_quiz
from learning.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _change(obj) -> str:
    return reverse(f"admin:assessments_{obj._meta.model_name}_change", args=[obj.pk])


def test_owner_sees_item_analysis_on_assessment_and_question(client, instructor):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    client.force_login(instructor)

    page = client.get(_change(quiz)).content.decode()
    assert "item analysis" in page.lower()
    assert "negative discrimination" in page  # question 4 has a reversed key
    assert "distractor nobody picks: “Nobody falls for this”" in page
    assert "(predicted)" in page  # question 6 has 5 answers

    question_page = client.get(_change(qs[0])).content.decode()
    assert "<td>75%</td>" in question_page
    assert "negative discrimination" not in question_page


def test_other_instructor_cannot_open_the_analysis(client, instructor, other_instructor):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    client.force_login(other_instructor)
    assert client.get(_change(quiz)).status_code == 404
    assert client.get(_change(qs[0])).status_code == 404


def test_rollback_action_restores_the_previous_version(client, admin_user):
    model_save(name="dropout", artifact={"v": 1}, now=NOW, activate=True)
    newer = model_save(name="dropout", artifact={"v": 2}, now=NOW, activate=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:insights_mlmodel_changelist"),
        {"action": "rollback", "_selected_action": [newer.pk]},
        follow=True,
    )
    assert "Active now: dropout v1." in response.content.decode()
    assert list(MLModel.objects.filter(is_active=True).values_list("version", flat=True)) == [1]

    response = client.post(
        reverse("admin:insights_mlmodel_changelist"),
        {"action": "rollback", "_selected_action": [newer.pk]},
        follow=True,
    )
    assert "nothing to roll back to" in response.content.decode()


def test_instructor_sees_at_risk_learners_of_own_courses_in_admin(
    client, instructor, other_instructor, learner
):
    enrollment = EnrollmentFactory(learner=learner, course=CourseFactory(owner=instructor))
    risk = DropoutRisk.objects.create(
        enrollment=enrollment,
        probability=0.7,
        level="high",
        factors=[{"factor": "inactive", "text": "no activity for 12 days", "weight": 1.0}],
        scored_at=NOW,
    )
    listing = reverse("admin:insights_dropoutrisk_changelist")
    detail = reverse("admin:insights_dropoutrisk_change", args=[risk.pk])
    client.force_login(instructor)
    assert "no activity for 12 days" in client.get(listing).content.decode()
    assert client.get(detail).status_code == 200
    client.force_login(other_instructor)
    assert "no activity for 12 days" not in client.get(listing).content.decode()
    assert client.get(detail).status_code == 404
