"""Accepting a "Start course" card enrolls the learner (QA walk, issue 13: it recorded the
accept and left them unenrolled), through the enrolment service and its lock rule, on the
page and in the API, for the card's owner only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import Recommendation
from insights.recommendations import refresh_recommendations
from insights.services import learning_path_generate
from learning.models import Enrollment
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db

LOCKED = (
    "“Web APIs with Flask” is locked. Builds on the course “Python Fundamentals”: "
    "complete it first, or show you are proficient in Python with its course challenge."
)


@pytest.fixture
def catalogue():
    """Python Fundamentals <- Web APIs with Flask, each with a lesson on its skill."""
    python = SkillFactory(slug="python", name="Python")
    flask = SkillFactory(slug="flask", name="Flask")
    fundamentals = CourseFactory(title="Python Fundamentals", skills=[python])
    web = CourseFactory(title="Web APIs with Flask", skills=[flask], prerequisites=[fundamentals])
    for course, skill in ((fundamentals, python), (web, flask)):
        LessonFactory(module=ModuleFactory(course=course, order=1), order=1, skills=[skill])
    return {"fundamentals": fundamentals, "web": web, "flask": flask}


@pytest.fixture
def course_card(learner, catalogue):
    """The card the engine writes for a new learner whose goal is Flask: the course that
    opens the path, Python Fundamentals."""
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=catalogue["flask"], target_level=7)
    learning_path_generate(goal=goal, now=timezone.now())
    refresh_recommendations(learner=learner, now=timezone.now())
    return Recommendation.objects.get(learner=learner, kind=Recommendation.Kind.COURSE)


def _enrolled(learner, course) -> bool:
    return Enrollment.objects.filter(
        learner=learner, course=course, status=Enrollment.Status.ACTIVE
    ).exists()


def test_accepting_a_course_card_on_the_page_enrolls_and_opens_the_course(
    client, learner, catalogue, course_card
):
    fundamentals = catalogue["fundamentals"]
    assert course_card.course == fundamentals
    client.force_login(learner)

    response = client.post(
        reverse("insights:recommendation_action", args=[course_card.pk, "accept"])
    )

    assert response.status_code == 302
    assert response["Location"] == fundamentals.get_absolute_url()
    assert _enrolled(learner, fundamentals)
    course_card.refresh_from_db()
    assert course_card.status == Recommendation.Status.ACCEPTED


def test_accepting_a_course_card_over_htmx_says_the_learner_is_enrolled(
    client, learner, catalogue, course_card
):
    client.force_login(learner)

    html = client.post(
        reverse("insights:recommendation_action", args=[course_card.pk, "accept"]),
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "You are enrolled." in html
    assert f'<a href="{catalogue["fundamentals"].get_absolute_url()}">Open the course</a>' in html
    assert _enrolled(learner, catalogue["fundamentals"])


def test_accepting_a_course_card_in_the_api_enrolls(as_user, learner, catalogue, course_card):
    response = as_user(learner).post(
        f"/api/v1/ai/recommendations/{course_card.pk}/action",
        {"action": "accepted"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["url"]) == (
        "accepted",
        catalogue["fundamentals"].get_absolute_url(),
    )
    assert _enrolled(learner, catalogue["fundamentals"])
    # Left since: replaying the accept records nothing and does not enroll them again.
    Enrollment.objects.filter(learner=learner).update(status=Enrollment.Status.DROPPED)
    again = as_user(learner).post(
        f"/api/v1/ai/recommendations/{course_card.pk}/action",
        {"action": "accepted"},
        format="json",
    )
    assert again.status_code == 200
    assert not _enrolled(learner, catalogue["fundamentals"])


@pytest.fixture
def locked_card(learner, catalogue):
    """A card on Web APIs with Flask from before its lock applied (written, say, when the
    prerequisite was added later): accepting it must not slip past the lock."""
    return Recommendation.objects.create(
        learner=learner,
        kind=Recommendation.Kind.COURSE,
        course=catalogue["web"],
        reason="Builds foundation in Flask (not assessed, target 7)",
        created_at=timezone.now(),
    )


def test_a_locked_course_card_gives_the_locks_reason_on_the_page(
    client, learner, catalogue, locked_card
):
    client.force_login(learner)
    url = reverse("insights:recommendation_action", args=[locked_card.pk, "accept"])

    html = client.post(url, headers={"HX-Request": "true"}).content.decode()
    plain = client.post(url, follow=True)

    assert f'<p class="form-errors" role="alert">{LOCKED}</p>' in html
    assert LOCKED in plain.content.decode()
    assert plain.redirect_chain == [(reverse("learning:dashboard"), 302)]
    locked_card.refresh_from_db()
    assert locked_card.status == Recommendation.Status.ACTIVE
    assert not Enrollment.objects.filter(learner=learner).exists()


def test_a_locked_course_card_is_a_400_with_the_reason_in_the_api(
    as_user, learner, catalogue, locked_card
):
    response = as_user(learner).post(
        f"/api/v1/ai/recommendations/{locked_card.pk}/action",
        {"action": "accepted"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"action": [LOCKED]}
    locked_card.refresh_from_db()
    assert locked_card.status == Recommendation.Status.ACTIVE
    assert not Enrollment.objects.filter(learner=learner).exists()


def test_only_the_cards_learner_can_accept_it(
    client, api, as_user, learner, other_learner, catalogue, course_card
):
    page = reverse("insights:recommendation_action", args=[course_card.pk, "accept"])
    endpoint = f"/api/v1/ai/recommendations/{course_card.pk}/action"

    assert client.post(page).status_code == 302  # anonymous: to the login page
    assert api.post(endpoint, {"action": "accepted"}, format="json").status_code == 401
    client.force_login(other_learner)
    assert client.post(page).status_code == 404
    other = as_user(other_learner).post(endpoint, {"action": "accepted"}, format="json")
    assert other.status_code == 404
    course_card.refresh_from_db()
    assert course_card.status == Recommendation.Status.ACTIVE
    assert not Enrollment.objects.exists()
