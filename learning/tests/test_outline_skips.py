"""The course outline, the lesson page and the API outline agree with the learner's path:
a lesson the path lists to skip says so with the path's evidence, stays openable when the
lock rule allows it, and shows why when the rule keeps it locked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot
from insights.services import learning_path_generate
from insights.tests.factories import LearnerSkillStateFactory
from learning.selectors import course_outline
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db
EVIDENCE = "Python proficient on 6 answers"


@pytest.fixture
def web():
    """Flask Web Apps teaches Flask and Python. "Python helpers" teaches only Python but
    builds on "Routes" (Flask): a learner who showed Python may skip it, yet the lock rule
    keeps it closed until Routes is met."""
    python = SkillFactory(slug="python", name="Python")
    flask = SkillFactory(slug="flask", name="Flask")
    course = CourseFactory(title="Flask Web Apps", skills=[flask, python])
    module = ModuleFactory(course=course, order=1)
    refresher = LessonFactory(module=module, order=1, title="Python refresher", skills=[python])
    routes = LessonFactory(module=module, order=2, title="Routes", skills=[flask])
    helpers = LessonFactory(
        module=module, order=3, title="Python helpers", skills=[python], prerequisites=[routes]
    )
    return {
        "python": python,
        "flask": flask,
        "course": course,
        "refresher": refresher,
        "routes": routes,
        "helpers": helpers,
    }


def python_shown(learner, skill, *, practiced):
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        mastery=0.85,
        level=9,
        evidence_count=6,
        correct_count=5,
        distinct_questions=5,
        last_practiced_at=practiced,
    )


@pytest.fixture
def planned(learner, web):
    """The learner showed Python and plans a Flask goal through the real service."""
    now = timezone.now()
    state = python_shown(learner, web["python"], practiced=now - timedelta(days=1))
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=web["flask"], target_level=7)
    learning_path_generate(goal=goal, now=now)
    [item] = LearningPathSnapshot.objects.get(goal=goal, is_active=True).items
    assert [s["id"] for s in item["skip_lessons"]] == [web["refresher"].pk, web["helpers"].pk]
    EnrollmentFactory(learner=learner, course=web["course"])
    return state


def _lessons(outline):
    return {item.lesson.title: item for module in outline.modules for item in module.lessons}


def test_outline_shows_the_paths_skips_open_or_locked_with_the_reason(learner, web, planned):
    outline = course_outline(learner=learner, course=web["course"], path_skips=True)
    lessons = _lessons(outline)

    assert lessons["Python refresher"].skip_reason == EVIDENCE
    assert not lessons["Python refresher"].locked
    assert lessons["Routes"].skip_reason == ""
    assert lessons["Python helpers"].skip_reason == EVIDENCE
    assert lessons["Python helpers"].locked
    assert [b.title for b in lessons["Python helpers"].blocking] == ["Routes"]
    # "Continue" passes over the lesson the path skips.
    assert outline.next_lesson.lesson == web["routes"]
    # The services' outline does not read the path.
    plain = _lessons(course_outline(learner=learner, course=web["course"]))
    assert plain["Python refresher"].skip_reason == ""


def test_course_page_and_lesson_pages_say_you_can_skip_this(client, learner, web, planned):
    client.force_login(learner)

    html = client.get(web["course"].get_absolute_url()).content.decode()
    refresher_row = html.split(">Python refresher</a>")[1].split("</li>")[0]
    helpers_row = html.split("Python helpers")[1].split("</li>")[0]
    routes_row = html.split(">Routes</a>")[1].split("</li>")[0]

    assert f"You can skip this: {EVIDENCE}." in refresher_row
    assert "Locked" not in refresher_row and "Not started" in refresher_row
    assert f"You can skip this: {EVIDENCE}. It stays locked until" in helpers_row
    assert '<span class="badge status-locked">Locked</span>' in helpers_row
    routes_url = web["routes"].get_absolute_url()
    assert (
        f'Builds on the lesson <a href="{routes_url}">Routes</a>: complete it first' in helpers_row
    )
    assert "proficient in Flask" in helpers_row
    assert "skip" not in routes_row
    assert "Continue: Routes" in html
    refresher_page = client.get(web["refresher"].get_absolute_url()).content.decode()
    helpers_page = client.get(web["helpers"].get_absolute_url()).content.decode()
    assert f"You can skip this: {EVIDENCE}." in refresher_page
    assert "read it anyway if you like" in refresher_page
    assert "This lesson is locked" not in refresher_page
    # A locked one does not invite the learner to read it (QA walk): it says how to open it.
    assert f"You can skip this: {EVIDENCE}." in helpers_page
    assert "read it anyway if you like" not in helpers_page
    assert "to read it anyway, first meet what it builds on (below)" in helpers_page
    assert "This lesson is locked" in helpers_page


def test_api_outline_carries_the_skip_reason(as_user, learner, web, planned):
    data = as_user(learner).get(f"/api/v1/courses/{web['course'].pk}/outline/").json()
    lessons = {lesson["title"]: lesson for lesson in data["modules"][0]["lessons"]}

    assert lessons["Python refresher"]["skip_reason"] == EVIDENCE
    assert lessons["Python refresher"]["locked"] is False
    assert lessons["Python helpers"]["skip_reason"] == EVIDENCE
    assert lessons["Python helpers"]["locked"] is True
    assert lessons["Python helpers"]["blocking"][0]["title"] == "Routes"
    assert lessons["Routes"]["skip_reason"] == ""


def test_skips_are_the_learners_own_and_fade_with_the_evidence(
    client, learner, other_learner, web, planned
):
    url = web["course"].get_absolute_url()
    client.force_login(other_learner)
    assert "You can skip this" not in client.get(url).content.decode()
    client.logout()
    assert "You can skip this" not in client.get(url).content.decode()

    # Python not practised for 40 days: it has faded, so the path's old advice to skip is
    # not repeated (what it unlocks stays open: test_locks).
    planned.last_practiced_at = timezone.now() - timedelta(days=40)
    planned.save()
    client.force_login(learner)
    assert "You can skip this" not in client.get(url).content.decode()


def test_next_lesson_card_passes_over_what_the_path_says_to_skip(learner, web, planned):
    from insights.recommendations import next_lessons_for

    now = timezone.now()
    [card] = next_lessons_for(learner_ids=[learner.pk], now=now)[learner.pk]
    # "Python refresher" comes first in the course, but the path skips it (Python shown).
    assert card.lesson_id == web["routes"].pk
    assert "Routes" in card.reason

    # Once the evidence has faded, the refresher is the next lesson again.
    planned.last_practiced_at = now - timedelta(days=45)
    planned.save()
    [card] = next_lessons_for(learner_ids=[learner.pk], now=now)[learner.pk]
    assert card.lesson_id == web["refresher"].pk
