from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import InstructorFactory, LearnerFactory
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from catalog.tests.factories import SkillFactory


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = Assessment

    title = factory.Sequence(lambda n: f"Quiz {n}")
    kind = Assessment.Kind.QUIZ
    owner = factory.SubFactory(InstructorFactory)
    passing_score = 60
    is_published = True


class QuestionFactory(DjangoModelFactory):
    class Meta:
        model = Question

    assessment = factory.SubFactory(AssessmentFactory)
    kind = Question.Kind.SINGLE_CHOICE
    prompt = factory.Sequence(lambda n: f"Question {n}?")
    skill = factory.SubFactory(SkillFactory)
    points = 1
    order = factory.Sequence(lambda n: n + 1)
    explanation = "Because that is how it works."


class NumericQuestionFactory(QuestionFactory):
    kind = Question.Kind.NUMERIC
    numeric_answer = Decimal("3.14")
    numeric_tolerance = Decimal("0.01")


class ShortTextQuestionFactory(QuestionFactory):
    kind = Question.Kind.SHORT_TEXT
    accepted_answers = factory.LazyFunction(lambda: ["django"])


class ChoiceFactory(DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    text = factory.Sequence(lambda n: f"Option {n}")
    is_correct = False
    order = factory.Sequence(lambda n: n + 1)


class AssessmentAttemptFactory(DjangoModelFactory):
    class Meta:
        model = AssessmentAttempt

    learner = factory.SubFactory(LearnerFactory)
    assessment = factory.SubFactory(AssessmentFactory)
    started_at = factory.LazyFunction(timezone.now)


class AnswerFactory(DjangoModelFactory):
    class Meta:
        model = Answer

    attempt = factory.SubFactory(AssessmentAttemptFactory)
    question = factory.SubFactory(
        QuestionFactory, assessment=factory.SelfAttribute("..attempt.assessment")
    )
    # An answered question; ``response={}`` stands for one left blank (no skill evidence).
    response = factory.LazyFunction(lambda: {"text": "an answer"})
    is_correct = True
    points_awarded = Decimal("1")
    answered_at = factory.LazyFunction(timezone.now)
