from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.urls import reverse

from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import CourseFactory
from insights.ml.irt import refresh_item_analysis
from insights.ml.registry import model_save
from insights.ml.segments import FEATURES, Segment, SegmentModel, store_segments
from insights.models import DropoutRisk, MLModel
from insights.tests.ml_data import build_answered_quiz
from learning.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _change(obj) -> str:
    return reverse(f"admin:assessments_{obj._meta.model_name}_change", args=[obj.pk])


def test_owner_sees_item_analysis_on_assessment_and_question(client, instructor):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    refresh_item_analysis(now=NOW)
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


@pytest.fixture
def at_risk(instructor, other_instructor, learner, other_learner):
    """Ines's Python: Alice (high, steady evening), Bob (medium, occasional), Dan (completed).
    Oscar's SQL: Carol (high, occasional)."""
    python = CourseFactory(title="Python", owner=instructor)
    sql = CourseFactory(title="SQL", owner=other_instructor)
    carol, dan = LearnerFactory(email="carol@example.com"), LearnerFactory(email="dan@example.com")
    risks = {
        "alice": _risk(EnrollmentFactory(learner=learner, course=python), 0.8, "high"),
        "bob": _risk(EnrollmentFactory(learner=other_learner, course=python), 0.4, "medium"),
        "carol": _risk(EnrollmentFactory(learner=carol, course=sql), 0.9, "high"),
        "dan": _risk(
            EnrollmentFactory(learner=dan, course=python, status="completed"), 0.9, "high"
        ),
    }
    steady = dict.fromkeys(FEATURES, 1.0)
    model = SegmentModel(
        mean=np.zeros(len(FEATURES)),
        scale=np.ones(len(FEATURES)),
        centers=np.array([np.ones(len(FEATURES)), -np.ones(len(FEATURES))]),
        labels=np.array([0, 1]),
        inertia=0.0,
        segments=[
            Segment(0, "steady evening learners", "active on 20 of the last 28 days", 1, steady),
            Segment(1, "occasional learners who stall", "active on 2 of the last 28 days", 1, {}),
        ],
    )
    model_save(name="segments", artifact=model, now=NOW, activate=True)
    store_segments(
        assignments={
            learner.pk: model.segments[0],
            other_learner.pk: model.segments[1],
            carol.pk: model.segments[1],
            dan.pk: model.segments[1],
        },
        model_version=1,
        now=NOW,
    )
    return risks


def _risk(enrollment, probability: float, level: str) -> DropoutRisk:
    return DropoutRisk.objects.create(
        enrollment=enrollment,
        probability=probability,
        level=level,
        factors=[
            {"factor": "inactive", "text": "no activity for 12 days", "weight": 1.0},
            {"factor": "missed", "text": "missed 2 of the last 3 quizzes", "weight": 0.5},
        ],
        features={"days_since_activity": 12.0},
        scored_at=NOW,
    )


LISTING = "admin:insights_dropoutrisk_changelist"


def _listed(response) -> list[str]:
    return [row.enrollment.learner.email for row in response.context["cl"].result_list]


def _overview(response) -> list[tuple[str, int]]:
    return [(s.name, s.learners) for s in response.context["segments"]]


def test_instructor_sees_own_at_risk_learners_with_segments(client, instructor, at_risk):
    client.force_login(instructor)
    response = client.get(reverse(LISTING))
    # Highest risk first; Dan's finished enrollment is not at risk; Carol is Oscar's.
    assert _listed(response) == ["alice@example.com", "bob@example.com"]
    assert _overview(response) == [
        ("steady evening learners", 1),
        ("occasional learners who stall", 1),
    ]
    page = response.content.decode()
    assert "Segments of your learners" in page and "active on 2 of the last 28 days" in page

    filtered = client.get(reverse(LISTING), {"segment": "occasional learners who stall"})
    assert _listed(filtered) == ["bob@example.com"]

    detail = client.get(reverse("admin:insights_dropoutrisk_change", args=[at_risk["alice"].pk]))
    page = detail.content.decode()
    assert "<li>no activity for 12 days</li><li>missed 2 of the last 3 quizzes</li>" in page
    assert (
        "<strong>steady evening learners</strong>: active on 20 of the last 28 days "
        "(segments model v1, assigned 2026-11-24)"
    ) in page
    for other in ("carol", "dan"):
        url = reverse("admin:insights_dropoutrisk_change", args=[at_risk[other].pk])
        assert client.get(url).status_code == 404


def test_other_instructor_and_admin_see_their_scope(
    client, other_instructor, admin_user, learner, at_risk
):
    client.force_login(other_instructor)
    response = client.get(reverse(LISTING))
    assert _listed(response) == ["carol@example.com"]
    assert _overview(response) == [("occasional learners who stall", 1)]
    url = reverse("admin:insights_dropoutrisk_change", args=[at_risk["alice"].pk])
    assert client.get(url).status_code == 404

    client.force_login(admin_user)
    response = client.get(reverse(LISTING))
    assert _listed(response) == ["carol@example.com", "alice@example.com", "bob@example.com"]
    assert _overview(response) == [
        ("occasional learners who stall", 2),
        ("steady evening learners", 1),
    ]
    assert client.get(url).status_code == 200

    client.force_login(learner)
    for path in (reverse(LISTING), url):
        response = client.get(path)
        assert (response.status_code, response["Location"].split("?")[0]) == (
            302,
            reverse("admin:login"),
        )


@pytest.mark.parametrize("extra", [0, 30])
def test_at_risk_listing_queries_do_not_grow(
    client, instructor, at_risk, extra, django_assert_max_num_queries
):
    course = CourseFactory(owner=instructor)
    for _ in range(extra):
        _risk(EnrollmentFactory(course=course), 0.5, "medium")
    client.force_login(instructor)
    # Session, user, counts, rows (learner, profile and course joined), the course filter,
    # the registry's check and the segment overview's one grouped query: 11 at any size.
    with django_assert_max_num_queries(11):
        response = client.get(reverse(LISTING))
    assert len(_listed(response)) == 2 + extra
