"""One figure for "how far along the path", on the demo catalogue (insights.path_progress):
the path page said "Done 0 of 14 h" while the dashboard said "50 % done" for the same goal
(QA walk, issue 13), and the dashboard's percentage jumped when a re-plan left out a course
the learner had finished (walk12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.tests.factories import LearnerFactory
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Skill
from insights.analytics import learning_pace
from insights.paths import left_out_lesson_ids, path_payload
from insights.services import learning_path_generate
from insights.tests.helpers import NOW
from learning.models import LearningGoal
from learning.services import enrollment_create, lesson_complete, lesson_start
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


def _goal(learner, title: str, *slugs: str):
    goal = LearningGoalFactory(learner=learner, title=title)
    # Set an hour before NOW (the column is filled with the clock's time).
    LearningGoal.objects.filter(pk=goal.pk).update(created_at=NOW - timedelta(hours=1))
    goal.refresh_from_db()
    for slug in slugs:
        GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug=slug), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    return goal


def _complete(learner, lessons) -> None:
    for lesson in lessons:
        lesson_start(learner=learner, lesson=lesson, now=NOW)
        lesson_complete(learner=learner, lesson=lesson, now=NOW)


def _lessons(slug: str) -> list[Lesson]:
    return list(Lesson.objects.filter(module__course__slug=slug).order_by("module__order", "order"))


def _figures(client, as_user, goal) -> tuple[str, str, dict, dict]:
    """The path page's "Done", the dashboard page, and both API figures."""
    client.force_login(goal.learner)
    path_page = client.get(reverse("insights:path", args=[goal.pk])).content.decode()
    done = path_page.split('id="path-progress">')[1].split("</p>")[0]
    dashboard = client.get(reverse("learning:dashboard")).content.decode()
    api = as_user(goal.learner)
    path = api.get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()["metadata"]
    [card] = api.get("/api/v1/ai/dashboard").json()["current_goals"]
    return done, dashboard, path, card["pace"]


def test_the_path_page_and_the_dashboard_show_the_same_hours_done(client, as_user):
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory()
    goal = _goal(learner, "Databases", "sql")
    [item] = path_payload(goal.path_snapshots.get(is_active=True))["learning_path"]
    course = Course.objects.get(pk=item["id"])
    enrollment_create(learner=learner, course=course, now=NOW)
    # The lessons the path asks for (it leaves out those outside the goal): half of them.
    asked = [x for x in _lessons(course.slug) if x.pk not in left_out_lesson_ids(item)]
    studied = asked[: len(asked) // 2]
    _complete(learner, studied)

    done, dashboard, path, pace = _figures(client, as_user, goal)

    minutes = sum(x.estimated_minutes for x in asked)
    share = sum(x.estimated_minutes for x in studied) / minutes
    hours = round(item["estimated_hours"] * share, 1)
    percent = round(100 * share, 1)
    text = f"{hours:g} of {item['estimated_hours']:g} h of the path done"
    # Half-way through a course counts on the path page too (it said 0 h until the end).
    assert hours > 0
    assert done.startswith(text)
    assert text in dashboard
    assert path["progress"]["text"].startswith(text) and path["done_hours"] == hours
    assert pace["reason"].startswith(path["progress"]["text"])
    assert abs(pace["progress_percent"] - percent) <= 0.1
    assert pace["progress_percent"] == path["progress"]["percent"]


def test_a_re_plan_after_finishing_a_course_keeps_the_figure(client, as_user):
    """Python and SQL: the path plans Python Fundamentals and SQL and PostgreSQL. The learner
    finishes Python Fundamentals; the next re-plan leaves it out ("you completed it"), and
    the figure stays where the study put it, naming the course it counts."""
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory()
    goal = _goal(learner, "Back end", "python", "sql")
    first = path_payload(goal.path_snapshots.get(is_active=True))
    titles = [item["title"] for item in first["learning_path"]]
    assert "Python Fundamentals" in titles and len(titles) > 1
    python = Course.objects.get(title="Python Fundamentals")
    enrollment_create(learner=learner, course=python, now=NOW)
    _complete(learner, _lessons(python.slug))
    before = learning_pace(goal=goal, now=NOW)
    assert before.progress_percent > 0

    result = learning_path_generate(goal=goal, now=NOW + timedelta(hours=1))
    done, dashboard, path, pace = _figures(client, as_user, goal)

    assert result.created and result.snapshot.version == 2
    replanned = [item["title"] for item in result.snapshot.items]
    assert "Python Fundamentals" not in replanned
    assert pace["progress_percent"] == before.progress_percent == path["progress"]["percent"]
    assert path["progress"]["finished_earlier"][0]["title"] == "Python Fundamentals"
    assert "counting Python Fundamentals, finished for this goal" in done
    assert "counting Python Fundamentals, finished for this goal" in dashboard


def test_a_course_finished_before_the_goal_is_not_counted_for_it():
    """Finished before the goal was set: the first path leaves it out, and it is no study
    done for this goal."""
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory()
    python = Course.objects.get(title="Python Fundamentals")
    enrollment_create(learner=learner, course=python, now=NOW - timedelta(hours=2))
    for lesson in _lessons(python.slug):
        lesson_start(learner=learner, lesson=lesson, now=NOW - timedelta(hours=2))
        lesson_complete(learner=learner, lesson=lesson, now=NOW - timedelta(hours=2))
    goal = _goal(learner, "Back end", "python", "sql")
    learning_path_generate(goal=goal, now=NOW + timedelta(hours=1))

    assert learning_pace(goal=goal, now=NOW).progress_percent == 0.0
