"""Learners who opted out of profiling are neither scored nor segmented (accounts.privacy)."""

from __future__ import annotations

import pytest

from accounts.models import LearnerProfile
from insights.ml.dropout import score_active_enrollments
from insights.ml.registry import model_save
from insights.ml.segments import assign_active_learners, fit_segments, store_segments
from insights.models import DropoutRisk
from insights.tests.test_ml_dropout import T, platform, trained  # noqa: F401 - fixtures
from insights.tests.test_ml_segments import NOW, two_kinds  # noqa: F401 - fixtures
from learning.tests.factories import EnrollmentFactory


@pytest.mark.django_db
def test_nightly_scoring_skips_opted_out_learners_and_drops_their_risk(trained, platform):  # noqa: F811
    alice, bob = platform
    assert score_active_enrollments(now=T).scored == 2

    LearnerProfile.objects.filter(user_id=alice.learner_id).update(profiling_opt_out=True)
    summary = score_active_enrollments(now=T)
    assert summary.scored == 1
    assert list(DropoutRisk.objects.values_list("enrollment_id", flat=True)) == [bob.id]


@pytest.mark.django_db
def test_segments_skip_opted_out_learners(two_kinds):  # noqa: F811
    steady, drifting = two_kinds
    model = fit_segments(learner_ids=[u.id for u in steady + drifting], now=NOW, k=2)
    model_save(name="segments", artifact=model, now=NOW, activate=True)
    for learner in steady:
        EnrollmentFactory(learner=learner)
    LearnerProfile.objects.filter(user=steady[0]).update(profiling_opt_out=True)

    run = assign_active_learners(now=NOW)
    assert run.learners == 3
    stored = dict(LearnerProfile.objects.values_list("user_id", "segment"))
    assert stored[steady[0].id] is None
    assert all(stored[u.id] for u in steady[1:])

    # A direct store (training writes the training learners' segments) skips them too.
    segment = model.segments[0]
    assert store_segments(assignments={steady[0].id: segment}, model_version=1, now=NOW) == 0
    assert LearnerProfile.objects.get(user=steady[0]).segment is None
