from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from catalog.models import Course, Difficulty
from catalog.selectors import courses_editable_by, courses_published, courses_visible_to
from catalog.tests.factories import CourseFactory, SkillFactory


@pytest.mark.django_db
def test_published_search_filters_by_text_skill_and_difficulty():
    python = SkillFactory(slug="python")
    sql = SkillFactory(slug="sql")
    CourseFactory(title="Python Basics", skills=[python])
    CourseFactory(title="Advanced Python", skills=[python, sql], difficulty=Difficulty.ADVANCED)
    CourseFactory(title="Python Drafts", skills=[python], status=Course.Status.DRAFT)

    def titles(**kw):
        return [c.title for c in courses_published(**kw)]

    assert titles() == ["Advanced Python", "Python Basics"]
    assert titles(skill="sql") == ["Advanced Python"]
    assert titles(q="basics") == ["Python Basics"]
    assert titles(difficulty="advanced", skill="python") == ["Advanced Python"]


@pytest.mark.django_db
def test_drafts_visible_to_owner_and_admin_only(learner, instructor, other_instructor, admin_user):
    draft = CourseFactory(owner=instructor, status=Course.Status.DRAFT)
    public = CourseFactory(owner=instructor)

    def visible(user):
        return set(courses_visible_to(user=user))

    assert visible(AnonymousUser()) == visible(learner) == visible(other_instructor) == {public}
    assert visible(instructor) == visible(admin_user) == {draft, public}
    assert set(courses_editable_by(user=other_instructor)) == set()
    assert set(courses_editable_by(user=learner)) == set()
    assert set(courses_editable_by(user=instructor)) == {draft, public}
