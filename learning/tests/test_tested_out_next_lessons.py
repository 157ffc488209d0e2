"""QA walk (issue 13): after testing out of a course, the dashboard still offered "Next
lesson: Values, names and types — 0 of 4 lessons done" in it. A course the learner tested
out of counts as done while its skills hold (its page says so), so neither the dashboard,
its API nor the next-lesson cards offer its lessons; once a skill fades they come back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from assessments.models import AssessmentAttempt
from assessments.services import course_challenge_start
from assessments.tests.adaptive import run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson
from insights.dashboard import NOTHING_NEXT, learner_dashboard
from insights.models import LearnerSkillState, Recommendation
from insights.recommendations import refresh_recommendations
from learning.tests.factories import EnrollmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()
FIRST_LESSON = "Values, names and types"


@pytest.fixture
def newcomer():
    """A new learner in Berlin on the demo catalogue, enrolled in Python Fundamentals."""
    seed_demo(now=NOW - timedelta(hours=2))
    learner = LearnerFactory()
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    course = Course.objects.get(slug="python-fundamentals")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(hours=1))
    return learner


def _pass_challenge(learner, course: Course) -> AssessmentAttempt:
    started = NOW - timedelta(minutes=30)
    attempt = course_challenge_start(learner=learner, course=course, now=started)
    run_to_end(attempt, lambda question: True, start=started)
    attempt.refresh_from_db()
    assert attempt.passed
    return attempt


def _next_lesson_titles(dashboard: dict) -> list[str]:
    return [item["title"] for item in dashboard["recommended_next_lessons"]]


def _card_lessons(cards: list[Recommendation]) -> list[str]:
    return [c.lesson.title for c in cards if c.kind == Recommendation.Kind.NEXT_LESSON]


def test_a_tested_out_course_offers_no_next_lesson_on_dashboard_api_or_cards(client, newcomer):
    course = Course.objects.get(slug="python-fundamentals")
    # Before the challenge, its first lesson is what comes next.
    assert _next_lesson_titles(learner_dashboard(learner=newcomer, now=NOW)) == [FIRST_LESSON]
    assert _card_lessons(refresh_recommendations(learner=newcomer, now=NOW)) == [FIRST_LESSON]

    _pass_challenge(newcomer, course)
    client.force_login(newcomer)

    course_page = client.get(course.get_absolute_url()).content.decode()
    assert "counts as done" in course_page
    api = client.get("/api/v1/ai/dashboard").json()
    assert api["recommended_next_lessons"] == []
    assert api["next_lessons_note"] == NOTHING_NEXT
    assert "in a course you tested out of" in NOTHING_NEXT
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert f"Next in {course.title}" not in page and "0 of 4 lessons done" not in page
    assert "in a course you tested out of" in page
    cards = refresh_recommendations(learner=newcomer, now=NOW)
    assert _card_lessons(cards) == []
    assert not any(
        c.lesson and c.lesson.module.course_id == course.pk
        for c in cards
        if c.kind == Recommendation.Kind.NEXT_LESSON
    )


def test_the_course_comes_back_once_a_skill_it_teaches_has_faded(newcomer):
    course = Course.objects.get(slug="python-fundamentals")
    _pass_challenge(newcomer, course)
    # New answers pulled a skill of the course back below proficient: the page then says
    # the course no longer counts as done, and its lessons are offered again.
    skill = course.skills.order_by("name").first()
    LearnerSkillState.objects.filter(learner=newcomer, skill=skill).update(mastery=0.2, level=2)

    assert _next_lesson_titles(learner_dashboard(learner=newcomer, now=NOW)) == [FIRST_LESSON]
    assert Lesson.objects.get(title=FIRST_LESSON).module.course == course
