"""QA walk (issue 13): an instructor's learner list flagged a learner "Struggling" because of
a lesson in a different course. The flag and its reasons on a course's pages now come from
that course's lessons and quizzes only (insights.struggle.Scope), on the demo catalogue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson
from insights.recommendations import refresh_recommendations
from learning.models import LessonProgress
from learning.services import enrollment_create
from learning.tests.factories import LessonProgressFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
# The pages read the clock.
NOW = timezone.now()


@pytest.fixture
def stuck_in_sql():
    """A learner in Python Fundamentals and SQL and PostgreSQL who spent three times the
    estimate on an SQL lesson this week (the time-over-estimate signal)."""
    seed_demo(now=NOW - timedelta(days=30))
    learner = LearnerFactory(full_name="Sam Stuck")
    python = Course.objects.get(title="Python Fundamentals")
    sql = Course.objects.get(title="SQL and PostgreSQL")
    for course in (python, sql):
        enrollment_create(learner=learner, course=course, now=NOW - timedelta(days=3))
    lesson = Lesson.objects.filter(module__course=sql).order_by("module__order", "order")[0]
    LessonProgressFactory(
        learner=learner,
        lesson=lesson,
        status=LessonProgress.Status.IN_PROGRESS,
        started_at=NOW - timedelta(days=2),
        time_spent_seconds=lesson.estimated_minutes * 60 * 3,
    )
    # What the learner's refresh keeps on the profile: struggling, about all their study.
    refresh_recommendations(learner=learner, now=NOW)
    learner.profile.refresh_from_db()
    assert learner.profile.struggle["is_struggling"]
    return learner, python, sql, lesson


def _row(client, course, learner) -> str:
    html = client.get(reverse("teach:learners", args=[course.pk])).content.decode()
    return html.split("Sam Stuck")[1].split("</tr>")[0]


def test_the_struggling_flag_of_a_course_comes_from_its_own_lessons(client, stuck_in_sql):
    learner, python, sql, lesson = stuck_in_sql
    client.force_login(User.objects.get(email="instructor@skillstudio.test"))

    in_python = _row(client, python, learner)
    in_sql = _row(client, sql, learner)

    assert 'class="badge bad"' not in in_python and "<td>no</td>" in in_python
    assert 'class="badge bad"' in in_sql
    # Why, in the cell itself: a tooltip never shows on a touch screen or to a keyboard.
    reasons = in_sql.split('class="badge bad">yes</span><br><span class="meta">')[1]
    assert f"on &#x27;{lesson.title}&#x27;" in reasons.split("</span>")[0]
    csv = client.get(reverse("teach:learners_csv", args=[python.pk])).content.decode()
    assert "Sam Stuck" in csv and "no" in csv.split("Sam Stuck")[1].splitlines()[0].split(",")
