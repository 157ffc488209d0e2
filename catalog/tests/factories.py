from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import InstructorFactory
from catalog.models import Course, Lesson, Module, Skill


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"skill_{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("_", " ").title())
    description = factory.Faker("sentence")


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    description = factory.Faker("paragraph")
    estimated_hours = 10
    owner = factory.SubFactory(InstructorFactory)
    status = Course.Status.PUBLISHED

    @factory.post_generation
    def skills(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.skills.set(extracted)

    @factory.post_generation
    def prerequisites(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.prerequisites.set(extracted)


class ModuleFactory(DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    order = factory.Sequence(lambda n: n + 1)


class LessonFactory(DjangoModelFactory):
    class Meta:
        model = Lesson
        skip_postgeneration_save = True

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    order = factory.Sequence(lambda n: n + 1)
    body = "## Heading\n\nSome *Markdown* text."
    estimated_minutes = 20

    @factory.post_generation
    def skills(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.skills.set(extracted)

    @factory.post_generation
    def prerequisites(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.prerequisites.set(extracted)
