from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import PendingJob
from learning.models import Enrollment, GoalSkill, LearningGoal, LessonProgress
from learning.selectors import course_outline
from learning.services import (
    enrollment_create,
    enrollment_drop,
    goal_abandon,
    goal_create,
    goal_delete,
    goal_update,
    lesson_complete,
    lesson_position_update,
    lesson_start,
)
from skillstudio.jobs import LEARNER_FOLLOW_UP

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def course_with_lessons():
    course = CourseFactory()
    module = ModuleFactory(course=course, order=1)
    lessons = [LessonFactory(module=module, order=i, title=f"L{i}") for i in (1, 2, 3, 4)]
    return course, lessons


@pytest.mark.django_db
def test_enrollment_is_idempotent_and_reactivates_after_drop(learner):
    course = CourseFactory()

    first = enrollment_create(learner=learner, course=course, now=NOW)
    again = enrollment_create(learner=learner, course=course, now=NOW)
    enrollment_drop(enrollment=first, now=NOW)
    back = enrollment_create(learner=learner, course=course, now=NOW)

    assert first.pk == again.pk == back.pk
    assert back.status == Enrollment.Status.ACTIVE
    assert Enrollment.objects.filter(learner=learner).count() == 1


@pytest.mark.django_db
def test_draft_course_cannot_be_joined(learner):
    course = CourseFactory(status=Course.Status.DRAFT, title="Secret")

    with pytest.raises(ValidationError, match="not published"):
        enrollment_create(learner=learner, course=course, now=NOW)


@pytest.mark.django_db
def test_completing_lessons_updates_progress_and_completes_course(learner, course_with_lessons):
    course, lessons = course_with_lessons

    lesson_complete(learner=learner, lesson=lessons[0], now=NOW)
    enrollment = Enrollment.objects.get(learner=learner, course=course)
    assert enrollment.progress_percent == Decimal("25.00")
    assert enrollment.status == Enrollment.Status.ACTIVE

    for lesson in lessons[1:]:
        lesson_complete(learner=learner, lesson=lesson, now=NOW)
    # Completing twice changes nothing.
    lesson_complete(learner=learner, lesson=lessons[0], now=NOW)

    enrollment.refresh_from_db()
    assert enrollment.progress_percent == Decimal("100.00")
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.completed_at == NOW
    with pytest.raises(ValidationError, match="completed course"):
        enrollment_drop(enrollment=enrollment, now=NOW)


@pytest.mark.django_db
def test_locked_lesson_names_its_blocking_prerequisite(learner):
    first = LessonFactory(title="Basics")
    second = LessonFactory(module=first.module, title="Advanced", prerequisites=[first])

    with pytest.raises(
        ValidationError, match=r"Builds on the lesson “Basics” in .*: complete it first"
    ):
        lesson_start(learner=learner, lesson=second, now=NOW)

    lesson_complete(learner=learner, lesson=first, now=NOW)
    progress = lesson_start(learner=learner, lesson=second, now=NOW)
    assert progress.status == LessonProgress.Status.IN_PROGRESS


@pytest.mark.django_db
def test_position_updates_add_time_and_keep_last_position(learner, course_with_lessons):
    _, lessons = course_with_lessons

    lesson_position_update(
        learner=learner, lesson=lessons[0], position_seconds=30, seconds_spent=30, now=NOW
    )
    progress = lesson_position_update(
        learner=learner, lesson=lessons[0], position_seconds=95, seconds_spent=65, now=NOW
    )

    assert (progress.time_spent_seconds, progress.last_position_seconds) == (95, 95)
    assert progress.status == LessonProgress.Status.IN_PROGRESS
    with pytest.raises(ValidationError, match="seconds_spent"):
        lesson_position_update(
            learner=learner, lesson=lessons[0], position_seconds=1, seconds_spent=-5, now=NOW
        )


@pytest.mark.django_db
def test_goal_create_and_update_validate_input(learner):
    SkillFactory(slug="python")
    SkillFactory(slug="sql")

    goal = goal_create(
        learner=learner,
        title=" Backend ",
        target_levels={"python": 7, "sql": 5},
        weekly_hours=6,
        deadline=date(2027, 3, 1),
        now=NOW,
    )
    assert goal.title == "Backend"
    assert {gs.skill.slug: gs.target_level for gs in goal.target_skills.all()} == {
        "python": 7,
        "sql": 5,
    }

    goal_update(goal=goal, now=NOW, target_levels={"sql": 9}, status="achieved")
    goal.refresh_from_db()
    assert {gs.skill.slug: gs.target_level for gs in goal.target_skills.all()} == {"sql": 9}
    assert goal.status == "achieved"

    with pytest.raises(ValidationError, match="Unknown skill"):
        goal_create(learner=learner, title="x", target_levels={"cobol": 3}, weekly_hours=2, now=NOW)
    # Found by fuzzing: a NUL byte in a slug once reached PostgreSQL (a 500).
    with pytest.raises(ValidationError, match="Unknown skill"):
        goal_create(
            learner=learner, title="x", target_levels={"a\x00b": 3}, weekly_hours=2, now=NOW
        )
    with pytest.raises(ValidationError, match="1-10"):
        goal_create(learner=learner, title="x", target_levels={"sql": 11}, weekly_hours=2, now=NOW)
    with pytest.raises(ValidationError, match="past"):
        goal_update(goal=goal, now=NOW, deadline=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="between"):
        goal_update(goal=goal, now=NOW, weekly_hours=0)


@pytest.mark.django_db
def test_course_outline_marks_status_and_locks(learner, django_assert_max_num_queries):
    course = CourseFactory()
    module = ModuleFactory(course=course, order=1)
    first = LessonFactory(module=module, order=1, title="One")
    second = LessonFactory(module=module, order=2, title="Two", prerequisites=[first])
    lesson_start(learner=learner, lesson=first, now=NOW)

    # modules, lessons (2); lock graph: courses and lessons for this course and for the
    # courses it builds on, skill names (5); lock facts: completed lessons, completed
    # courses, skill states (3); progress, enrollment (2).
    with django_assert_max_num_queries(12):
        outline = course_outline(learner=learner, course=course)

    items = outline.modules[0].lessons
    assert [(i.lesson.title, i.status, i.locked) for i in items] == [
        ("One", "in_progress", False),
        ("Two", "not_started", True),
    ]
    assert [(b.kind, b.id) for b in items[1].blocking] == [("lesson", first.pk)]
    assert outline.next_lesson.lesson == first
    assert second.pk == items[1].lesson.pk


def _follow_ups(learner) -> int:
    return PendingJob.objects.filter(
        task_name=LEARNER_FOLLOW_UP, kwargs={"learner_id": learner.pk}
    ).count()


@pytest.mark.django_db
def test_writes_that_change_what_to_study_defer_one_follow_up_each(learner, course_with_lessons):
    course, lessons = course_with_lessons
    SkillFactory(slug="python")

    enrollment = enrollment_create(learner=learner, course=course, now=NOW)
    assert _follow_ups(learner) == 1
    enrollment_create(learner=learner, course=course, now=NOW)  # already enrolled
    lesson_start(learner=learner, lesson=lessons[0], now=NOW)  # the next lesson stays
    assert _follow_ups(learner) == 1
    # Completing a lesson of a course joined on the way: one follow-up, not two.
    enrollment_drop(enrollment=enrollment, now=NOW)
    assert _follow_ups(learner) == 2
    lesson_complete(learner=learner, lesson=lessons[0], now=NOW)
    assert _follow_ups(learner) == 3
    lesson_complete(learner=learner, lesson=lessons[0], now=NOW)  # nothing new
    assert _follow_ups(learner) == 3
    goal = goal_create(
        learner=learner, title="Py", target_levels={"python": 5}, weekly_hours=3, now=NOW
    )
    goal_update(goal=goal, now=NOW, weekly_hours=4)
    assert _follow_ups(learner) == 5


@pytest.mark.django_db
def test_goal_abandon_keeps_the_goal_and_is_idempotent(learner):
    SkillFactory(slug="python")
    goal = goal_create(
        learner=learner, title="Py", target_levels={"python": 5}, weekly_hours=3, now=NOW
    )

    goal_abandon(goal=goal, now=NOW)
    goal_abandon(goal=goal, now=NOW)

    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ABANDONED
    assert _follow_ups(learner) == 2  # the creation's and the abandonment's


@pytest.mark.django_db
def test_goal_delete_removes_it_with_its_targets_and_follows_up(learner):
    SkillFactory(slug="python")
    goal = goal_create(
        learner=learner, title="Py", target_levels={"python": 5}, weekly_hours=3, now=NOW
    )

    goal_delete(goal=goal, now=NOW)

    assert not LearningGoal.objects.exists()
    assert not GoalSkill.objects.exists()
    assert _follow_ups(learner) == 2
