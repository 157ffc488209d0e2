"""One card shape: a recommendation's target, its page, and the card the dashboard, the
HTMX partial and the API show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.tests.factories import AssessmentFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import Recommendation, RecommendationCard
from insights.recommendations import refresh_recommendations
from insights.tests.factories import RecommendationFactory
from insights.tests.helpers import NOW, quiz_attempt
from learning.models import LessonProgress
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory

pytestmark = pytest.mark.django_db


def test_target_and_page_of_each_kind_of_card(learner):
    lesson = LessonFactory(title="Loops")
    course = CourseFactory(title="Python Basics")
    quiz = AssessmentFactory(title="Loops quiz")
    kind = Recommendation.Kind
    on_lesson = RecommendationFactory(learner=learner, lesson=lesson)
    on_course = RecommendationFactory(learner=learner, kind=kind.COURSE, lesson=None, course=course)
    on_quiz = RecommendationFactory(
        learner=learner, kind=kind.REVISION, lesson=None, assessment=quiz
    )
    advice = RecommendationFactory(
        learner=learner, kind=kind.DIFFICULTY, lesson=None, payload={"recommended": "advanced"}
    )

    assert [r.get_target() for r in (on_lesson, on_course, on_quiz, advice)] == [
        lesson,
        course,
        quiz,
        None,
    ]
    assert [(r.title, r.url, r.target_kind) for r in (on_lesson, on_course, on_quiz, advice)] == [
        ("Loops", lesson.get_absolute_url(), "lesson"),
        ("Python Basics", course.get_absolute_url(), "course"),
        ("Loops quiz", reverse("assessments:detail", args=[quiz.pk]), "assessment"),
        # No target row: the catalogue at the advised level is where the learner acts.
        ("Advanced courses", f"{reverse('catalog:course_list')}?difficulty=advanced", ""),
    ]


def test_a_cached_card_shows_what_its_row_shows(learner):
    rec = RecommendationFactory(learner=learner, lesson=LessonFactory(title="Loops"))

    card = RecommendationCard.from_dict(RecommendationCard.from_recommendation(rec).as_dict())

    shared = ("pk", "kind", "kind_label", "target_kind", "title", "url", "reason", "status")
    assert {name: getattr(card, name) for name in shared} == {
        name: getattr(rec, name) for name in shared
    }
    assert (card.kind_label, card.title) == ("Next lesson", "Loops")


def test_dashboard_card_titles_link_to_their_target(client, learner):
    lesson = LessonFactory(title="Loops")
    RecommendationFactory(learner=learner, lesson=lesson, reason="Next in sequence")
    RecommendationFactory(
        learner=learner,
        kind="difficulty",
        lesson=None,
        reason="Harder now",
        payload={"recommended": "intermediate"},
    )
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()

    title = rf'<h3 id="rec-\d+-title"><a href="{lesson.get_absolute_url()}">Loops</a></h3>'
    assert re.search(title, html)
    catalogue = re.escape(f"{reverse('catalog:course_list')}?difficulty=intermediate")
    assert re.search(
        rf'<h3 id="rec-\d+-title"><a href="{catalogue}">Intermediate courses</a>', html
    )


def test_accepted_card_links_to_its_target_over_htmx(client, learner):
    course = CourseFactory(title="Python Basics")
    rec = RecommendationFactory(learner=learner, kind="course", lesson=None, course=course)
    client.force_login(learner)

    html = client.post(
        reverse("insights:recommendation_action", args=[rec.pk, "accept"]),
        headers={"HX-Request": "true"},
    ).content.decode()

    link = f'<a href="{course.get_absolute_url()}">Python Basics</a>'
    assert re.search(rf'<h3 id="rec-\d+-title">{link}</h3>', html)
    assert f'<a href="{course.get_absolute_url()}">Open the course</a>' in html


def test_api_cards_carry_the_same_label_title_and_page(learner):
    lesson = LessonFactory(module=ModuleFactory(order=1), order=1, title="Models")
    EnrollmentFactory(learner=learner, course=lesson.module.course, enrolled_at=NOW)
    refresh_recommendations(learner=learner, now=timezone.now())
    api = APIClient()
    api.force_authenticate(learner)

    [row] = api.get("/api/v1/ai/recommendations").json()["results"]

    assert (row["kind_label"], row["target_kind"], row["title"], row["url"]) == (
        "Next lesson",
        "lesson",
        "Models",
        lesson.get_absolute_url(),
    )


def test_a_revision_card_says_review_only_for_a_lesson_the_learner_completed(
    client, learner, other_learner
):
    """QA walk: a card tagged "Revision" on a lesson the learner never opened. Which cards
    are chosen is unchanged; the label says what each is for, on the page and in the API."""
    now = timezone.now()
    sql, git = SkillFactory(slug="sql", name="SQL"), SkillFactory(slug="git", name="Git")
    module = ModuleFactory(order=1, course=CourseFactory(title="Tools"))
    done = LessonFactory(module=module, order=1, title="Joins", skills=[sql])
    LessonFactory(module=module, order=2, title="Branches", skills=[git])
    LessonProgressFactory(
        learner=learner,
        lesson=done,
        status=LessonProgress.Status.COMPLETED,
        started_at=now - timedelta(days=21),
        completed_at=now - timedelta(days=20),
    )
    # Both measured weak after that: SQL was studied in "Joins", Git only answered on.
    quiz_attempt(learner, at=now - timedelta(days=3), skill=sql, correct=3, total=10)
    quiz_attempt(learner, at=now - timedelta(days=3), skill=git, correct=2, total=10)
    refresh_recommendations(learner=learner, now=now)
    client.force_login(learner)
    api = APIClient()
    api.force_authenticate(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()
    rows = api.get("/api/v1/ai/recommendations").json()["results"]

    assert {(row["kind"], row["title"], row["kind_label"]) for row in rows} == {
        ("revision", "Joins", "Review"),
        ("revision", "Branches", "Study Git"),
    }
    assert '<p class="meta">Review</p>' in html
    assert '<p class="meta">Study Git</p>' in html
    assert "Revision" not in html
    api.force_authenticate(other_learner)
    assert api.get("/api/v1/ai/recommendations").json()["results"] == []
