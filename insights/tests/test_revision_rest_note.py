"""QA walk (issue 13): a failed SQL quiz right after the learner completed SQL's lessons left
"Nothing to revise right now" without a word on why. Which lessons revision offers does not
change (a lesson rests ``REVISION_REST`` after its completion; a skill studied since its weak
estimate waits for new answers); the empty "Revise" panel and the API's ``revision_note``
now name the waiting skills and when review comes back, in the learner's own days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from assessments.services import attempt_start, attempt_submit
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Skill
from insights.dashboard import NOTHING_TO_REVISE, learner_dashboard
from insights.sim.driver import response_for
from learning.services import enrollment_create, lesson_complete, lesson_start
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
# 09:00 in Berlin; the learner studies in the morning and fails the quiz at noon.
MORNING = datetime(2026, 12, 5, 8, tzinfo=UTC)
SQL_RESTS = (
    "PostgreSQL and SQL: you studied their lessons today; review comes back tomorrow (a lesson "
    "rests a day after you complete it)"
)


@pytest.fixture
def sql_learner():
    """A new learner in Berlin with an SQL goal who completed every lesson of SQL and
    PostgreSQL this morning."""
    seed_demo(now=MORNING - timedelta(days=1))
    learner = LearnerFactory()
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    goal = LearningGoalFactory(learner=learner, title="Data work")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="sql"), target_level=7)
    course = Course.objects.get(slug="sql-and-postgresql")
    enrollment_create(learner=learner, course=course, now=MORNING)
    lessons = Lesson.objects.filter(module__course=course).order_by("module__order", "order")
    for minutes, lesson in enumerate(lessons):
        at = MORNING + timedelta(minutes=30 * minutes)
        lesson_start(learner=learner, lesson=lesson, now=at)
        lesson_complete(learner=learner, lesson=lesson, now=at + timedelta(minutes=25))
    return learner


def _fail_sql_quiz(learner, at: datetime) -> None:
    quiz = Assessment.objects.get(title="SQL and PostgreSQL quiz")
    attempt = attempt_start(learner=learner, assessment=quiz, now=at)
    attempt_submit(
        attempt=attempt,
        responses={
            q.pk: response_for(q, q.choices.all(), correct=False)
            for q in quiz.questions.select_related("skill")
        },
        now=at + timedelta(minutes=10),
    )


def test_an_empty_revise_panel_says_the_failed_skill_rests_after_todays_lessons(
    client, sql_learner, monkeypatch
):
    noon = MORNING + timedelta(hours=4)
    _fail_sql_quiz(sql_learner, noon)
    now = noon + timedelta(minutes=15)

    dashboard = learner_dashboard(learner=sql_learner, now=now)

    # Which lessons are offered is unchanged: none today.
    assert dashboard["revision_recommendations"] == []
    assert dashboard["revision_note"] == f"Nothing to revise right now. {SQL_RESTS}."
    # The next day, in Berlin, the rest is over: a lesson to revise, and no note.
    tomorrow = learner_dashboard(learner=sql_learner, now=now + timedelta(days=1))
    assert {item["skill"] for item in tomorrow["revision_recommendations"]} == {"postgresql", "sql"}
    assert tomorrow["revision_note"] == ""
    # The page and the API say the same, asked at the same moment (the views read the
    # clock: "today" must be the test's day, not the day the suite runs).
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    client.force_login(sql_learner)
    page = client.get(reverse("learning:dashboard")).content.decode()
    revise = page.split('id="revision"')[1].split("</section>")[0]
    assert "PostgreSQL and SQL: you studied their lessons today; review comes back tomorrow" in (
        revise
    )
    api = client.get("/api/v1/ai/dashboard").json()
    assert api["revision_note"] == dashboard["revision_note"]


def test_a_skill_studied_since_its_weak_answers_says_it_waits_for_new_ones(sql_learner):
    """The quiz failed first, the lessons completed after it: revision holds its skills until
    new answers measure them again, and the panel says so."""
    learner = LearnerFactory()
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    LearningGoalFactory(learner=learner)
    course = Course.objects.get(slug="sql-and-postgresql")
    _fail_sql_quiz(learner, MORNING - timedelta(days=3))
    enrollment_create(learner=learner, course=course, now=MORNING - timedelta(days=3))
    for n, lesson in enumerate(
        Lesson.objects.filter(module__course=course).order_by("module__order", "order")
    ):
        at = MORNING - timedelta(days=3, minutes=-30 * (n + 1))
        lesson_start(learner=learner, lesson=lesson, now=at)
        lesson_complete(learner=learner, lesson=lesson, now=at + timedelta(minutes=25))

    dashboard = learner_dashboard(learner=learner, now=MORNING)

    assert dashboard["revision_recommendations"] == []
    assert dashboard["revision_note"] == (
        "Nothing to revise right now. PostgreSQL and SQL: you studied them on 2 Dec, after your "
        "last answers on them; their review waits for a quiz or skill check to measure them "
        "again."
    )


def test_nothing_weak_is_the_plain_message(learner):
    seed_demo(now=MORNING)
    dashboard = learner_dashboard(learner=learner, now=MORNING)
    assert dashboard["revision_note"] == NOTHING_TO_REVISE
