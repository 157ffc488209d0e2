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

from assessments.tests.factories import AssessmentFactory
from catalog.models import Difficulty
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
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


def test_a_repeatedly_failed_quiz_support_card_links_to_the_quiz(client, learner):
    now = timezone.now()
    quiz = AssessmentFactory(title="Loops quiz", passing_score=60)
    for hours in (3, 2):
        quiz_attempt(learner, at=now - timedelta(hours=hours), assessment=quiz, score=40)
    refresh_recommendations(learner=learner, now=now)
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
