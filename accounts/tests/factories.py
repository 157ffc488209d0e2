from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import LearnerProfile, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.LEARNER
    is_staff = False
    password = factory.django.Password("correct-horse-battery")
    profile = factory.RelatedFactory(
        "accounts.tests.factories.LearnerProfileFactory", factory_related_name="user"
    )


class LearnerFactory(UserFactory):
    role = User.Role.LEARNER


class InstructorFactory(UserFactory):
    role = User.Role.INSTRUCTOR
    is_staff = True


class AdminFactory(UserFactory):
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True


class LearnerProfileFactory(DjangoModelFactory):
    class Meta:
        model = LearnerProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory, profile=None)
    timezone = "UTC"
    preferences = factory.LazyFunction(lambda: {"weekly_hours": 5})
