"""Every learner action with more than one door leaves the same trace through each.

Each test performs the action for a twin learner through its service, then for the
learner through the door named by the parameter (the HTML page or the API), and compares
row counts of every table, the learner's rows, the outbox jobs and the data versions
(see learning.tests.doors).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from learning import services
from learning.models import Enrollment, LearningGoal, LessonProgress
from learning.tests.doors import compare_doors
from learning.tests.factories import EnrollmentFactory
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db

DOORS = ["html", "api"]
FOLLOW_UP_ROW = [repr((LEARNER_FOLLOW_UP, "pending", 0))]


@pytest.fixture
def world():
    skill = SkillFactory(slug="python", name="Python")
    course = CourseFactory(title="Python Basics", slug="python-basics", skills=[skill])
    module = ModuleFactory(course=course, title="Start", order=1)
    first = LessonFactory(module=module, title="Variables", order=1, skills=[skill])
    LessonFactory(module=module, title="Functions", order=2, skills=[skill])
    return {"skill": skill, "course": course, "lesson": first}


@pytest.fixture
def html(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def api(learner):
    api = APIClient()
    api.force_authenticate(learner)
    return api


@pytest.mark.parametrize("door", DOORS)
def test_enroll(door, world, learner, other_learner, html, api, django_capture_on_commit_callbacks):
    course = world["course"]
    doors = {
        "html": lambda: html.post(reverse("catalog:course_enroll", args=[course.slug])),
        "api": lambda: api.post(
            "/api/v1/learning/enrollments/", {"course": course.pk}, format="json"
        ),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.enrollment_create(
            learner=other_learner, course=course, now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert trace.result.status_code in (201, 302)
    assert trace.counts == {"learning.Enrollment": 1, "insights.PendingJob": 1}
    assert trace.rows["insights.PendingJob"] == FOLLOW_UP_ROW
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("enrolled", [False, True])
@pytest.mark.parametrize("door", DOORS)
def test_lesson_start(
    door, enrolled, world, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    lesson = world["lesson"]
    if enrolled:
        for someone in (learner, other_learner):
            EnrollmentFactory(learner=someone, course=world["course"])
    doors = {
        "html": lambda: html.post(reverse("learning:lesson_start", args=[lesson.pk])),
        "api": lambda: api.post(f"/api/v1/learning/lessons/{lesson.pk}/start"),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.lesson_start(
            learner=other_learner, lesson=lesson, now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert LessonProgress.objects.get(learner=learner).status == LessonProgress.Status.IN_PROGRESS
    # Enrolling changes the next lessons to suggest; starting alone does not.
    assert trace.rows["insights.PendingJob"] == ([] if enrolled else FOLLOW_UP_ROW)
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_lesson_complete(
    door, world, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    lesson = world["lesson"]
    for someone in (learner, other_learner):
        EnrollmentFactory(learner=someone, course=world["course"])
    doors = {
        # Completed at once, so the page asks first: the learner confirms the skim.
        "html": lambda: html.post(
            reverse("learning:lesson_complete", args=[lesson.pk]), {"confirm_skim": "1"}
        ),
        "api": lambda: api.post(f"/api/v1/learning/lessons/{lesson.pk}/complete"),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.lesson_complete(
            learner=other_learner, lesson=lesson, now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert LessonProgress.objects.get(learner=learner).status == LessonProgress.Status.COMPLETED
    assert Enrollment.objects.get(learner=learner).progress_percent == 50
    assert trace.rows["insights.PendingJob"] == FOLLOW_UP_ROW
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_goal_create(
    door, world, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    doors = {
        "html": lambda: html.post(
            reverse("learning:onboarding"),
            {
                "title": "Backend developer",
                "level_python": "7",
                "weekly_hours": "4",
            },
        ),
        "api": lambda: api.post(
            "/api/v1/learning/goals/",
            {"title": "Backend developer", "target_levels": {"python": 7}, "weekly_hours": "4"},
            format="json",
        ),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.goal_create(
            learner=other_learner,
            title="Backend developer",
            target_levels={"python": 7},
            weekly_hours="4",
            now=timezone.now(),
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
        # Onboarding also records the learner's onboarding moment (the profile update,
        # a second action of that page).
        ignore=("accounts.LearnerProfile",),
    )

    goal = LearningGoal.objects.get(learner=learner)
    assert {t.skill.slug: t.target_level for t in goal.target_skills.all()} == {"python": 7}
    assert trace.rows["insights.PendingJob"] == FOLLOW_UP_ROW
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_goal_abandon(
    door, world, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    goals = {
        someone.pk: services.goal_create(
            learner=someone,
            title="Backend developer",
            target_levels={"python": 7},
            weekly_hours="4",
            now=timezone.now(),
        )
        for someone in (learner, other_learner)
    }
    mine = goals[learner.pk]
    doors = {
        "html": lambda: html.post(reverse("learning:goal_abandon", args=[mine.pk])),
        "api": lambda: api.post(f"/api/v1/learning/goals/{mine.pk}/abandon/"),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.goal_abandon(goal=goals[other_learner.pk], now=timezone.now()),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert LearningGoal.objects.get(pk=mine.pk).status == LearningGoal.Status.ABANDONED
    assert trace.counts == {"insights.PendingJob": 1}
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_unenroll(
    door, world, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    course = world["course"]
    enrollments = {
        someone.pk: EnrollmentFactory(learner=someone, course=course)
        for someone in (learner, other_learner)
    }
    mine = enrollments[learner.pk]
    doors = {
        "html": lambda: html.post(reverse("catalog:course_leave", args=[course.slug])),
        "api": lambda: api.delete(f"/api/v1/learning/enrollments/{mine.pk}/"),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: services.enrollment_drop(
            enrollment=enrollments[other_learner.pk], now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    assert Enrollment.objects.get(pk=mine.pk).status == Enrollment.Status.DROPPED
    assert trace.counts == {"insights.PendingJob": 1}
    assert trace.versions_moved == {"learner": True, "catalog": False}


def test_no_door_imports_a_recommendation_writer():
    """Pages, API views and admins reach recommendations through services only."""
    import ast
    from pathlib import Path

    from django.conf import settings

    doors = [
        path
        for app in ("accounts", "catalog", "learning", "assessments", "insights")
        for name in ("views.py", "api.py", "ml_api.py", "admin.py")
        if (path := Path(settings.BASE_DIR) / app / name).exists()
    ]
    offenders = []
    for path in doors:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "insights.recommendations":
                offenders.append(f"{path.parent.name}/{path.name}")
            if isinstance(node, ast.Name | ast.alias) and "refresh_recommendations" in (
                getattr(node, "id", None) or getattr(node, "name", "")
            ):
                offenders.append(f"{path.parent.name}/{path.name}")

    assert len(doors) >= 10
    assert offenders == []
