"""QA walks (issue 13), wording on the demo catalogue: the item analysis said "Knows or not
(difficulty only)"; the browsable API's 404 read "Api Not Found" in its title and
breadcrumbs; the dashboard's difficulty card named no quiz, lesson or course."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from catalog.demo_seed import seed_demo
from insights.models import ItemAnalysisRun, QuestionItemAnalysis
from insights.recommendations import refresh_recommendations
from insights.tests.helpers import difficulty_advice, quiz_attempt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()


@pytest.fixture
def demo():
    seed_demo(now=NOW - timedelta(days=2))


def test_the_item_analysis_says_how_a_difficulty_was_fitted(client, demo):
    quiz = Assessment.objects.filter(kind=Assessment.Kind.QUIZ).order_by("pk").first()
    question = quiz.questions.order_by("order").first()
    run = ItemAnalysisRun.objects.create(assessment=quiz, answers=40, computed_at=NOW)
    QuestionItemAnalysis.objects.create(
        run=run,
        question=question,
        answers=40,
        share_correct=0.6,
        discrimination=0.3,
        irt_difficulty=0.4,
        irt_model=QuestionItemAnalysis.IRTModel.TWO_CLASS,
    )
    client.force_login(User.objects.get(email="instructor@skillstudio.test"))

    html = client.get(reverse("teach:item_analysis", args=[quiz.pk])).content.decode()

    assert "Knows or not" not in html
    assert (
        '0.40 <span class="meta">fitted from learners&#x27; answers, comparing those who know '
        "the skill with those who do not (difficulty only)</span>"
    ) in html
    assert "so it gives a difficulty only" in html


def test_the_browsable_api_404_names_itself_and_leaves_the_catch_all_out(client, learner):
    client.force_login(learner)

    response = client.get("/api/v1/ai/dashboard/extra", HTTP_ACCEPT="text/html")

    html = response.content.decode()
    assert response.status_code == 404
    assert "Api Not Found" not in html
    assert "<title>No API endpoint here" in html
    crumbs = html.split('<ul class="breadcrumb">')[1].split("</ul>")[0]
    assert '<a href="/api/v1/ai/dashboard">Dashboard</a>' in crumbs
    assert crumbs.count("No API endpoint here") == 1  # the page itself, last
    assert '<li class="active"><a href="/api/v1/ai/dashboard/extra">No API endpoint here' in crumbs
    # Clients still get the API's error shape.
    assert client.get("/api/v1/ai/dashboard/extra").json()["error"]["code"] == "not_found"


def test_the_difficulty_card_names_the_quizzes_their_lessons_and_courses(client, demo):
    learner = LearnerFactory()
    quizzes = list(Assessment.objects.filter(kind=Assessment.Kind.QUIZ).order_by("pk")[:2])
    for hours, (quiz, score) in enumerate(zip(quizzes, (30, 40), strict=True), start=1):
        quiz_attempt(learner, at=NOW - timedelta(hours=3 - hours), assessment=quiz, score=score)
    learner.profile.current_difficulty = "intermediate"
    learner.profile.save(update_fields=["current_difficulty"])

    advice = difficulty_advice(learner=learner, now=NOW)
    refresh_recommendations(learner=learner, now=NOW)
    client.force_login(learner)
    html = client.get(reverse("learning:dashboard")).content.decode()

    def named(quiz: Assessment, score: int) -> str:
        course = quiz.course or quiz.lesson.module.course
        where = f"{quiz.lesson.title}, {course.title}" if quiz.lesson else course.title
        return f"“{quiz.title}” ({where}) {score}%"

    reason = (
        "Recent quiz average is 35% - easing to beginner content to rebuild confidence "
        f"(your last 2 quizzes: {named(quizzes[1], 40)}, {named(quizzes[0], 30)})"
    )
    assert advice.reason == reason
    assert reason in html  # the card and the insights panel
