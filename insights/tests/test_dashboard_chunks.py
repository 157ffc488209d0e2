"""Dashboards computed a chunk at a time: the same data as one by one, in bounded queries.

The sample is the demo world plus a small scale seed (random enrollments, progress, events,
quiz answers and skill states), recommendations refreshed for some learners and skipped
for one, and learners in several time zones: every part of the dashboard is non-empty for
some learner, and the chunk must reproduce each one exactly.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LearnerProfile, User
from catalog.demo_seed import seed_demo, seed_scale
from catalog.models import Skill
from insights.dashboard import learner_dashboard, learner_dashboards
from insights.models import Recommendation
from insights.recommendations import recommendation_act, refresh_recommendations
from insights.tests.helpers import NOW
from learning.services import goal_create

pytestmark = pytest.mark.django_db

ZONES = ["America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
# 24 measured: skill levels (+ mirrored names), recent scores, skips, session totals (one pass
# for both windows), summary (lessons, quizzes, streak), engagement (histograms, content
# types), goals (3), paces (2), next lessons (4), revision (2), difficulty, cards: 24
# before the lock rule. Now 41 measured: the lock rule's facts (3), lock graphs for next
# lessons and revision (courses and lessons per prerequisite level, skill names), studied
# and goal skills (2), the shared nearest-lesson fallback (skills + one search per skill).
# Round 2d: 33 -> 28 measured for 2 learners (the facts in one query, the enrollments once,
# sessions, histograms and streaks in one query), and 2 more for the fallback. Round 2f:
# 28 -> 25 (the active paths read once for paces and next lessons, the goals' skills taken
# from the goals, the enrollments read with the lock facts). Issue 13 QA: +1 when a learner
# has a weak skill and nothing to revise, for why (revision_rests_for).
CHUNK_QUERY_BOUND = 28


@pytest.fixture
def learners() -> list[User]:
    seed_demo(now=NOW - timedelta(hours=2))
    seed_scale(
        now=NOW - timedelta(hours=1), learners=40, courses=6, events=4000, answers=1500,
        log=lambda message: None,
    )  # fmt: skip
    ids = list(
        User.objects.filter(role=User.Role.LEARNER).order_by("pk").values_list("pk", flat=True)
    )
    for index, learner_id in enumerate(ids):
        LearnerProfile.objects.filter(user_id=learner_id).update(timezone=ZONES[index % len(ZONES)])
    slugs = list(Skill.objects.order_by("slug").values_list("slug", flat=True)[:3])
    for learner in User.objects.filter(pk__in=ids[1:12:3]):
        goal_create(
            learner=learner, title="Data", target_levels=dict.fromkeys(slugs, 7), weekly_hours=3,
            now=NOW - timedelta(days=20),
        )  # fmt: skip
    for learner in User.objects.filter(pk__in=ids[::3]):
        refresh_recommendations(learner=learner, now=NOW)
    skipped = Recommendation.objects.filter(status=Recommendation.Status.ACTIVE).first()
    recommendation_act(recommendation=skipped, action="skipped", now=NOW)
    return list(User.objects.select_related("profile").filter(pk__in=ids).order_by("pk"))


def test_a_chunk_gives_every_learner_the_dashboard_computed_alone(learners):
    chunk = learner_dashboards(learners=learners, now=NOW)

    alone = {
        learner.pk: learner_dashboard(learner=User.objects.get(pk=learner.pk), now=NOW)
        for learner in learners
    }
    assert chunk == alone
    # The sample exercises every part, so equality compares real content.
    for part in (
        "current_goals", "recommended_next_lessons", "revision_recommendations",
        "struggling_topics", "recommendations", "skill_levels",
    ):  # fmt: skip
        assert sum(1 for data in chunk.values() if data[part]) >= 2, part
    assert any(data["streak"] for data in chunk.values())
    assert any(data["engagement"]["sessions"] for data in chunk.values())
    assert any(data["difficulty"]["recent_average"] is not None for data in chunk.values())
    assert len({data["engagement"]["timezone"] for data in chunk.values()}) == len(ZONES)


def test_a_chunk_runs_the_same_queries_for_2_and_for_40_learners(
    learners, django_assert_max_num_queries
):
    counts = {}
    for size in (2, len(learners)):
        chunk = learners[:size]
        with (
            django_assert_max_num_queries(CHUNK_QUERY_BOUND),
            CaptureQueriesContext(connection) as captured,
        ):
            computed = learner_dashboards(learners=chunk, now=NOW)
        assert sorted(computed) == [learner.pk for learner in chunk]
        counts[size] = len(captured)
    # The same queries, but for the nearest-lesson fallback (a skill query and one search):
    # whether a weak skill needs it depends on how many candidate lessons the chunk asks
    # for per skill (grown by its most-skipping learner), not on the number of learners;
    # and for why "Revise" is empty (one query, when a learner of the chunk has a weak
    # skill and nothing to revise: insights.recommendations.revision_rests_for).
    assert abs(counts[2] - counts[len(learners)]) in (0, 1, 2, 3)
