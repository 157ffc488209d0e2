from __future__ import annotations

from datetime import date, timedelta

import pytest

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot
from insights.paths import (
    PathError,
    _courses_teaching,
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


def python_proficient(learner, skill):
    """A state the mastery rules call proficient: 6 answers on 5 questions."""
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        level=9,
        mastery=0.85,
        evidence_count=6,
        distinct_questions=5,
        last_practiced_at=NOW - timedelta(days=1),
    )


def one_right_answer(learner, skill, *, level, mastery):
    """A state on a single right answer: never more than familiar."""
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        level=level,
        mastery=mastery,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
        last_practiced_at=NOW,
    )


def goal_for(learner, targets: dict, **fields):
    goal = LearningGoalFactory(learner=learner, **fields)
    for skill, level in targets.items():
        GoalSkillFactory(goal=goal, skill=skill, target_level=level)
    return goal


def test_three_level_chain_orders_prerequisites_first_with_reasons(learner, skills, chain):
    basics, flask, apis = chain
    goal = goal_for(learner, {skills["rest_api"]: 7, skills["python"]: 6}, weekly_hours=5)
    LearnerSkillStateFactory(learner=learner, skill=skills["python"], level=3, mastery=0.25)
    LearnerSkillStateFactory(
        learner=learner,
        skill=skills["flask"],
        level=7,
        mastery=0.65,
        evidence_count=2,
        distinct_questions=2,
        last_practiced_at=NOW,
    )

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [(i.sequence, i.id) for i in plan.items] == [(1, basics.pk), (2, flask.pk), (3, apis.pk)]
    # Names with the learner's numbers (issue 13: no reason without them); a prerequisite
    # the learner has a level in says why it is still planned.
    assert [i.reason for i in plan.items] == [
        "Builds foundation in Python (level 3 of 6); prerequisite for Flask Web",
        "Prerequisite for Web APIs with Flask, teaching Flask (level 7, familiar on 2 "
        "answers: not yet proficient)",
        "Builds foundation in Rest_Api (not assessed, target 7)",
    ]
    # 10 + 20 + 15 hours at 5 hours a week: 9 weeks.
    assert plan.metadata["total_courses"] == 3
    assert plan.metadata["total_hours"] == 45.0
    assert plan.metadata["estimated_weeks"] == 9
    assert plan.metadata["skills_covered"] == ["python", "rest_api"]
    assert plan.metadata["remaining_gaps"] == []


def test_a_faded_prerequisite_skill_says_why_its_level_reads_attempted(learner, skills, chain):
    """QA walk (issue 13): "Flask (level 7, attempted on 1 answer …)" beside the legend's
    "familiar (level 6+)": one answer at level 7 is familiar; it reads attempted only once a
    review interval passed without practice, and the reason now says so."""
    goal = goal_for(learner, {skills["rest_api"]: 7})
    LearnerSkillStateFactory(
        learner=learner,
        skill=skills["flask"],
        level=7,
        mastery=0.65,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
        last_practiced_at=NOW - timedelta(days=40),
    )

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items[1].reason == (
        "Prerequisite for Web APIs with Flask, teaching Flask (level 7, attempted on 1 answer, "
        "not practised for 30+ days: not yet proficient)"
    )
    # Stable while the state holds: the next day's plan gives the same reason (no new version).
    later = plan_learning_path(goal=goal, now=NOW + timedelta(days=1))
    assert later.items[1].reason == plan.items[1].reason


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
    assert plan.metadata["remaining_gap_names"] == ["Haskell"]
    assert plan.metadata["gaps"] == [
        {
            "skill": "haskell",
            "name": "Haskell",
            "current_level": 0,
            "target_level": 5,
            "summary": "Haskell (not assessed, target 5)",
        },
        {
            "skill": "python",
            "name": "Python",
            "current_level": 4,
            "target_level": 6,
            "summary": "Python (level 4 of 6)",
        },
    ]


def test_skill_already_at_target_needs_no_course(learner, skills, chain):
    LearnerSkillStateFactory(learner=learner, skill=skills["python"], level=7, mastery=0.8)
    goal = goal_for(learner, {skills["python"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items == []
    assert plan.metadata["estimated_weeks"] == 0


def test_a_target_level_on_thin_evidence_is_still_a_gap(learner, skills, chain):
    """One right answer on python, then "I don't know" twice: level 8, but not confirmed
    (familiar on one answer), so the goal's python target is not reached and the path
    keeps the course that teaches it and says why."""
    basics = chain[0]
    one_right_answer(learner, skills["python"], level=8, mastery=0.75)
    goal = goal_for(learner, {skills["python"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [item.id for item in plan.items] == [basics.pk]
    assert plan.metadata["gaps"] == [
        {
            "skill": "python",
            "name": "Python",
            "current_level": 8,
            "target_level": 7,
            # The gaps line says it as the reason does (not "level 8 → 7").
            "summary": "Python (level 8, familiar on 1 answer: not yet proficient)",
        }
    ]
    assert plan.items[0].reason == (
        "Builds foundation in Python (level 8, familiar on 1 answer: not yet proficient)"
    )


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


def test_path_diff_names_lessons_a_kept_course_skips_or_asks_for_again():
    def course(skips):
        return {"id": 1, "title": "SQL and PostgreSQL", "skip_lessons": [{"id": i} for i in skips]}

    flask = {"id": 2, "title": "Flask", "skip_lessons": []}

    # A quiz took back PostgreSQL: the two lessons the path skipped come back.
    back = path_diff(old_items=[course([7, 8]), flask], new_items=[course([]), flask])
    assert (back.added, back.removed, back.reordered) == ([], [], [])
    assert back.summary == "Asks again for 2 lessons of SQL and PostgreSQL."
    skips = path_diff(old_items=[course([7]), flask], new_items=[course([7, 9]), flask])
    assert skips.summary == "Now skips 1 lesson of SQL and PostgreSQL."
    same = path_diff(old_items=[course([7]), flask], new_items=[course([7]), flask])
    assert same.summary == "Same courses and lessons; estimates or reasons updated."


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
            "reason": "Builds foundation in Python (not assessed, target 7)",
            "sequence": 1,
            "skill_names": ["Python"],
            "skip_lessons": [],
            "optional_lessons": [],
            "completed_outside": [],
            # No lessons: nothing a course challenge or skill check could spare.
            "challenge": None,
            "skill_checks": [],
            "hours_note": "",
            "available": True,
            "done": False,
            "done_at": None,
            "hours_done": 0.0,
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
    assert meta["unavailable"] == 0
    assert (meta["done_courses"], meta["done_hours"]) == (0, 0.0)


def test_a_course_the_learner_has_shown_they_know_is_skipped_with_the_evidence(
    learner, skills, chain
):
    basics, flask, apis = chain
    python_proficient(learner, skills["python"])
    goal = goal_for(learner, {skills["rest_api"]: 7, skills["python"]: 9})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert [i.id for i in plan.items] == [flask.pk, apis.pk]
    assert plan.metadata["skipped"] == [
        {
            "id": basics.pk,
            "title": "Python Basics",
            "reason": "Skipped Python Basics: Python proficient on 6 answers",
        }
    ]


def test_a_level_on_one_answer_does_not_skip_a_course(learner, skills, chain):
    basics = chain[0]
    one_right_answer(learner, skills["python"], level=10, mastery=0.95)
    goal = goal_for(learner, {skills["rest_api"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items[0].id == basics.pk
    assert plan.metadata["skipped"] == []


def test_regenerating_an_unchanged_path_writes_nothing_and_says_so(learner, skills, chain):
    from insights.models import PendingJob
    from insights.services import learning_path_generate

    goal = goal_for(learner, {skills["flask"]: 7})
    first = learning_path_generate(goal=goal, now=NOW)
    jobs = PendingJob.objects.count()

    again = learning_path_generate(goal=goal, now=NOW + timedelta(hours=1))

    assert first.created and not again.created
    assert again.snapshot.pk == first.snapshot.pk
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1
    assert PendingJob.objects.count() == jobs  # no follow-up either: nothing changed
    assert again.message == (
        "Your path is up to date: nothing changed since version 1, so no new version was written."
    )


def test_regenerate_without_change_through_the_page_and_the_api(
    client, as_user, learner, skills, chain
):
    goal = goal_for(learner, {skills["flask"]: 7})
    api = as_user(learner)
    url = "/api/v1/ai/generate-learning-path"

    created = api.post(url, {"goal_id": goal.pk}, format="json")
    unchanged = api.post(url, {"goal_id": goal.pk}, format="json")
    client.force_login(learner)
    page = client.post(f"/insights/paths/{goal.pk}/generate/", follow=True).content.decode()

    assert created.status_code == 201 and created.json()["metadata"]["created"] is True
    assert unchanged.status_code == 200
    assert unchanged.json()["metadata"]["created"] is False
    assert "nothing changed since version 1" in unchanged.json()["metadata"]["message"]
    assert "nothing changed since version 1" in page
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1


def test_path_page_shows_skips_and_version_times_in_the_learners_zone(
    client, learner, skills, chain
):
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save()
    LearnerSkillStateFactory(
        learner=learner,
        skill=skills["python"],
        level=9,
        mastery=0.85,
        evidence_count=6,
        distinct_questions=5,
        last_practiced_at=NOW,
    )
    goal = goal_for(learner, {skills["rest_api"]: 7})
    generate_learning_path(goal=goal, now=NOW)  # 15:00 UTC is 16:00 in Berlin in March
    client.force_login(learner)

    html = client.get(f"/insights/paths/{goal.pk}/").content.decode()

    assert "Skipped Python Basics: Python proficient on 6 answers" in html
    assert "When (Europe/Berlin)" in html
    assert "4 Mar 2026, 16:00</td>" in html


def test_lessons_whose_skills_the_learner_showed_are_skipped_inside_a_kept_course(
    learner, skills, chain
):
    """Flask Web teaches Flask in two lessons and Python in one; with Python shown, the
    path keeps the course for Flask but lists the Python lesson as one to skip."""
    _, flask, _ = chain
    flask.skills.add(skills["python"])
    module = ModuleFactory(course=flask, order=1)
    LessonFactory(
        module=module, order=1, title="Routes", estimated_minutes=30, skills=[skills["flask"]]
    )
    refresher = LessonFactory(
        module=module,
        order=2,
        title="Python refresher",
        estimated_minutes=20,
        skills=[skills["python"]],
    )
    LessonFactory(module=module, order=3, title="Templates", estimated_minutes=50, skills=[])
    python_proficient(learner, skills["python"])
    goal = goal_for(learner, {skills["flask"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    [item] = plan.items
    assert item.id == flask.pk
    assert item.skip_lessons == [
        {
            "id": refresher.pk,
            "title": "Python refresher",
            "reason": "Python proficient on 6 answers",
        }
    ]
    # 20 of 100 lesson minutes skipped: 20 h → 16 h. "Templates" has no skills of its own,
    # so it is judged by the course's (Flask not shown): kept.
    assert item.estimated_hours == 16.0
    assert plan.metadata["total_hours"] == 16.0


def test_a_plan_reads_only_the_courses_of_its_skills_and_their_prerequisites(
    learner, skills, chain, django_assert_max_num_queries
):
    basics, flask, apis = chain
    goal = goal_for(learner, {skills["rest_api"]: 7})
    # Catalogue the goal does not need: other skills, with a prerequisite chain of their own,
    # and a course that builds on one of the chain's (it teaches no goal skill).
    other = SkillFactory(slug="cooking", name="Cooking")
    previous = None
    for number in range(5):
        previous = CourseFactory(
            title=f"Cooking {number}",
            skills=[other],
            prerequisites=[previous] if previous else [],
        )
    CourseFactory(title="Flask cookbook", skills=[other], prerequisites=[flask])
    draft_base = CourseFactory(title="Draft base", status=Course.Status.DRAFT)
    apis.prerequisites.add(draft_base)  # a draft prerequisite is neither planned nor followed

    # goal, learner, levels, targets, completed, courses teaching the goal's skills, the
    # prerequisites level by level (Flask Web, Python Basics, none left), courses, skills;
    # no lesson query: the learner has shown no skill.
    with django_assert_max_num_queries(10):
        plan = plan_learning_path(goal=goal, now=NOW)

    assert [item.title for item in plan.items] == [
        "Python Basics",
        "Flask Web",
        "Web APIs with Flask",
    ]
    ids, _ = _courses_teaching({"rest_api"})
    assert ids == {basics.pk, flask.pk, apis.pk}


def test_a_kept_prerequisite_names_only_the_skills_not_yet_shown(learner, skills, chain):
    """Python Basics also teaches data structures: with Python proficient and data
    structures familiar, the reason says what keeps the course (QA walk: it listed the
    proficient skill too)."""
    basics = chain[0]
    structures = SkillFactory(slug="data_structures", name="Data structures")
    basics.skills.add(structures)
    python_proficient(learner, skills["python"])
    LearnerSkillStateFactory(
        learner=learner,
        skill=structures,
        level=6,
        mastery=0.55,
        evidence_count=2,
        distinct_questions=2,
        last_practiced_at=NOW,
    )
    goal = goal_for(learner, {skills["rest_api"]: 7})

    plan = plan_learning_path(goal=goal, now=NOW)

    assert plan.items[0].id == basics.pk
    assert plan.items[0].reason == (
        "Prerequisite for Flask Web, teaching Data structures (level 6, familiar on 2 answers: "
        "not yet proficient)"
    )
