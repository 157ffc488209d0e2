from __future__ import annotations

from datetime import date, timedelta

import pytest

from catalog.models import Course
from catalog.tests.factories import CourseFactory, SkillFactory
from insights.models import LearningPathSnapshot
from insights.paths import (
    PathError,
    generate_learning_path,
    path_diff,
    path_payload,
    plan_learning_path,
    snapshot_diff,
)
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW
from learning.models import Enrollment
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def skills():
    return {
        slug: SkillFactory(slug=slug, name=slug.title()) for slug in ("python", "flask", "rest_api")
    }


@pytest.fixture
def chain(skills):
    """Python Basics <- Flask Web <- Web APIs with Flask, easiest first."""
    basics = CourseFactory(
        title="Python Basics", difficulty="beginner", estimated_hours=10, skills=[skills["python"]]
    )
    flask = CourseFactory(
        title="Flask Web",
        difficulty="intermediate",
        estimated_hours=20,
        skills=[skills["flask"]],
        prerequisites=[basics],
    )
    apis = CourseFactory(
        title="Web APIs with Flask",
        difficulty="advanced",
        estimated_hours=15,
        skills=[skills["rest_api"]],
        prerequisites=[flask],
    )
    return basics, flask, apis


def goal_for(learner, targets: dict, **fields):
    goal = LearningGoalFactory(learner=learner, **fields)
    for skill, level in targets.items():
        GoalSkillFactory(goal=goal, skill=skill, target_level=level)
    return goal


def test_three_level_chain_orders_prerequisites_first_with_reasons(learner, skills, chain):
    basics, flask, apis = chain
    goal = goal_for(learner, {skills["rest_api"]: 7, skills["python"]: 6}, weekly_hours=5)

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [(i.sequence, i.id) for i in plan.items] == [(1, basics.pk), (2, flask.pk), (3, apis.pk)]
    assert [i.reason for i in plan.items] == [
        "Builds foundation in python; prerequisite for Flask Web",
        "Prerequisite for Web APIs with Flask",
        "Builds foundation in rest_api",
    ]
    # 10 + 20 + 15 hours at 5 hours a week: 9 weeks.
    assert plan.metadata["total_courses"] == 3
    assert plan.metadata["total_hours"] == 45.0
    assert plan.metadata["estimated_weeks"] == 9
    assert plan.metadata["skills_covered"] == ["python", "rest_api"]
    assert plan.metadata["remaining_gaps"] == []


def test_mastered_prerequisite_is_left_out(learner, skills, chain):
    _, flask, apis = chain
    LearnerSkillStateFactory(learner=learner, skill=skills["python"], level=8, mastery=0.9)
    goal = goal_for(learner, {skills["rest_api"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [i.id for i in plan.items] == [flask.pk, apis.pk]
    assert plan.metadata["total_hours"] == 35.0


def test_completed_prerequisite_is_left_out(learner, skills, chain):
    basics, flask, apis = chain
    EnrollmentFactory(learner=learner, course=basics, status=Enrollment.Status.COMPLETED)
    goal = goal_for(learner, {skills["rest_api"]: 7})

    assert [i.id for i in plan_learning_path(goal=goal, now=NOW).items] == [flask.pk, apis.pk]


def test_skill_no_course_teaches_is_a_remaining_gap(learner, skills, chain):
    haskell = SkillFactory(slug="haskell", name="Haskell")
    LearnerSkillStateFactory(learner=learner, skill=skills["python"], level=4, mastery=0.3)
    goal = goal_for(learner, {haskell: 5, skills["python"]: 6})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [i.title for i in plan.items] == ["Python Basics"]
    assert plan.metadata["remaining_gaps"] == ["haskell"]
    assert plan.metadata["gaps"] == [
        {"skill": "haskell", "current_level": 0, "target_level": 5},
        {"skill": "python", "current_level": 4, "target_level": 6},
    ]


def test_skill_already_at_target_needs_no_course(learner, skills, chain):
    LearnerSkillStateFactory(learner=learner, skill=skills["python"], level=7, mastery=0.8)
    goal = goal_for(learner, {skills["python"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items == []
    assert plan.metadata["estimated_weeks"] == 0


def test_greedy_cover_prefers_most_gap_per_hour(learner):
    x, y = SkillFactory(slug="x"), SkillFactory(slug="y")
    CourseFactory(title="Both", estimated_hours=10, skills=[x, y])  # 4 gap points / 10 h
    only_x = CourseFactory(title="Only X", estimated_hours=2, skills=[x])  # 2 / 2 h
    only_y = CourseFactory(title="Only Y", estimated_hours=2, skills=[y])  # 2 / 2 h
    for skill in (x, y):
        LearnerSkillStateFactory(learner=learner, skill=skill, level=5, mastery=0.5)
    goal = goal_for(learner, {x: 7, y: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert sorted(i.id for i in plan.items) == [only_x.pk, only_y.pk]
    assert plan.metadata["total_hours"] == 4.0


def test_draft_courses_are_not_planned(learner, skills):
    CourseFactory(title="Draft", skills=[skills["flask"]], status=Course.Status.DRAFT)
    goal = goal_for(learner, {skills["flask"]: 5})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items == []
    assert plan.metadata["remaining_gaps"] == ["flask"]


def test_prerequisite_cycle_is_a_clear_error_and_writes_nothing(learner, skills):
    first = CourseFactory(title="Chicken", skills=[skills["flask"]])
    second = CourseFactory(title="Egg", prerequisites=[first])
    first.prerequisites.set([second])
    goal = goal_for(learner, {skills["flask"]: 7})

    with pytest.raises(
        PathError, match=r"Prerequisite cycle between courses: Chicken → Egg → Chicken"
    ):
        generate_learning_path(goal=goal, now=NOW)
    assert not LearningPathSnapshot.objects.filter(goal=goal).exists()


def test_goal_without_target_skills_is_a_clear_error(learner):
    goal = LearningGoalFactory(learner=learner, title="Vague")

    with pytest.raises(PathError, match="Goal 'Vague' has no target skills"):
        plan_learning_path(goal=goal, now=NOW)


@pytest.mark.parametrize(("days", "reachable"), [(63, True), (56, False)])
def test_deadline_reachable_from_weekly_hours(learner, skills, chain, days, reachable):
    # 45 hours at 5 h/week need 63 days.
    goal = goal_for(
        learner,
        {skills["rest_api"]: 7},
        weekly_hours=5,
        deadline=NOW.date() + timedelta(days=days),
    )

    assert plan_learning_path(goal=goal, now=NOW).metadata["deadline_reachable"] is reachable


def test_generate_stores_versions_and_changes(learner, skills, chain):
    apis = chain[2]
    goal = goal_for(learner, {skills["flask"]: 7})

    first = generate_learning_path(goal=goal, now=NOW)
    GoalSkillFactory(goal=goal, skill=skills["rest_api"], target_level=7)
    second = generate_learning_path(goal=goal, now=NOW + timedelta(hours=1))

    first.refresh_from_db()
    assert (first.version, first.is_active) == (1, False)
    assert (second.version, second.is_active, second.trigger) == (2, True, "generated")
    assert first.change_summary == "First version of this path: 2 courses."
    assert second.changes == {
        "added": [apis.pk],
        "removed": [],
        "reordered": [],
        "text": "Added Web APIs with Flask.",
    }
    assert snapshot_diff(older=first, newer=second).added == [apis.pk]


def test_path_diff_reports_reordering():
    old = [{"id": 1, "title": "A"}, {"id": 2, "title": "B"}, {"id": 3, "title": "C"}]
    new = [{"id": 2, "title": "B"}, {"id": 1, "title": "A"}, {"id": 4, "title": "D"}]

    changes = path_diff(old_items=old, new_items=new)

    assert (changes.added, changes.removed, changes.reordered) == ([4], [3], [2, 1])
    assert changes.summary == "Added D; removed C; reordered B, A."


def test_path_payload_has_the_seed_shape(learner, skills, chain):
    goal = goal_for(learner, {skills["python"]: 7}, weekly_hours=10, deadline=date(2026, 6, 1))

    payload = path_payload(generate_learning_path(goal=goal, now=NOW))

    assert payload["learning_path"] == [
        {
            "type": "course",
            "id": chain[0].pk,
            "title": "Python Basics",
            "slug": chain[0].slug,
            "difficulty": "beginner",
            "skills_covered": ["python"],
            "estimated_hours": 10.0,
            "reason": "Builds foundation in python",
            "sequence": 1,
        }
    ]
    meta = payload["metadata"]
    assert {k: meta[k] for k in ("total_courses", "total_hours", "estimated_weeks")} == {
        "total_courses": 1,
        "total_hours": 10.0,
        "estimated_weeks": 1,
    }
    assert meta["skills_covered"] == ["python"]
    assert meta["remaining_gaps"] == []
    assert meta["deadline_reachable"] is True
    assert meta["version"] == 1
