"""QA walk (issue 13): the progress page's "Activity per day" counted recorded events only,
so a new learner whose only study of the day was the diagnostic saw an empty day. Graded
attempts (diagnostics, skill checks, course challenges, quizzes) count, one each, on the
learner's own calendar (Europe/Berlin here), as the instructor's "last activity" counts them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from assessments.services import attempt_start, skill_check_start
from assessments.tests.adaptive import run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Skill
from insights.progress import activity_per_day
from insights.selectors import learner_timezone
from insights.tests.helpers import quiz_attempt
from learning.models import LearnerEvent
from learning.tests.factories import LearnerEventFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()


@pytest.fixture
def berliner():
    seed_demo(now=NOW - timedelta(days=2))
    learner = LearnerFactory(profile__timezone="Europe/Berlin")
    return learner


def test_a_day_with_only_the_diagnostic_shows_activity_on_the_progress_page(client, berliner):
    start = NOW - timedelta(hours=1)
    diagnostic = Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC)
    attempt = attempt_start(learner=berliner, assessment=diagnostic, now=start)
    run_to_end(attempt, lambda question: True, start=start)
    attempt.refresh_from_db()
    assert not LearnerEvent.objects.filter(learner=berliner).exists()

    client.force_login(berliner)
    html = client.get(reverse("insights:progress")).content.decode()

    day = attempt.submitted_at.astimezone(learner_timezone(berliner)).date()
    assert f"<tr><td>{day:%a} {day.day} {day:%b}</td><td>1</td></tr>" in html
    assert "1 in total" in html


def test_attempts_count_on_the_local_day_and_a_quiz_event_does_not_count_twice(berliner):
    # 23:10 UTC on 1 June is 01:10 on 2 June in Berlin.
    evening = NOW.replace(month=6, day=1, hour=23, minute=10, second=0, microsecond=0)
    check = skill_check_start(learner=berliner, skill=Skill.objects.get(slug="sql"), now=evening)
    run_to_end(check, lambda question: False, start=evening)
    quiz = Assessment.objects.filter(kind=Assessment.Kind.QUIZ).first()
    quiz_attempt(berliner, at=evening + timedelta(minutes=30), assessment=quiz, score=80)
    # A client reporting the quiz it submitted: the attempt already counts it.
    LearnerEventFactory(
        learner=berliner,
        event_type=LearnerEvent.Type.QUIZ_SUBMITTED,
        occurred_at=evening + timedelta(minutes=30),
    )
    LearnerEventFactory(
        learner=berliner,
        event_type=LearnerEvent.Type.LESSON_VIEWED,
        occurred_at=evening + timedelta(minutes=40),
    )

    days = dict(activity_per_day(learner=berliner, now=evening + timedelta(hours=2), days=3))

    june_1, june_2 = evening.date(), evening.date() + timedelta(days=1)
    assert (days[june_1], days[june_2]) == (0, 3)
