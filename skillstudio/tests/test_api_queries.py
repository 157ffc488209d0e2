"""Query-count bounds on every list endpoint, with little and with much data.

The same bound holds for 1 and for 15 rows per list, so a query per row (N+1)
fails. Authentication is forced (JWT would add the user lookup).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.tests.factories import (
    AssessmentAttemptFactory,
    AssessmentFactory,
    ChoiceFactory,
    QuestionFactory,
)
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot
from insights.paths import generate_learning_path
from insights.tests.factories import LearningPathSnapshotFactory, RecommendationFactory
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

SMALL, LARGE = 1, 15


def skills(n, learner, instructor) -> str:
    for _ in range(n):
        SkillFactory()
    return "/api/v1/skills"


def courses(n, learner, instructor) -> str:
    base = CourseFactory(owner=instructor)
    for _ in range(n):
        CourseFactory(
            owner=instructor, skills=[SkillFactory(), SkillFactory()], prerequisites=[base]
        )
    return "/api/v1/courses/"


def modules(n, learner, instructor) -> str:
    course = CourseFactory(owner=instructor)
    for order in range(1, n + 1):
        LessonFactory(module=ModuleFactory(course=course, order=order), order=1)
    return f"/api/v1/courses/{course.pk}/modules/"


def lessons(n, learner, instructor) -> str:
    module = ModuleFactory(course__owner=instructor)
    first = LessonFactory(module=module, order=1)
    for order in range(2, n + 2):
        LessonFactory(module=module, order=order, skills=[SkillFactory()], prerequisites=[first])
    return f"/api/v1/courses/{module.course_id}/modules/{module.pk}/lessons/"


def goals(n, learner, instructor) -> str:
    for _ in range(n):
        goal = LearningGoalFactory(learner=learner)
        GoalSkillFactory(goal=goal)
        GoalSkillFactory(goal=goal)
    return "/api/v1/learning/goals/"


def enrollments(n, learner, instructor) -> str:
    for _ in range(n):
        EnrollmentFactory(learner=learner, course=CourseFactory(owner=instructor))
    return "/api/v1/learning/enrollments/"


def progress(n, learner, instructor) -> str:
    for _ in range(n):
        LessonProgressFactory(
            learner=learner, lesson=LessonFactory(module__course__owner=instructor)
        )
    return "/api/v1/learning/progress/"


def assessments(n, learner, instructor) -> str:
    for _ in range(n):
        QuestionFactory(assessment=AssessmentFactory(owner=instructor, course=CourseFactory()))
    return "/api/v1/assessments/"


def questions(n, learner, instructor) -> str:
    assessment = AssessmentFactory(owner=instructor)
    for order in range(1, n + 1):
        question = QuestionFactory(assessment=assessment, order=order)
        ChoiceFactory(question=question, is_correct=True)
        ChoiceFactory(question=question)
    return f"/api/v1/assessments/{assessment.pk}/questions/"


def attempts(n, learner, instructor) -> str:
    now = timezone.now()
    for _ in range(n):
        AssessmentAttemptFactory(
            learner=learner,
            assessment=AssessmentFactory(owner=instructor),
            started_at=now - timedelta(minutes=5),
            submitted_at=now,
            skill_breakdown={
                "python": {
                    "skill": "Python",
                    "questions": 1,
                    "correct": 1,
                    "percent": 100.0,
                    "level_before": 1,
                    "level_after": 2,
                    "mastery": 0.4,
                }
            },
        )
    return "/api/v1/attempts/"


def recommendations(n, learner, instructor) -> str:
    # History the engine reads: n enrolled courses with a lesson done in each (the
    # next one is then recommended), and stale recommendations the refresh expires.
    for _ in range(n):
        module = ModuleFactory(course__owner=instructor, order=1)
        done = LessonFactory(module=module, order=1)
        LessonFactory(module=module, order=2, prerequisites=[done])
        EnrollmentFactory(learner=learner, course=module.course)
        LessonProgressFactory(
            learner=learner, lesson=done, status="completed", completed_at=timezone.now()
        )
        RecommendationFactory(learner=learner, lesson=done)
    return "/api/v1/ai/recommendations"


def path_history(n, learner, instructor) -> str:
    skill = SkillFactory()
    CourseFactory(owner=instructor, skills=[skill])
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=skill)
    generate_learning_path(goal=goal, now=timezone.now())
    # Regenerating an unchanged path writes nothing: older versions are stored directly.
    for version in range(2, n + 1):
        LearningPathSnapshot.objects.filter(goal=goal).update(is_active=False)
        LearningPathSnapshotFactory(goal=goal, version=version, created_at=timezone.now())
    return f"/api/v1/ai/learning-path/history?goal_id={goal.pk}"


# Bounds, with what the queries are. "page" = COUNT(*) + the page's SELECT.
LISTS = {
    skills: 2,  # page
    courses: 4,  # page + skills + prerequisites prefetch
    modules: 4,  # parent course + page + lessons prefetch
    # parent course + module + the lesson ids the caller may read + page + skills
    # + prerequisites prefetch
    lessons: 7,
    goals: 3,  # page + target skills (with skill) prefetch
    enrollments: 2,  # page (course joined)
    progress: 2,  # page (lesson and module joined)
    assessments: 2,  # page (question count annotated, course/lesson/owner joined)
    questions: 4,  # assessment + page + choices prefetch
    attempts: 2,  # page (assessment joined)
    path_history: 3,  # goal + page
    # The engine's refresh_recommendations (reads the learner's history in SQL
    # aggregates, locks, expires stale rows, upserts) + the page: constant.
    recommendations: 23,
}
# Rows each list must show at least (the engine suggests at most 3 next lessons).
MIN_ROWS = {recommendations: lambda size: min(size, 3)}


@pytest.mark.django_db
@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["little", "much"])
@pytest.mark.parametrize("populate", list(LISTS), ids=lambda f: f.__name__)
def test_list_query_count_does_not_grow(
    populate, size, as_user, learner, instructor, django_assert_max_num_queries
):
    url = populate(size, learner, instructor)
    # Authors see drafts and answer keys too: the widest querysets.
    author_lists = (courses, modules, lessons, assessments, questions)
    api = as_user(instructor if populate in author_lists else learner)

    with django_assert_max_num_queries(LISTS[populate]):
        response = api.get(url)

    assert response.status_code == 200
    assert response.json()["count"] >= MIN_ROWS.get(populate, lambda n: n)(size)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["little", "much"])
def test_dashboard_query_count_does_not_grow(
    size, as_user, learner, instructor, django_assert_max_num_queries
):
    recommendations(size, learner, instructor)
    goals(size, learner, instructor)
    attempts(size, learner, instructor)

    # insights.dashboard.learner_dashboard's fixed set of aggregate reads (25 with the
    # lock rule's facts and graphs).
    with django_assert_max_num_queries(25):
        response = as_user(learner).get("/api/v1/ai/dashboard")

    assert response.status_code == 200
    assert len(response.json()["current_goals"]) == size
