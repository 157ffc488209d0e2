"""AI endpoints: the seed report's keys and hand-checked values."""

from __future__ import annotations

import pytest

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot, Recommendation
from insights.tests.factories import RecommendationFactory
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

# Keys of the seed report's example JSON for GET /api/v1/ai/dashboard.
DASHBOARD_KEYS = {
    "performance_summary",
    "current_goals",
    "recommended_next_lessons",
    "revision_recommendations",
    "struggling_topics",
    "ai_insights",
}
SUMMARY_KEYS = {
    "lessons_completed",
    "avg_quiz_score",
    "completion_rate",
    "current_streak",
    "performance_trend",
}
NEXT_LESSON_KEYS = {"lesson_id", "title", "reason", "estimated_minutes"}
INSIGHT_KEYS = {
    "learning_pace",
    "performance_trend",
    "personalized_message",
    "strengths",
    "areas_for_improvement",
    "study_recommendation",
}
# ... and for POST /api/v1/ai/generate-learning-path.
PATH_ITEM_KEYS = {
    "type",
    "id",
    "title",
    "skills_covered",
    "estimated_hours",
    "reason",
    "sequence",
}
PATH_METADATA_KEYS = {
    "total_courses",
    "total_hours",
    "estimated_weeks",
    "skills_covered",
    "remaining_gaps",
}


@pytest.fixture
def goal(learner):
    python = SkillFactory(slug="python", name="Python")
    goal = LearningGoalFactory(learner=learner, title="Backend", weekly_hours=5)
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    return goal


@pytest.mark.django_db
def test_dashboard_has_every_key_of_the_seed_example(as_user, learner, goal):
    module = ModuleFactory(course__skills=[goal.target_skills.get().skill], order=1)
    LessonFactory(module=module, order=1, title="Intro", estimated_minutes=30)
    as_user(learner).post("/api/v1/learning/enrollments/", {"course": module.course_id})

    body = as_user(learner).get("/api/v1/ai/dashboard").json()

    assert set(body) >= DASHBOARD_KEYS
    assert set(body["performance_summary"]) >= SUMMARY_KEYS
    assert set(body["ai_insights"]) >= INSIGHT_KEYS
    assert [goal_row["title"] for goal_row in body["current_goals"]] == ["Backend"]
    first = body["recommended_next_lessons"][0]
    assert set(first) >= NEXT_LESSON_KEYS
    assert (first["title"], first["estimated_minutes"]) == ("Intro", 30)


@pytest.mark.django_db
def test_generate_learning_path_has_the_seed_shape_and_hand_checked_figures(as_user, learner, goal):
    python = goal.target_skills.get().skill
    course = CourseFactory(title="Python Backend", skills=[python], estimated_hours=20)
    api = as_user(learner)
    assert api.get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").status_code == 404

    response = api.post("/api/v1/ai/generate-learning-path", {"goal_id": goal.pk}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"learning_path", "metadata"}
    item = body["learning_path"][0]
    assert set(item) >= PATH_ITEM_KEYS
    assert (item["id"], item["sequence"], item["skills_covered"]) == (course.pk, 1, ["python"])
    assert set(body["metadata"]) >= PATH_METADATA_KEYS
    # One 20-hour course at 5 hours a week: 4 weeks.
    meta = body["metadata"]
    assert (meta["total_courses"], meta["total_hours"], meta["estimated_weeks"]) == (1, 20.0, 4)
    assert (meta.pop("created"), meta.pop("message")) == (
        True,
        f"Path version 1: {meta['changes']['text']}",
    )
    assert api.get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json() == body

    # Nothing changed: no new version, and the answer says so.
    again = api.post("/api/v1/ai/generate-learning-path", {"goal_id": goal.pk}, format="json")
    assert again.status_code == 200 and again.json()["metadata"]["created"] is False
    history = api.get(f"/api/v1/ai/learning-path/history?goal_id={goal.pk}").json()
    assert [(v["version"], v["is_active"]) for v in history["results"]] == [(1, True)]
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1


@pytest.mark.django_db
def test_learning_path_needs_a_valid_goal_id(as_user, learner):
    api = as_user(learner)

    missing = api.get("/api/v1/ai/learning-path")
    garbage = api.post("/api/v1/ai/generate-learning-path", {"goal_id": "x"}, format="json")

    assert missing.status_code == garbage.status_code == 400
    assert "goal_id" in missing.json()["error"]["fields"]


@pytest.mark.django_db
def test_recommendation_action_is_recorded_once(as_user, learner):
    recommendation = RecommendationFactory(learner=learner)
    api = as_user(learner)
    url = f"/api/v1/ai/recommendations/{recommendation.pk}/action"

    accepted = api.post(url, {"action": "accepted"}, format="json")
    then_skipped = api.post(url, {"action": "skipped"}, format="json")
    unknown = api.post(url, {"action": "loved"}, format="json")

    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert then_skipped.status_code == 400
    assert "already accepted" in then_skipped.json()["error"]["message"]
    assert unknown.status_code == 400
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.ACCEPTED
