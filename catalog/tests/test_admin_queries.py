from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.tests.factories import AssessmentFactory, QuestionFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory

pytestmark = pytest.mark.django_db


def build(instructor, size: int) -> None:
    skill = SkillFactory(slug="python", name="Python")
    for n in range(size):
        course = CourseFactory(owner=instructor, skills=[skill])
        module = ModuleFactory(course=course, order=1)
        LessonFactory(module=module, order=1, skills=[skill])
        quiz = AssessmentFactory(owner=instructor, course=course)
        QuestionFactory(assessment=quiz, skill=skill, order=n + 1)


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:catalog_course_changelist",
        "admin:catalog_module_changelist",
        "admin:catalog_lesson_changelist",
        "admin:assessments_assessment_changelist",
        "admin:assessments_question_changelist",
    ],
)
@pytest.mark.parametrize("size", [1, 25])
def test_changelists_query_count_does_not_grow_with_rows(
    client, instructor, django_assert_max_num_queries, url_name, size
):
    build(instructor, size)
    client.force_login(instructor)

    # 8-9 whatever the size: session, user, the count, the page of rows (with
    # owners, modules and courses joined in and child counts annotated), and
    # one query per related-only list filter.
    with django_assert_max_num_queries(9):
        response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert response.context["cl"].result_count == size
