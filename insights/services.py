"""Learner writes owned by insights: generating a learning path, acting on a
recommendation.

The HTML views and the API import learner writes from here only (never from
insights.recommendations, whose writers belong to the follow-up task and the jobs) and
only translate input and output; each service owns its transaction, its data-version
bumps (via the functions it calls) and the learner's deferred follow-up.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from insights.models import LearningPathSnapshot
from insights.paths import PathGeneration, path_generate
from insights.recommendations import recommendation_act
from learning.models import LearningGoal
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer

# Accepting or skipping a card: one row, no follow-up (the card's state is the answer).
__all__ = ["learning_path_generate", "recommendation_act"]


def learning_path_generate(*, goal: LearningGoal, now: datetime) -> PathGeneration:
    """Plan the goal's path and store it as its next version, unless nothing would change
    (then nothing is written and ``created`` is False; its ``message`` says so).

    The first version is ``generated``, a learner's later re-plans are ``manual``. Fresh
    recommendations follow through the outbox (a path changes the courses to suggest).
    Raises insights.paths.PathError, with nothing written, when no path is possible.
    """
    with transaction.atomic():
        has_path = LearningPathSnapshot.objects.filter(goal=goal).exists()
        trigger = (
            LearningPathSnapshot.Trigger.MANUAL
            if has_path
            else LearningPathSnapshot.Trigger.GENERATED
        )
        result = path_generate(goal=goal, now=now, trigger=trigger)
        if result.created:
            defer(LEARNER_FOLLOW_UP, learner_id=goal.learner_id)
    return result
