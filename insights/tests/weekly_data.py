"""A small catalog and learners who are due a weekly path adjustment (jobs tests)."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts.models import User
from accounts.tests.factories import InstructorFactory, LearnerFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory


def learners_due_adjustment(count: int, *, now: datetime) -> list[User]:
    """``count`` learners enrolled in Python Basics with a goal of Python level 7.

    None has a path yet, so the weekly run plans one (a new snapshot) and
    recommends the first lesson of the course.
    """
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(
        title="Python Basics",
        skills=[python],
        estimated_hours=10,
        owner=InstructorFactory(password=None),
    )
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1, title="Variables", skills=[python])
    LessonFactory(module=module, order=2, title="Loops", skills=[python])
    learners = []
    for _ in range(count):
        # No password: hashing one with Argon2 costs more than the whole test.
        learner = LearnerFactory(password=None)
        goal = LearningGoalFactory(learner=learner, title="Learn Python")
        GoalSkillFactory(goal=goal, skill=python, target_level=7)
        EnrollmentFactory(learner=learner, course=course, enrolled_at=now - timedelta(days=7))
        learners.append(learner)
    return learners
