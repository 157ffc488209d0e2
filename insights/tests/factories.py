from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import LearnerFactory
from catalog.tests.factories import LessonFactory, SkillFactory
from insights.models import LearnerSkillState, LearningPathSnapshot, MLModel, Recommendation
from learning.tests.factories import LearningGoalFactory


class LearnerSkillStateFactory(DjangoModelFactory):
    class Meta:
        model = LearnerSkillState

    learner = factory.SubFactory(LearnerFactory)
    skill = factory.SubFactory(SkillFactory)
    mastery = 0.5
    level = 5
    evidence_count = 4
    correct_count = 2
    distinct_questions = 3
    last_practiced_at = factory.LazyFunction(timezone.now)


class LearningPathSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = LearningPathSnapshot

    goal = factory.SubFactory(LearningGoalFactory)
    learner = factory.SelfAttribute("goal.learner")
    version = 1
    items = factory.LazyFunction(list)
    metadata = factory.LazyFunction(dict)
    created_at = factory.LazyFunction(timezone.now)


class RecommendationFactory(DjangoModelFactory):
    class Meta:
        model = Recommendation

    learner = factory.SubFactory(LearnerFactory)
    kind = Recommendation.Kind.NEXT_LESSON
    lesson = factory.SubFactory(LessonFactory)
    reason = "Next in sequence: Module 1 - Basics"
    score = 1.0
    created_at = factory.LazyFunction(timezone.now)


class MLModelFactory(DjangoModelFactory):
    class Meta:
        model = MLModel

    name = "bkt"
    version = factory.Sequence(lambda n: n + 1)
    trained_at = factory.LazyFunction(timezone.now)
    parameters = factory.LazyFunction(dict)
    metrics = factory.LazyFunction(dict)
