"""The dashboard's "Support" and "Difficulty" cards link to where the learner can act.

A struggle support card links to the lesson or quiz its first reason names (else the
progress page); a difficulty card to the catalogue at the advised level. Every link is
followed, as the learner would, and opens (no dead links).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.services import assessment_unpublish
from assessments.tests.factories import AssessmentFactory
from catalog.models import Difficulty, Lesson
from catalog.services import course_unpublish
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.models import DropoutRisk, Recommendation
from insights.recommendations import refresh_recommendations
from insights.tests.helpers import quiz_attempt
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory

pytestmark = pytest.mark.django_db


def _card_links(client) -> dict[str, tuple[str, str]]:
    """Each card's kind label -> (link, link text) on the dashboard."""
    html = client.get(reverse("learning:dashboard")).content.decode()
    cards = re.findall(
        r'<p class="meta">([^<]+)</p>\s*<h3 id="rec-\d+-title">(?:<a href="([^"]+)">)?([^<]+)',
        html,
    )
    return {kind: (href, text) for kind, href, text in cards}


def _opens(client, url: str) -> bool:
    return client.get(url).status_code == 200


def test_a_stalled_lesson_support_card_links_to_that_lesson(client, learner, other_learner):
    now = timezone.now()
    course = CourseFactory(title="Python 101")
    stuck = LessonFactory(module=ModuleFactory(course=course, order=1), order=1, title="Generators")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=now - timedelta(days=10))
    LessonProgressFactory(learner=learner, lesson=stuck, started_at=now - timedelta(days=9))
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)

    href, text = _card_links(client)["Support"]

    assert href == reverse("learning:lesson", args=[stuck.pk])
    assert text == "Get unstuck: Generators"
    assert _opens(client, href)
    # Another learner's dashboard shows no such card; a visitor is sent to log in.
    client.force_login(other_learner)
    assert "Support" not in _card_links(client)
    client.logout()
    assert client.get(reverse("learning:dashboard")).status_code == 302


def _failed_twice(learner, now):
    """A quiz the learner failed twice in the last hours, and their cards refreshed: the
    repeated failure gives a support card on the quiz."""
    quiz = AssessmentFactory(title="Loops quiz", passing_score=60)
    for hours in (3, 2):
        quiz_attempt(learner, at=now - timedelta(hours=hours), assessment=quiz, score=40)
    refresh_recommendations(learner=learner, now=now)
    return quiz


def test_a_repeatedly_failed_quiz_support_card_links_to_the_quiz(client, learner):
    now = timezone.now()
    quiz = _failed_twice(learner, now)
    client.force_login(learner)

    href, text = _card_links(client)["Support"]

    assert href == reverse("assessments:detail", args=[quiz.pk])
    assert text == "Get unstuck: Loops quiz"
    assert _opens(client, href)


def test_falling_scores_alone_link_to_the_progress_page(client, learner):
    now = timezone.now()
    for days, score in ((3, 90), (2, 70), (1, 50)):
        quiz_attempt(learner, at=now - timedelta(days=days), score=score, passed=True)
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)

    href, text = _card_links(client)["Support"]

    assert href == reverse("insights:progress")
    assert text == "Get unstuck: your progress"
    assert _opens(client, href)


def test_a_difficulty_card_links_to_the_catalogue_at_the_advised_level(client, learner):
    now = timezone.now()
    CourseFactory(title="Async deep dive", difficulty=Difficulty.INTERMEDIATE)
    CourseFactory(title="Hello world", difficulty=Difficulty.BEGINNER)
    for hours in (3, 2):
        quiz_attempt(learner, at=now - timedelta(hours=hours), score=95)
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)

    href, text = _card_links(client)["Difficulty"]

    assert href == f"{reverse('catalog:course_list')}?difficulty=intermediate"
    assert text == "Intermediate courses"
    catalogue = client.get(href).content.decode()
    assert "Async deep dive" in catalogue
    assert "Hello world" not in catalogue


# Content set back to draft after the cards were written: no card a learner sees links to
# it (dashboard page, API dashboard, API list), and the next refresh expires those cards.


def _api_card_links(api) -> set[str]:
    listed = {row["url"] for row in api.get("/api/v1/ai/recommendations").json()["results"]}
    dashboard = {card["url"] for card in api.get("/api/v1/ai/dashboard").json()["recommendations"]}
    return listed | dashboard


def _page_links(client) -> set[str]:
    """Every card's link on the dashboard page."""
    html = client.get(reverse("learning:dashboard")).content.decode()
    return set(re.findall(r'<h3 id="rec-\d+-title"><a href="([^"]+)">', html))


def test_cards_on_a_course_set_back_to_draft_vanish_at_once_and_the_refresh_drops_them(
    client, as_user, learner, instructor
):
    now = timezone.now()
    course = CourseFactory(owner=instructor, title="Python 101")
    module = ModuleFactory(course=course, order=1)
    stuck = LessonFactory(module=module, order=1, title="Generators")
    LessonFactory(module=module, order=2, title="Decorators")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=now - timedelta(days=10))
    LessonProgressFactory(learner=learner, lesson=stuck, started_at=now - timedelta(days=9))
    other = CourseFactory(title="SQL basics")
    sql_lesson = LessonFactory(module=ModuleFactory(course=other, order=1), title="SELECT")
    EnrollmentFactory(learner=learner, course=other, enrolled_at=now - timedelta(days=1))
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)
    api = as_user(learner)
    into_course = {
        reverse("learning:lesson", args=[pk])
        for pk in Lesson.objects.filter(module__course=course).values_list("pk", flat=True)
    } | {course.get_absolute_url()}
    # Before: a support card on the stalled lesson (and the next lessons), in both doors.
    assert _card_links(client)["Support"][0] == reverse("learning:lesson", args=[stuck.pk])
    assert reverse("learning:lesson", args=[stuck.pk]) in _api_card_links(api)

    course_unpublish(course=course, now=now)

    # Reloaded, as the learner: nothing links into the draft course, the rest is still there.
    assert not _page_links(client) & into_course
    assert not _api_card_links(api) & into_course
    assert reverse("learning:lesson", args=[sql_lesson.pk]) in _page_links(client)
    assert reverse("learning:lesson", args=[sql_lesson.pk]) in _api_card_links(api)
    # The refresh no longer wants them: expired, not rewritten.
    refresh_recommendations(learner=learner, now=now + timedelta(minutes=1))
    active = Recommendation.objects.filter(learner=learner, status=Recommendation.Status.ACTIVE)
    assert not [rec for rec in active if rec.url in into_course]
    assert active.filter(lesson=sql_lesson).exists()


def test_a_failed_quiz_support_card_vanishes_when_the_quiz_is_unpublished(client, as_user, learner):
    now = timezone.now()
    quiz = _failed_twice(learner, now)
    client.force_login(learner)
    api = as_user(learner)
    quiz_url = reverse("assessments:detail", args=[quiz.pk])
    assert _card_links(client)["Support"][0] == quiz_url

    assessment_unpublish(assessment=quiz, now=now)

    assert "Support" not in _card_links(client)
    assert quiz_url not in _api_card_links(api)
    refresh_recommendations(learner=learner, now=now + timedelta(minutes=1))
    assert not Recommendation.objects.filter(
        learner=learner, status=Recommendation.Status.ACTIVE, kind=Recommendation.Kind.SUPPORT
    ).exists()


def test_a_dropout_risk_support_card_leaves_with_its_course(client, learner, instructor):
    now = timezone.now()
    course = CourseFactory(owner=instructor, title="Data Science")
    LessonFactory(module=ModuleFactory(course=course, order=1), title="Pandas")
    enrollment = EnrollmentFactory(learner=learner, course=course)
    DropoutRisk.objects.create(
        enrollment=enrollment,
        probability=0.8,
        level=DropoutRisk.Level.HIGH,
        factors=[{"factor": "days_since_activity", "text": "no activity for 12 days"}],
        features={"days_since_activity": 12.0},
        scored_at=now,
    )
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)
    assert _card_links(client)["Support"] == (course.get_absolute_url(), "Data Science")

    course_unpublish(course=course, now=now)

    assert "Support" not in _card_links(client)
    refresh_recommendations(learner=learner, now=now + timedelta(minutes=1))
    assert not Recommendation.objects.filter(
        learner=learner, status=Recommendation.Status.ACTIVE, course=course
    ).exists()


def test_accepting_a_card_from_a_page_open_before_its_quiz_was_unpublished_says_why(
    client, as_user, learner
):
    now = timezone.now()
    quiz = _failed_twice(learner, now)
    card = Recommendation.objects.get(learner=learner, kind=Recommendation.Kind.SUPPORT)
    client.force_login(learner)
    assessment_unpublish(assessment=quiz, now=now)

    # The page's form, posted after the quiz was unpublished: back to the dashboard with
    # the reason, not a redirect to a 404.
    response = client.post(
        reverse("insights:recommendation_action", args=[card.pk, "accept"]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("learning:dashboard")
    assert "no longer available" in response.content.decode()
    # The API says the same with a 400; the card was not marked accepted.
    api = as_user(learner)
    reply = api.post(f"/api/v1/ai/recommendations/{card.pk}/action", {"action": "accepted"})
    assert reply.status_code == 400
    assert "no longer available" in reply.json()["error"]["fields"]["action"][0]
    card.refresh_from_db()
    assert card.status == Recommendation.Status.ACTIVE
    # Skipping it still works.
    assert (
        api.post(f"/api/v1/ai/recommendations/{card.pk}/action", {"action": "skipped"}).status_code
        == 200
    )


def test_a_refused_accept_over_htmx_leaves_a_card_without_link_or_buttons(client, learner):
    # The QA walk: the card said why but kept its link (now a 404) and its buttons.
    now = timezone.now()
    quiz = _failed_twice(learner, now)
    card = Recommendation.objects.get(learner=learner, kind=Recommendation.Kind.SUPPORT)
    client.force_login(learner)
    assessment_unpublish(assessment=quiz, now=now)

    html = client.post(
        reverse("insights:recommendation_action", args=[card.pk, "accept"]),
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "no longer available" in html
    assert reverse("assessments:detail", args=[quiz.pk]) not in html
    assert "Accept</button>" not in html and "Skip</button>" not in html
    assert f'href="{reverse("learning:dashboard")}">Reload your dashboard</a>' in html
