"""QA walk (issue 13), instructor pages: a learner who took a diagnostic and a skill check
today showed "Last activity: never", and the diagnostic read "50%" to the instructor while
the learner saw "9 of 14 answered correctly". Graded attempts of no course that measure the
learner (diagnostic, skill check) count as activity, and the learner's page shows the
answer counts the learner saw beside the score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment, AssessmentAttempt
from assessments.services import attempt_start, skill_check_start
from assessments.tests.adaptive import run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Course, Skill
from insights.instructor import learner_rows
from insights.progress import attempt_answer_counts
from learning.tests.factories import EnrollmentFactory
from skillstudio.devstack import DEMO_ACCOUNTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()


@pytest.fixture
def demo():
    seed_demo(now=NOW - timedelta(days=1))
    [email] = [email for role, email, _ in DEMO_ACCOUNTS if role == "instructor"]
    course = Course.objects.get(slug="python-fundamentals")
    learner = LearnerFactory(full_name="Nina New")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(days=2))
    return {"instructor": User.objects.get(email=email), "course": course, "learner": learner}


def _measured_today(learner) -> AssessmentAttempt:
    """The demo diagnostic (some right, some "I don't know") and a Python skill check."""
    diagnostic = Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC)
    start = NOW - timedelta(hours=2)
    attempt = attempt_start(learner=learner, assessment=diagnostic, now=start)
    answers = iter([True, None] * 30)
    run_to_end(attempt, lambda question: next(answers), start=start)
    check = skill_check_start(
        learner=learner, skill=Skill.objects.get(slug="sql"), now=NOW - timedelta(hours=1)
    )
    run_to_end(check, lambda question: True, start=NOW - timedelta(hours=1))
    attempt.refresh_from_db()
    return attempt


def test_a_diagnostic_and_a_skill_check_today_are_last_activity_with_their_counts(client, demo):
    course, learner = demo["course"], demo["learner"]
    client.force_login(demo["instructor"])
    learners_url = reverse("teach:learners", args=[course.pk])
    assert ">never</td>" in client.get(learners_url).content.decode()

    diagnostic = _measured_today(learner)

    [row] = [r for r in learner_rows(course=course, now=NOW)[1] if r.learner_id == learner.pk]
    assert (
        row.last_activity
        == AssessmentAttempt.objects.filter(learner=learner).latest("submitted_at").submitted_at
    )
    table = client.get(learners_url).content.decode()
    assert ">never</td>" not in table
    assert f"<td>{timezone.localtime(row.last_activity):%-d %b %Y}</td>" in table
    # The instructor's page of the learner says what the learner's result page says.
    counts = attempt_answer_counts(breakdown=diagnostic.skill_breakdown)
    assert counts.blank and counts.correct
    detail = client.get(reverse("teach:learner", args=[course.pk, learner.pk]))
    html = detail.content.decode()
    assert f'<td data-label="Answers">{counts.summary[0].upper()}{counts.summary[1:]}</td>' in html
    assert "(blanks score zero)" in html
    client.force_login(learner)
    result = client.get(reverse("assessments:attempt", args=[diagnostic.pk])).content.decode()
    assert f"{counts.summary[0].upper()}{counts.summary[1:]}." in result
