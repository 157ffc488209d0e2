"""Recommendations a learner can follow: over random small catalogues with course and
lesson prerequisites and learners with random history, no recommendation targets a
lesson or course the learner cannot open, and no reason shows a skill's slug."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.recommendations import refresh_recommendations
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW, quiz_attempt
from learning.models import Enrollment, LessonProgress
from learning.selectors import course_outline
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

SKILLS = 4
# (mastery, level, answers, distinct questions): proficient, familiar on one answer, weak.
STATES = [(0.85, 9, 6, 5), (0.95, 10, 1, 1), (0.3, 3, 4, 3)]

course_spec = st.fixed_dictionaries(
    {
        "skills": st.sets(st.integers(0, SKILLS - 1), max_size=2),
        "lessons": st.lists(
            st.sets(st.integers(0, SKILLS - 1), max_size=2), min_size=1, max_size=3
        ),
    }
)
world = st.fixed_dictionaries(
    {
        "courses": st.lists(course_spec, min_size=2, max_size=4),
        # Edges are drawn as indexes and only kept when they point backwards (no cycles).
        "course_edges": st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=4),
        "lesson_edges": st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=6),
        "enrolled": st.sets(st.integers(0, 3)),
        "completed": st.sets(st.integers(0, 11), max_size=4),
        "states": st.dictionaries(st.integers(0, SKILLS - 1), st.sampled_from(STATES)),
        "quizzes": st.dictionaries(st.integers(0, SKILLS - 1), st.integers(0, 10), max_size=2),
        "goal": st.sets(st.integers(0, SKILLS - 1), max_size=2),
    }
)


def build(spec: dict):
    skills = [SkillFactory(slug=f"topic_{n}_code", name=f"Topic {n}") for n in range(SKILLS)]
    courses, lessons = [], []
    for index, course_spec_ in enumerate(spec["courses"]):
        course = CourseFactory(
            title=f"Course {index}", skills=[skills[s] for s in sorted(course_spec_["skills"])]
        )
        module = ModuleFactory(course=course, order=1)
        for order, lesson_skills in enumerate(course_spec_["lessons"], start=1):
            lessons.append(
                LessonFactory(
                    module=module,
                    order=order,
                    title=f"C{index} lesson {order}",
                    skills=[skills[s] for s in sorted(lesson_skills)],
                )
            )
        courses.append(course)
    for later, earlier in spec["course_edges"]:
        if earlier < later < len(courses):
            courses[later].prerequisites.add(courses[earlier])
    for later, earlier in spec["lesson_edges"]:
        if earlier < later < len(lessons):
            lessons[later].prerequisites.add(lessons[earlier])
    learner = LearnerFactory()
    for index in spec["enrolled"]:
        if index < len(courses):
            EnrollmentFactory(learner=learner, course=courses[index], enrolled_at=NOW)
    for index in spec["completed"]:
        if index < len(lessons):
            LessonProgressFactory(
                learner=learner,
                lesson=lessons[index],
                status=LessonProgress.Status.COMPLETED,
                completed_at=NOW - timedelta(days=1),
            )
    for skill, (mastery, level, answers, distinct) in spec["states"].items():
        LearnerSkillStateFactory(
            learner=learner,
            skill=skills[skill],
            mastery=mastery,
            level=level,
            evidence_count=answers,
            correct_count=min(answers, 2),
            distinct_questions=distinct,
            last_practiced_at=NOW - timedelta(days=3),
        )
    for skill, correct in spec["quizzes"].items():
        quiz_attempt(
            learner, at=NOW - timedelta(days=2), skill=skills[skill], correct=correct, total=10
        )
    if spec["goal"]:
        goal = LearningGoalFactory(learner=learner)
        for skill in spec["goal"]:
            GoalSkillFactory(goal=goal, skill=skills[skill], target_level=8)
    return learner, skills


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world)
def test_no_recommendation_targets_something_locked_and_reasons_use_names(spec):
    with transaction.atomic():
        learner, skills = build(spec)

        recommendations = refresh_recommendations(learner=learner, now=NOW)

        for rec in recommendations:
            if rec.lesson_id is not None:
                outline = course_outline(learner=learner, course=rec.lesson.module.course, now=NOW)
                item = next(
                    i for m in outline.modules for i in m.lessons if i.lesson.pk == rec.lesson_id
                )
                assert not item.locked, (rec.kind, rec.reason, item.blocking)
            if rec.kind == "course":
                assert not course_outline(learner=learner, course=rec.course, now=NOW).locked
            for skill in skills:
                assert skill.slug not in rec.reason, rec.reason
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_revision_only_for_studied_or_goal_skills_and_open_lessons(learner):
    """A weak skill the learner never studied is not revised; a studied one is, through a
    lesson they can open (not the locked one that teaches it first)."""
    studied, never = SkillFactory(name="SQL Joins"), SkillFactory(name="Docker")
    quiz_attempt(learner, at=NOW - timedelta(days=2), skill=studied, correct=3, total=10)
    prerequisite = CourseFactory(title="SQL Basics", skills=[SkillFactory(name="SQL")])
    LessonFactory(module=ModuleFactory(course=prerequisite), title="Select")
    locked = CourseFactory(title="Advanced SQL", prerequisites=[prerequisite])
    LessonFactory(
        module=ModuleFactory(course=locked),
        title="Join everything",
        skills=[studied],
        difficulty="beginner",
    )
    open_course = CourseFactory(title="Practical SQL")
    open_lesson = LessonFactory(
        module=ModuleFactory(course=open_course),
        title="Joins by example",
        skills=[studied],
        difficulty="advanced",
    )
    LessonFactory(module=ModuleFactory(course=open_course), title="Containers", skills=[never])
    # "Docker" has a low prior estimate but no answer behind it: never studied, not in a goal.
    LearnerSkillStateFactory(
        learner=learner,
        skill=never,
        mastery=0.2,
        level=2,
        evidence_count=0,
        correct_count=0,
        distinct_questions=0,
    )

    recs = [r for r in refresh_recommendations(learner=learner, now=NOW) if r.kind == "revision"]

    assert [(r.lesson_id, r.reason) for r in recs] == [
        (
            open_lesson.pk,
            "Study SQL Joins with “Joins by example” — 30% correct on your last 10 answers, "
            "last practised 2 days ago; about 20 minutes",
        )
    ]
    assert Enrollment.objects.filter(learner=learner).count() == 0
