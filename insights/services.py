"""Learner writes owned by insights: generating a learning path.

The HTML view and the API call these and only translate input and output; each service
owns its transaction, its data-version bumps (via the functions it calls) and the
learner's deferred follow-up.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from insights.models import LearningPathSnapshot
from insights.paths import generate_learning_path
from learning.models import LearningGoal
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer


def learning_path_generate(*, goal: LearningGoal, now: datetime) -> LearningPathSnapshot:
    """Plan the goal's path and store it as its next version.

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
        snapshot = generate_learning_path(goal=goal, now=now, trigger=trigger)
        defer(LEARNER_FOLLOW_UP, learner_id=goal.learner_id)
    return snapshot
