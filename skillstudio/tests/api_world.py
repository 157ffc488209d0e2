"""A small, complete world for API tests: one of every object, owned by known users."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from assessments.models import Assessment, AssessmentAttempt, Question
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.models import Course, Lesson, Module, Skill
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import DropoutRisk, LearningPathSnapshot, Recommendation
from insights.paths import generate_learning_path
from insights.tests.factories import RecommendationFactory
from learning.models import Enrollment, LearningGoal, LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

PASSWORD = "correct-horse-battery"  # the user factories' password


@dataclass
class World:
    skill: Skill
    course: Course
    spare_course: Course
    draft_course: Course
    module: Module
    lesson: Lesson
    spare_module: Module
    spare_lesson: Lesson
    assessment: Assessment
    spare_assessment: Assessment
    question: Question
    goal: LearningGoal
    enrollment: Enrollment
    progress: LessonProgress
    attempt: AssessmentAttempt
    recommendation: Recommendation
    risk: DropoutRisk
    snapshot: LearningPathSnapshot
    refresh_token: str


def build_world(*, learner, instructor) -> World:
    """Courses and assessments owned by ``instructor``; goals, progress… by ``learner``."""
    skill = SkillFactory(slug="python", name="Python")
    course = CourseFactory(owner=instructor, title="Python Basics", skills=[skill])
    spare_course = CourseFactory(owner=instructor, title="Spare Course")
    draft_course = CourseFactory(owner=instructor, title="Draft", status=Course.Status.DRAFT)
    module = ModuleFactory(course=course, order=1, title="Getting started")
    lesson = LessonFactory(module=module, order=1, title="Variables", skills=[skill])
    # Nobody has studied the spare module yet, so its author may delete it.
    spare_module = ModuleFactory(course=course, order=2, title="Extras")
    spare_lesson = LessonFactory(module=spare_module, order=1, title="Trivia")
    assessment = AssessmentFactory(owner=instructor, course=course, title="Python quiz")
    spare_assessment = AssessmentFactory(owner=instructor, title="Spare quiz")
    question = QuestionFactory(assessment=assessment, skill=skill, order=1)
    ChoiceFactory(question=question, text="Yes", is_correct=True)
    ChoiceFactory(question=question, text="No")
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=skill, target_level=7)
    now = timezone.now()
    enrollment = EnrollmentFactory(learner=learner, course=course)
    return World(
        skill=skill,
        course=course,
        spare_course=spare_course,
        draft_course=draft_course,
        module=module,
        lesson=lesson,
        spare_module=spare_module,
        spare_lesson=spare_lesson,
        assessment=assessment,
        spare_assessment=spare_assessment,
        question=question,
        goal=goal,
        enrollment=enrollment,
        progress=LessonProgressFactory(learner=learner, lesson=lesson),
        attempt=AssessmentAttempt.objects.create(
            learner=learner, assessment=assessment, started_at=now
        ),
        recommendation=RecommendationFactory(learner=learner, lesson=lesson),
        risk=DropoutRisk.objects.create(
            enrollment=enrollment,
            probability=0.7,
            level=DropoutRisk.Level.HIGH,
            factors=[
                {"factor": "days_since_activity", "text": "no activity for 12 days", "weight": 0.8}
            ],
            features={"days_since_activity": 12.0},
            scored_at=now,
        ),
        snapshot=generate_learning_path(goal=goal, now=now),
        refresh_token=str(RefreshToken.for_user(learner)),
    )
