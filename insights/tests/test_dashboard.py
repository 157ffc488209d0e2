from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.dashboard import learner_dashboard
from insights.paths import generate_learning_path
from insights.recommendations import refresh_recommendations
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW, quiz_attempt
from learning.models import LearnerEvent, LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db

# 22 measured (30 before round 2d, 25 before round 2f): the profile; skill levels, recent
# scores, skips; sessions, event histograms and streak in one query
# (insights.analytics.activity_figures: 3 before); lessons, quizzes, content types; goals +
# target skills + skills; the active paths once for paces and next lessons (each read them
# before); the enrollments with the lock rule's facts in one query (each read on its own
# before; the facts were 3); next lessons: lock graph; revision: studied skills (the goals'
# from the goals above), lessons per skill, lock graph; difficulty; cards. No prerequisite
# chains here (2 more per level of prerequisites in each lock graph). 23 since the goal
# pace counts the path's lessons completed (insights.path_progress: the paths' lessons with
# the learners' completions, one query; before, only for a path leaving lessons out).
QUERY_BOUND = 23


def build_learner_history(learner, size: int) -> None:
    """Two goals, two enrolled courses, and `size` answers and events spread over 60 days."""
    skills = [SkillFactory(slug=f"topic_{i}") for i in range(4)]
    for i, skill in enumerate(skills):
        LearnerSkillStateFactory(
            learner=learner, skill=skill, level=3 + i, mastery=0.3 + i / 10, last_practiced_at=NOW
        )
    for c in range(2):
        course = CourseFactory(title=f"Course {c}", skills=skills[c * 2 : c * 2 + 2])
        module = ModuleFactory(course=course, order=1)
        lessons = [
            LessonFactory(module=module, order=o, skills=[skills[c * 2]]) for o in range(1, 4)
        ]
        lessons[2].prerequisites.set([lessons[1]])
        EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(days=60))
        LessonProgressFactory(
            learner=learner,
            lesson=lessons[0],
            status=LessonProgress.Status.COMPLETED,
            started_at=NOW - timedelta(days=5),
            completed_at=NOW - timedelta(days=4),
        )
    for g in range(2):
        goal = LearningGoalFactory(learner=learner, title=f"Goal {g}")
        GoalSkillFactory(goal=goal, skill=skills[g], target_level=8)
        generate_learning_path(goal=goal, now=NOW - timedelta(days=30))
    per_attempt = 10
    for i in range(size // per_attempt):
        quiz_attempt(
            learner,
            at=NOW - timedelta(days=60 * i / (size // per_attempt), hours=1),
            skill=skills[i % 4],
            correct=i % per_attempt,
            total=per_attempt,
        )
    LearnerEvent.objects.bulk_create(
        LearnerEvent(
            event_id=uuid.uuid4(),
            learner=learner,
            event_type=LearnerEvent.Type.HEARTBEAT,
            occurred_at=NOW - timedelta(minutes=173 * i),
            received_at=NOW,
        )
        for i in range(size)
    )
    refresh_recommendations(learner=learner, now=NOW)


def test_dashboard_has_the_seed_shape_and_is_json(learner):
    build_learner_history(learner, 10)

    dashboard = learner_dashboard(learner=learner, now=NOW)

    assert set(dashboard) >= {
        "performance_summary",
        "current_goals",
        "recommended_next_lessons",
        "revision_recommendations",
        "struggling_topics",
        "ai_insights",
    }
    assert set(dashboard["performance_summary"]) >= {
        "lessons_completed",
        "avg_quiz_score",
        "completion_rate",
        "current_streak",
        "performance_trend",
    }
    assert set(dashboard["ai_insights"]) == {
        "learning_pace",
        "performance_trend",
        "personalized_message",
        "strengths",
        "areas_for_improvement",
        "study_recommendation",
        # What the message points at about weak topics (beyond the seed's shape).
        "next_step",
    }
    next_lesson = dashboard["recommended_next_lessons"][0]
    assert {"lesson_id", "title", "reason", "estimated_minutes"} <= set(next_lesson)
    assert next_lesson["reason"].startswith("Next in Course ")
    assert "lessons done, about" in next_lesson["reason"]
    topic = dashboard["struggling_topics"][0]
    assert set(topic) >= {"skill", "avg_score", "difficulty"}
    assert [g["title"] for g in dashboard["current_goals"]] == ["Goal 0", "Goal 1"]
    assert dashboard["current_goals"][0]["pace"]["status"] in {"ahead", "on_track", "behind"}
    assert dashboard["recommendations"]
    json.dumps(dashboard)


def test_dashboard_shows_only_the_learners_own_data(learner, other_learner):
    build_learner_history(other_learner, 10)

    dashboard = learner_dashboard(learner=learner, now=NOW)

    assert dashboard["current_goals"] == []
    assert dashboard["recommended_next_lessons"] == []
    assert dashboard["recommendations"] == []
    assert dashboard["performance_summary"]["avg_quiz_score"] is None


@pytest.mark.parametrize("size", [10, 500])
def test_dashboard_query_count_does_not_grow_with_history(
    learner, size, django_assert_max_num_queries
):
    build_learner_history(learner, size)
    learner.refresh_from_db()

    with django_assert_max_num_queries(QUERY_BOUND):
        dashboard = learner_dashboard(learner=learner, now=NOW)

    assert dashboard["performance_summary"]["quizzes_taken"] > 0


def test_dashboard_is_deterministic_for_the_same_data_and_now(learner):
    build_learner_history(learner, 40)

    assert learner_dashboard(learner=learner, now=NOW) == learner_dashboard(
        learner=learner, now=NOW
    )
