"""GET /api/v1/ai/recommendations is a read: stored active rows, never a refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.models import PendingJob, Recommendation
from insights.tasks import refresh_recommendations
from insights.tests.factories import RecommendationFactory
from learning.models import LessonProgress
from learning.tests.factories import EnrollmentFactory
from learning.tests.follow_up import run_deferred_jobs

pytestmark = pytest.mark.django_db

URL = "/api/v1/ai/recommendations"


@pytest.fixture
def lessons(learner):
    module = ModuleFactory(course=CourseFactory(title="Django"), order=1)
    first = LessonFactory(module=module, title="Models", order=1)
    second = LessonFactory(module=module, title="Views", order=2)
    EnrollmentFactory(learner=learner, course=module.course)
    return first, second


def lesson_ids(response) -> list[int | None]:
    return [row["lesson"] for row in response.json()["results"]]


def test_a_never_refreshed_learner_reads_nothing_until_a_write_follows_up(as_user, learner):
    module = ModuleFactory(course=CourseFactory(title="Django"), order=1)
    first = LessonFactory(module=module, title="Models", order=1)
    api = as_user(learner)

    response = api.get(URL)

    assert (response.status_code, response.json()["results"]) == (200, [])
    learner.profile.refresh_from_db()
    assert learner.profile.recommendations_refreshed_at is None
    assert not PendingJob.objects.exists()

    # Enrolling is what makes the learner's first set worth computing.
    api.post("/api/v1/learning/enrollments/", {"course": module.course_id}, format="json")
    run_deferred_jobs()

    assert first.pk in lesson_ids(api.get(URL))


def test_later_reads_serve_the_stored_rows_without_writing(
    as_user, learner, lessons, django_assert_max_num_queries
):
    api = as_user(learner)
    refresh_recommendations.apply(kwargs={"learner_id": learner.pk})
    first = api.get(URL)
    assert lessons[0].pk in lesson_ids(first)
    stamps = dict(Recommendation.objects.values_list("pk", "updated_at"))
    # Lesson 1 completed behind the engine's back: a refresh would now suggest lesson 2.
    LessonProgress.objects.create(
        learner=learner,
        lesson=lessons[0],
        status=LessonProgress.Status.COMPLETED,
        started_at=timezone.now(),
        completed_at=timezone.now(),
    )

    # As a new request would: a user loaded afresh, not the one the first request changed.
    api = as_user(User.objects.get(pk=learner.pk))

    with django_assert_max_num_queries(2):  # count, page
        again = api.get(URL)

    assert again.json() == first.json()
    assert lessons[1].pk not in lesson_ids(again)
    assert dict(Recommendation.objects.values_list("pk", "updated_at")) == stamps


def test_stored_rows_are_the_learners_active_unexpired_ones_best_first(
    as_user, learner, other_learner
):
    now = timezone.now()
    learner.profile.recommendations_refreshed_at = now
    learner.profile.save()
    low = RecommendationFactory(learner=learner, score=0.2, expires_at=now + timedelta(days=1))
    high = RecommendationFactory(learner=learner, score=0.9, expires_at=None)
    RecommendationFactory(learner=learner, score=1.0, expires_at=now - timedelta(minutes=1))
    RecommendationFactory(learner=learner, score=1.0, status=Recommendation.Status.SKIPPED)
    RecommendationFactory(learner=other_learner, score=1.0)

    response = as_user(learner).get(URL)

    assert [row["id"] for row in response.json()["results"]] == [high.pk, low.pk]
