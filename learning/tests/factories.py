from __future__ import annotations

import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import CourseFactory, LessonFactory, SkillFactory
from learning.models import Enrollment, GoalSkill, LearnerEvent, LearningGoal, LessonProgress


class LearningGoalFactory(DjangoModelFactory):
    class Meta:
        model = LearningGoal

    learner = factory.SubFactory(LearnerFactory)
    title = factory.Sequence(lambda n: f"Goal {n}")
    weekly_hours = 5


class GoalSkillFactory(DjangoModelFactory):
    class Meta:
        model = GoalSkill

    goal = factory.SubFactory(LearningGoalFactory)
    skill = factory.SubFactory(SkillFactory)
    target_level = 7


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    learner = factory.SubFactory(LearnerFactory)
    course = factory.SubFactory(CourseFactory)
    enrolled_at = factory.LazyFunction(timezone.now)


class LessonProgressFactory(DjangoModelFactory):
    class Meta:
        model = LessonProgress

    learner = factory.SubFactory(LearnerFactory)
    lesson = factory.SubFactory(LessonFactory)
    status = LessonProgress.Status.IN_PROGRESS
    started_at = factory.LazyFunction(timezone.now)


class LearnerEventFactory(DjangoModelFactory):
    class Meta:
        model = LearnerEvent

    event_id = factory.LazyFunction(uuid.uuid4)
    occurred_at = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    learner = factory.SubFactory(LearnerFactory)
    event_type = LearnerEvent.Type.LESSON_VIEWED
    data = factory.LazyFunction(dict)
