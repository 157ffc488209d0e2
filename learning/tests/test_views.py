from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment
from assessments.tests.factories import AssessmentFactory, QuestionFactory
from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import PendingJob, Recommendation
from insights.tests.factories import LearnerSkillStateFactory, RecommendationFactory
from learning.models import LearningGoal, LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearnerEventFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)
from learning.tests.follow_up import run_deferred_jobs
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db


@pytest.fixture
def lessons():
    course = CourseFactory(title="Python Basics", slug="python-basics")
    module = ModuleFactory(course=course, title="Start", order=1)
    first = LessonFactory(
        module=module,
        title="Variables",
        order=1,
        body="## Names\n\nA *name* points at a value.\n\n<script>alert('x')</script>",
    )
    second = LessonFactory(module=module, title="Functions", order=2, prerequisites=[first])
    return first, second


@pytest.mark.parametrize(
    "url",
    [
        reverse("learning:dashboard"),
        reverse("learning:onboarding"),
        reverse("learning:lesson", args=[1]),
    ],
)
def test_pages_need_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_lesson_page_renders_markdown_without_scripts(client, learner, lessons):
    first, _ = lessons
    client.force_login(learner)

    response = client.get(first.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Names</h2>" in html
    assert "<em>name</em>" in html
    assert "alert(" not in html
    # The events script knows where to send and what the events are about.
    assert f'data-lesson-id="{first.pk}"' in html
    assert "/static/js/events." in html
    # Opening the lesson records nothing: it offers enrolling and starting as a POST.
    assert "Not started" in html
    assert "Enroll in Python Basics to start" in html
    assert f'action="{reverse("learning:lesson_start", args=[first.pk])}"' in html
    assert "Mark as complete" not in html
    assert not LessonProgress.objects.filter(learner=learner).exists()
    assert not learner.enrollments.exists()


def test_an_enrolled_learner_is_offered_to_start_the_lesson(client, learner, lessons):
    first, _ = lessons
    EnrollmentFactory(learner=learner, course=first.module.course)
    client.force_login(learner)

    html = client.get(first.get_absolute_url()).content.decode()

    assert "Start this lesson" in html
    assert "Enroll in" not in html
    assert not LessonProgress.objects.filter(learner=learner).exists()


def test_starting_a_lesson_enrolls_starts_and_offers_completing_it(client, learner, lessons):
    first, _ = lessons
    client.force_login(learner)

    response = client.post(reverse("learning:lesson_start", args=[first.pk]))

    assert response.status_code == 302
    assert response["Location"] == first.get_absolute_url()
    progress = LessonProgress.objects.get(learner=learner, lesson=first)
    assert progress.status == LessonProgress.Status.IN_PROGRESS
    assert learner.enrollments.get().course == first.module.course
    html = client.get(first.get_absolute_url()).content.decode()
    assert "In progress" in html
    assert "Mark as complete" in html
    assert "Start this lesson" not in html


def test_starting_a_locked_lesson_shows_why_and_records_nothing(client, learner, lessons):
    _, second = lessons
    client.force_login(learner)

    response = client.post(reverse("learning:lesson_start", args=[second.pk]), follow=True)

    assert "Builds on the lesson “Variables” in " in response.content.decode()
    assert ": complete it first." in response.content.decode()
    assert not LessonProgress.objects.filter(learner=learner).exists()
    assert not learner.enrollments.exists()


def test_starting_needs_a_post(client, learner, lessons):
    first, _ = lessons
    client.force_login(learner)

    assert client.get(reverse("learning:lesson_start", args=[first.pk])).status_code == 405
    assert not LessonProgress.objects.filter(learner=learner).exists()


def test_locked_lesson_explains_its_prerequisite_and_hides_the_body(client, learner, lessons):
    first, second = lessons
    client.force_login(learner)

    html = client.get(second.get_absolute_url()).content.decode()

    assert "This lesson is locked" in html
    assert f'<a href="{first.get_absolute_url()}">Variables</a>' in html
    assert "Mark as complete" not in html
    assert "/static/js/events." not in html


def test_lesson_of_a_draft_course_is_404_for_another_learner(client, learner, lessons):
    first, _ = lessons
    Course.objects.filter(pk=first.module.course_id).update(status=Course.Status.DRAFT)
    client.force_login(learner)

    assert client.get(first.get_absolute_url()).status_code == 404
    assert client.post(reverse("learning:lesson_complete", args=[first.pk])).status_code == 404
    assert client.post(reverse("learning:lesson_start", args=[first.pk])).status_code == 404


def test_mark_complete_records_progress_and_moves_to_the_next_lesson(client, learner, lessons):
    first, second = lessons
    client.force_login(learner)

    response = client.post(
        reverse("learning:lesson_complete", args=[first.pk]), {"confirm_skim": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == second.get_absolute_url()
    progress = LessonProgress.objects.get(learner=learner, lesson=first)
    assert progress.status == LessonProgress.Status.COMPLETED
    assert learner.enrollments.get().progress_percent == 50


def test_completing_a_locked_lesson_shows_why_and_records_nothing(client, learner, lessons):
    _, second = lessons
    client.force_login(learner)

    response = client.post(reverse("learning:lesson_complete", args=[second.pk]), follow=True)

    assert "Builds on the lesson “Variables” in " in response.content.decode()
    assert ": complete it first." in response.content.decode()
    assert not LessonProgress.objects.filter(learner=learner, lesson=second).exists()


def test_onboarding_creates_the_goal_and_sends_to_the_matching_diagnostic(client, learner):
    python = SkillFactory(slug="python", name="Python")
    SkillFactory(slug="sql", name="SQL")
    diagnostic = AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC, title="Python check")
    QuestionFactory(assessment=diagnostic, skill=python)
    AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC, title="Unrelated")
    client.force_login(learner)

    response = client.post(
        reverse("learning:onboarding"),
        {
            "title": "Backend developer",
            "level_python": "7",
            "level_sql": "",
            "weekly_hours": "4",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:detail", args=[diagnostic.pk])
    learner.profile.refresh_from_db()
    assert learner.profile.onboarded_at is not None
    goal = LearningGoal.objects.get(learner=learner)
    assert goal.title == "Backend developer"
    assert goal.weekly_hours == 4
    assert {t.skill.slug: t.target_level for t in goal.target_skills.all()} == {"python": 7}


def test_onboarding_without_a_skill_shows_the_services_error(client, learner):
    SkillFactory(slug="python", name="Python")
    client.force_login(learner)

    response = client.post(
        reverse("learning:onboarding"),
        {"title": "Something", "level_python": "", "weekly_hours": "4"},
    )

    assert response.status_code == 400
    assert "form-errors" in response.content.decode()
    assert not LearningGoal.objects.exists()


def test_dashboard_shows_the_learners_own_goal_and_cards(client, learner, other_learner):
    python = SkillFactory(slug="python", name="Python")
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=python, target_level=8)
    LearnerSkillStateFactory(learner=learner, skill=python, level=4, mastery=0.35)
    mine = RecommendationFactory(learner=learner, reason="Next in sequence: Module 1 - Start")
    RecommendationFactory(learner=other_learner, reason="Somebody else's card")
    client.force_login(learner)

    response = client.get(reverse("learning:dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Backend developer" in html
    assert "Python: level 4 · attempted · 4 answers, target 8" in html
    assert 'badge ok">reached' not in html
    assert f'id="rec-{mine.pk}"' in html
    assert "Somebody else" not in html


def _history(learner, *, lessons: int, events: int) -> None:
    skill = SkillFactory()
    course = CourseFactory(skills=[skill])
    module = ModuleFactory(course=course)
    EnrollmentFactory(learner=learner, course=course)
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=skill)
    now = timezone.now()
    for order in range(1, lessons + 1):
        lesson = LessonFactory(module=module, order=order, skills=[skill])
        LessonProgressFactory(
            learner=learner,
            lesson=lesson,
            status=LessonProgress.Status.COMPLETED,
            completed_at=now - timedelta(days=order),
        )
        RecommendationFactory(learner=learner, lesson=lesson)
    for i in range(events):
        LearnerEventFactory(learner=learner, occurred_at=now - timedelta(hours=i * 7))


@pytest.mark.parametrize(("lessons", "events"), [(1, 2), (20, 60)])
def test_dashboard_query_count_does_not_grow_with_history(
    client, learner, django_assert_max_num_queries, lessons, events
):
    _history(learner, lessons=lessons, events=events)
    client.force_login(learner)

    # the user (1; the session comes from Redis: skillstudio.sessions), insights.dashboard's
    # fixed set of reads (see QUERY_BOUND in insights/tests/test_dashboard.py, 27 here without
    # goals) and the recommendation cards (1): 28 with little or much history, 2 more per
    # level of prerequisites.
    with django_assert_max_num_queries(30):
        response = client.get(reverse("learning:dashboard"))
    assert response.status_code == 200


def test_enrolling_brings_recommendation_cards_to_the_dashboard(client, learner):
    course = CourseFactory(title="Python Basics", slug="python-basics")
    module = ModuleFactory(course=course, title="Start", order=1)
    lesson = LessonFactory(module=module, title="Variables", order=1)
    client.force_login(learner)

    client.post(reverse("catalog:course_enroll", args=[course.slug]))
    # The enrollment deferred the learner's follow-up; a worker runs it.
    assert run_deferred_jobs() == [(LEARNER_FOLLOW_UP, {"learner_id": learner.pk})]
    html = client.get(reverse("learning:dashboard")).content.decode()

    card = Recommendation.objects.get(learner=learner, status="active", lesson=lesson)
    assert f'id="rec-{card.pk}"' in html
    assert "Variables" in html


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("learning:lesson_complete", [1]),
        ("learning:lesson_start", [1]),
        ("learning:goal_abandon", [1]),
        ("catalog:course_enroll", ["python-basics"]),
        ("catalog:course_leave", ["python-basics"]),
        ("assessments:start", [1]),
        ("assessments:attempt", [1]),
        ("insights:path_generate", [1]),
        ("insights:recommendation_action", [1, "accept"]),
    ],
)
def test_writes_need_login(client, name, args):
    response = client.post(reverse(name, args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_dashboard_of_a_never_refreshed_learner_computes_nothing(
    client, learner, django_assert_max_num_queries
):
    CourseFactory()
    client.force_login(learner)

    # The same reads as any dashboard (25), not a refresh (~45 queries plus writes).
    with django_assert_max_num_queries(27):
        response = client.get(reverse("learning:dashboard"))

    assert response.status_code == 200
    learner.profile.refresh_from_db()
    assert learner.profile.recommendations_refreshed_at is None
    assert not Recommendation.objects.filter(learner=learner).exists()
    assert not PendingJob.objects.exists()


def test_abandoning_a_goal_keeps_it_and_its_path_page(client, learner):
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    client.force_login(learner)
    assert (
        "Abandon this goal" in client.get(reverse("insights:path", args=[goal.pk])).content.decode()
    )

    response = client.post(reverse("learning:goal_abandon", args=[goal.pk]), follow=True)

    html = response.content.decode()
    assert "Goal “Backend developer” abandoned" in html
    assert "This goal is abandoned: no path was planned for it." in html
    assert "Abandon this goal" not in html
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ABANDONED


def test_another_learners_goal_cannot_be_abandoned(client, learner, other_learner):
    goal = LearningGoalFactory(learner=other_learner)
    client.force_login(learner)

    assert client.post(reverse("learning:goal_abandon", args=[goal.pk])).status_code == 404
    assert client.get(reverse("learning:goal_abandon", args=[goal.pk])).status_code == 405
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ACTIVE
