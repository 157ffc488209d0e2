"""The course page after a passed course challenge says the learner tested out, and what
that changes: dated in the learner's zone, with the challenge score and the effect on locks
and paths (or, once a skill has faded, what no longer holds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import AssessmentAttempt, Question
from assessments.services import attempt_answer, course_challenge_start
from assessments.tests.adaptive import make_bank, response_for
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.models import LearnerSkillState

pytestmark = pytest.mark.django_db

# 23:30 UTC on 30 November is already 1 December in Berlin.
SUBMITTED = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


@pytest.fixture
def courses():
    bank = make_bank(("python",))
    python = bank["skills"]["python"]
    basics = CourseFactory(title="Python Fundamentals", slug="python-fundamentals", skills=[python])
    LessonFactory(module=ModuleFactory(course=basics, order=1), order=1, skills=[python])
    web = CourseFactory(title="Web APIs", slug="web-apis", prerequisites=[basics])
    LessonFactory(module=ModuleFactory(course=web, order=1), title="Routing", order=1)
    return {"basics": basics, "web": web, "python": python}


def _challenge(learner, course, right: bool) -> AssessmentAttempt:
    now = timezone.now() - timedelta(minutes=30)
    attempt = course_challenge_start(learner=learner, course=course, now=now)
    step = 0
    while not attempt.is_submitted:
        step += 1
        question = Question.objects.get(pk=attempt.current_question_id)
        attempt = attempt_answer(
            attempt=attempt,
            question_id=question.pk,
            response=response_for(question, right),
            now=now + timedelta(minutes=step),
        )
    AssessmentAttempt.objects.filter(pk=attempt.pk).update(
        started_at=SUBMITTED - timedelta(minutes=10), submitted_at=SUBMITTED
    )
    return attempt


@pytest.fixture
def berlin_learner(learner):
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    return learner


def test_a_passed_challenge_is_on_the_course_page_in_the_learners_zone(
    client, berlin_learner, courses
):
    attempt = _challenge(berlin_learner, courses["basics"], right=True)
    assert attempt.passed
    client.force_login(berlin_learner)

    html = client.get(courses["basics"].get_absolute_url()).content.decode()

    assert "You tested out of this course on 1 Dec 2026 Europe/Berlin (challenge score 100%" in html
    assert f'<a href="{reverse("assessments:attempt", args=[attempt.pk])}">see the result' in html
    assert "courses that build on it are not locked by it" in html
    # Already shown: no button to take the challenge again.
    assert "Take the course challenge" not in html
    # And it holds: the course that builds on it is open.
    web = client.get(courses["web"].get_absolute_url()).content.decode()
    assert "This course is locked" not in web


def test_a_faded_skill_says_what_no_longer_holds(client, berlin_learner, courses):
    _challenge(berlin_learner, courses["basics"], right=True)
    LearnerSkillState.objects.filter(learner=berlin_learner, skill=courses["python"]).update(
        mastery=0.2, level=2
    )
    client.force_login(berlin_learner)

    html = client.get(courses["basics"].get_absolute_url()).content.decode()

    assert "You tested out of this course on 1 Dec 2026 Europe/Berlin" in html
    assert "Since then Python has faded below proficient" in html
    assert "courses that build on it wait for it to be completed" in html
    assert "Take the course challenge" in html
    web = client.get(courses["web"].get_absolute_url()).content.decode()
    assert "This course is locked" in web


def test_no_tested_out_line_for_a_failed_challenge_another_learner_or_a_visitor(
    client, learner, other_learner, courses
):
    failed = _challenge(other_learner, courses["basics"], right=False)
    assert not failed.passed
    _challenge(learner, courses["basics"], right=True)
    url = courses["basics"].get_absolute_url()

    assert "You tested out" not in client.get(url).content.decode()  # anonymous
    client.force_login(other_learner)
    html = client.get(url).content.decode()
    assert "You tested out" not in html
    assert "Take the course challenge" in html


def test_the_challenge_offer_does_not_name_the_skills_the_page_already_shows(client, learner):
    """QA walk: "Already know this? Show you are proficient in Python, SQL …" under the
    course's own skill tags: said once, the tags."""
    bank = make_bank(("python", "sql"))
    course = CourseFactory(
        title="Data with Python", skills=[bank["skills"]["python"], bank["skills"]["sql"]]
    )
    client.force_login(learner)

    html = client.get(course.get_absolute_url()).content.decode()

    assert '<span class="tag">Python</span><span class="tag">SQL</span>' in html
    assert "Show you are proficient in the skills it teaches (named above)" in html
    assert "proficient in Python" not in html and html.count("SQL") == 1


def test_a_failed_challenge_is_named_beside_the_offer_for_its_learner_only(
    client, berlin_learner, other_learner, courses
):
    """walk14: the course page offered the challenge again right after a failed try, with no
    word about it (the path had stopped offering it)."""
    failed = _challenge(berlin_learner, courses["basics"], right=False)
    assert not failed.passed
    url = courses["basics"].get_absolute_url()
    client.force_login(berlin_learner)

    html = client.get(url).content.decode()

    assert "Your last try, 1 Dec 2026" in html
    assert f'<a href="{reverse("assessments:attempt", args=[failed.pk])}">see what it measured' in (
        html
    )
    assert "Take the course challenge" in html
    client.force_login(other_learner)
    assert "Your last try" not in client.get(url).content.decode()
    client.logout()
    assert "Your last try" not in client.get(url).content.decode()
