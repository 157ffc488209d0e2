"""The learner's stored segment in the AI insights messages (dashboard and API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LearnerProfile
from insights.dashboard import learner_dashboard
from insights.tests.helpers import NOW, dashboard_insights

pytestmark = pytest.mark.django_db

EVENING = {
    "name": "steady evening learners",
    "description": "active on 20 of the last 28 days, 3.0 lessons and 1.0 quizzes",
    "model_version": 2,
}
# No study session yet: too few to say when the learner studies best.
DEFAULT_TIP = (
    "Study a little on most days: regular short sessions build lasting skills. After 5 "
    "sessions on 3 different days we can tell you when you learn best (so far: 0 on 0)."
)


def store(learner, *, assigned_at) -> None:
    LearnerProfile.objects.filter(user=learner).update(
        struggle={"is_struggling": False},
        segment={**EVENING, "assigned_at": assigned_at.isoformat()},
    )
    learner.refresh_from_db()


def test_insights_say_which_segment_the_learner_studies_like(learner):
    assert dashboard_insights(learner=learner, now=NOW)["study_recommendation"] == DEFAULT_TIP
    store(learner, assigned_at=NOW - timedelta(days=1))

    assert dashboard_insights(learner=learner, now=NOW)["study_recommendation"] == (
        "You study like our steady evening learners. Typical for them: active on 20 of the "
        "last 28 days, 3.0 lessons and 1.0 quizzes. " + DEFAULT_TIP
    )


@pytest.mark.parametrize("age", [timedelta(days=8, seconds=1), timedelta(days=-1)])
def test_a_stale_or_future_segment_is_not_used(learner, age):
    # The nightly job refreshes segments; one more than 8 days old belongs to a withdrawn
    # model or a learner no longer active.
    store(learner, assigned_at=NOW - age)
    assert dashboard_insights(learner=learner, now=NOW)["study_recommendation"] == DEFAULT_TIP


def test_dashboard_shows_the_segment_without_an_extra_query(learner, other_learner):
    store(learner, assigned_at=NOW - timedelta(days=1))
    counts = {}
    for who in (learner, other_learner):
        who.refresh_from_db()
        with CaptureQueriesContext(connection) as captured:
            tip = learner_dashboard(learner=who, now=NOW)["ai_insights"]["study_recommendation"]
        counts[who.email] = (len(captured.captured_queries), tip.startswith("You study like our"))
    assert counts[learner.email][1] and not counts[other_learner.email][1]
    assert counts[learner.email][0] == counts[other_learner.email][0]
