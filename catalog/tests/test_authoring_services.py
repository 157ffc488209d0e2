"""Catalog and assessment authoring services: the rules every door shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.tests.factories import InstructorFactory
from assessments.models import Assessment, Choice
from assessments.services import assessment_create, question_create, question_update
from assessments.tests.factories import AssessmentFactory
from catalog.models import Course, Module
from catalog.services import course_create, course_update, lesson_create, module_create
from catalog.tests.factories import CourseFactory, ModuleFactory, SkillFactory
from skillstudio.data_versions import CATALOG_KEY, _CatalogBump

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_course_create_refuses_a_taken_slug_and_stores_nothing():
    owner = InstructorFactory()
    CourseFactory(slug="django")

    with pytest.raises(ValidationError) as error:
        course_create(owner=owner, now=NOW, title="Django again", slug="django")

    assert error.value.message_dict == {"slug": ["The slug “django” is already used."]}
    assert Course.objects.filter(slug="django").count() == 1


@pytest.mark.django_db
def test_course_create_is_a_draft_with_its_relations():
    owner = InstructorFactory()
    skill = SkillFactory(slug="sql")
    basics = CourseFactory()

    course = course_create(
        owner=owner, now=NOW, title="SQL", slug="sql", skills=[skill], prerequisites=[basics]
    )

    assert (course.status, course.published_at, course.owner) == (
        Course.Status.DRAFT,
        None,
        owner,
    )
    assert (list(course.skills.all()), list(course.prerequisites.all())) == ([skill], [basics])


@pytest.mark.django_db
def test_a_cycle_in_an_update_rolls_the_whole_update_back():
    first = CourseFactory(title="First")
    second = CourseFactory(title="Second", prerequisites=[first])

    with pytest.raises(ValidationError):
        course_update(course=first, now=NOW, title="Renamed", prerequisites=[second])

    first.refresh_from_db()
    assert (first.title, list(first.prerequisites.all())) == ("First", [])


@pytest.mark.django_db
def test_module_and_lesson_orders_are_unique_per_parent():
    module = ModuleFactory(order=1)
    lesson_create(module=module, now=NOW, title="One", order=1)

    with pytest.raises(ValidationError) as module_error:
        module_create(course=module.course, now=NOW, title="Again", order=1)
    with pytest.raises(ValidationError) as lesson_error:
        lesson_create(module=module, now=NOW, title="Again", order=1)

    assert module_error.value.message_dict == {"order": ["Module order 1 is already used here."]}
    assert lesson_error.value.message_dict == {"order": ["Lesson order 1 is already used here."]}
    assert Module.objects.filter(course=module.course).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_transaction_moves_the_catalogue_version_once():
    owner = InstructorFactory()
    before = cache.get(CATALOG_KEY)

    with transaction.atomic():
        course = course_create(owner=owner, now=NOW, title="Rust", slug="rust")
        module = module_create(course=course, now=NOW, title="Basics", order=1)
        lesson_create(module=module, now=NOW, title="Ownership", order=1)
        pending = [
            callback
            for _, callback, _ in transaction.get_connection().run_on_commit
            if isinstance(callback, _CatalogBump)
        ]

    assert len(pending) == 1
    assert cache.get(CATALOG_KEY) not in (None, before)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_its_bump_and_a_later_write_registers_one():
    owner = InstructorFactory()
    before = cache.get(CATALOG_KEY)

    with transaction.atomic():
        with pytest.raises(ValidationError), transaction.atomic():
            course_create(owner=owner, now=NOW, title="Go", slug="go")
            raise ValidationError("changed my mind")
        after_rollback = cache.get(CATALOG_KEY)
        course_create(owner=owner, now=NOW, title="Zig", slug="zig")

    assert after_rollback == before
    assert cache.get(CATALOG_KEY) != before
    assert list(Course.objects.values_list("slug", flat=True)) == ["zig"]


@pytest.mark.django_db
def test_publishing_at_creation_is_refused_for_an_assessment_learners_cannot_take():
    owner = InstructorFactory()

    with pytest.raises(ValidationError) as error:
        assessment_create(owner=owner, now=NOW, title="Empty", is_published=True)

    assert error.value.message_dict == {"is_published": ["It has no questions yet."]}
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_assessment_lesson_must_belong_to_its_course():
    owner = InstructorFactory()
    course, elsewhere = CourseFactory(owner=owner), ModuleFactory()
    lesson = lesson_create(module=elsewhere, now=NOW, title="Elsewhere", order=1)

    with pytest.raises(ValidationError) as error:
        assessment_create(owner=owner, now=NOW, title="Quiz", course=course, lesson=lesson)

    assert list(error.value.message_dict) == ["lesson"]


@pytest.mark.django_db
def test_saving_a_question_with_the_same_choices_keeps_their_ids():
    quiz = AssessmentFactory()
    skill = SkillFactory()
    choices = [{"text": "yes", "is_correct": True}, {"text": "no", "is_correct": False}]
    question = question_create(
        assessment=quiz, now=NOW, kind="single_choice", prompt="?", skill=skill, choices=choices
    )
    ids = list(question.choices.order_by("order").values_list("pk", flat=True))

    question_update(question=question, now=NOW, prompt="Really?", choices=choices)
    kept = list(question.choices.order_by("order").values_list("pk", flat=True))
    question_update(
        question=question, now=NOW, choices=[*choices, {"text": "maybe", "is_correct": False}]
    )

    # Stored answers point at choice ids: an unchanged key keeps them.
    assert kept == ids
    assert Choice.objects.filter(question=question).count() == 3
    assert not Choice.objects.filter(pk__in=ids).exists()
