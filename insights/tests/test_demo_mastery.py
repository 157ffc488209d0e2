"""On the demo catalogue (real prerequisites): a learner who has shown Python and SQL
does not get their foundation courses in the path, can open the Flask course, and is never
pointed at a locked lesson."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from assessments.services import attempt_start, attempt_submit
from catalog.demo_seed import seed_demo
from catalog.models import Course, Skill
from insights.models import LearningPathSnapshot
from insights.paths import plan_learning_path
from insights.recommendations import refresh_recommendations
from insights.services import learning_path_generate
from insights.sim.driver import response_for
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW
from learning.selectors import course_outline
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


def shown(learner, slug: str, answers: int = 6) -> None:
    LearnerSkillStateFactory(
        learner=learner,
        skill=Skill.objects.get(slug=slug),
        mastery=0.85,
        level=9,
        evidence_count=answers,
        correct_count=answers - 1,
        distinct_questions=5,
        last_practiced_at=NOW - timedelta(days=1),
    )


def test_demo_learner_who_knows_python_and_sql_skips_the_foundations():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    for slug in ("python", "data_structures", "sql", "postgresql"):
        shown(learner, slug)
    goal = LearningGoalFactory(learner=learner, title="Backend")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="flask"), target_level=8)

    plan = plan_learning_path(goal=goal, now=NOW)
    flask = Course.objects.get(slug="python-backend-flask")

    titles = [item.title for item in plan.items]
    assert "Python Fundamentals" not in titles and "SQL and PostgreSQL" not in titles
    assert titles[0] == flask.title
    assert (
        "Skipped Python Fundamentals: Data structures proficient on 6 answers, Python "
        "proficient on 6 answers" in [s["reason"] for s in plan.metadata["skipped"]]
    )
    assert not course_outline(learner=learner, course=flask, now=NOW).locked


def test_demo_learner_without_the_foundations_is_pointed_at_what_unlocks_flask():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    flask = Course.objects.get(slug="python-backend-flask")
    # Enrolled before locks were enforced (or by an admin): the course is still locked.
    EnrollmentFactory(learner=learner, course=flask, enrolled_at=NOW - timedelta(days=1))

    outline = course_outline(learner=learner, course=flask, now=NOW)
    recommendations = refresh_recommendations(learner=learner, now=NOW)

    assert outline.locked
    assert [b.title for b in outline.course_blocking] == [
        "Python Fundamentals",
        "SQL and PostgreSQL",
    ]
    [next_up] = [r for r in recommendations if r.kind == "next_lesson"]
    assert next_up.lesson.module.course.title == "Python Fundamentals"
    assert next_up.reason.startswith(f"Study “{next_up.lesson.title}” in Python Fundamentals")
    assert "unlocks" in next_up.reason and flask.title in next_up.reason


def test_a_quiz_that_takes_back_shown_python_brings_python_fundamentals_back_into_the_path():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    for slug in ("python", "data_structures", "sql", "postgresql"):
        shown(learner, slug)
    goal = LearningGoalFactory(learner=learner, title="Backend")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="flask"), target_level=8)
    first = learning_path_generate(goal=goal, now=NOW).snapshot
    assert "Python Fundamentals" not in [item["title"] for item in first.items]

    # Python Fundamentals' quiz, every answer wrong: the skills it asks about fall below
    # proficient, so skipping the course no longer holds.
    quiz = Assessment.objects.get(
        course__slug="python-fundamentals", kind=Assessment.Kind.QUIZ, is_published=True
    )
    attempt = attempt_start(learner=learner, assessment=quiz, now=NOW)
    later = NOW + timedelta(minutes=20)
    attempt_submit(
        attempt=attempt,
        responses={
            q.pk: response_for(q, q.choices.all(), correct=False) for q in quiz.questions.all()
        },
        now=later,
    )

    current = LearningPathSnapshot.objects.get(goal=goal, is_active=True)
    assert current.version == first.version + 1
    assert current.trigger == LearningPathSnapshot.Trigger.NEW_EVIDENCE
    assert current.created_at == later
    titles = [item["title"] for item in current.items]
    assert titles.index("Python Fundamentals") < titles.index(
        "Python Backend Development with Flask"
    )
    assert "Python Fundamentals" not in [s["title"] for s in current.metadata["skipped"]]


def test_a_graded_attempt_leaves_goals_without_a_path_and_other_learners_alone():
    seed_demo(now=NOW)
    learner, other = LearnerFactory(), LearnerFactory()
    GoalSkillFactory(
        goal=LearningGoalFactory(learner=learner), skill=Skill.objects.get(slug="flask")
    )
    other_goal = LearningGoalFactory(learner=other)
    GoalSkillFactory(goal=other_goal, skill=Skill.objects.get(slug="flask"))
    learning_path_generate(goal=other_goal, now=NOW)
    quiz = Assessment.objects.get(
        course__slug="python-fundamentals", kind=Assessment.Kind.QUIZ, is_published=True
    )

    attempt = attempt_start(learner=learner, assessment=quiz, now=NOW)
    attempt_submit(
        attempt=attempt,
        responses={
            q.pk: response_for(q, q.choices.all(), correct=False) for q in quiz.questions.all()
        },
        now=NOW,
    )

    # A path is planned when the learner asks for one, not behind their back; the other
    # learner's path is not theirs to touch.
    assert not LearningPathSnapshot.objects.filter(learner=learner).exists()
    assert LearningPathSnapshot.objects.filter(learner=other).count() == 1
