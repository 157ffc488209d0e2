from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.tests.factories import LearnerFactory

BEFORE = [("accounts", "0002_profile_state_columns")]
AFTER = [("accounts", "0003_profile_state_from_metrics")]
AT = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes("accounts")


def profiles(targets: list[tuple[str, str]]):
    """LearnerProfile as it is at ``targets``: later migrations may add columns."""
    state = MigrationExecutor(connection).loader.project_state(targets)
    return state.apps.get_model("accounts", "LearnerProfile").objects


@pytest.mark.django_db(transaction=True)
def test_profile_state_moves_out_of_behavioral_metrics_and_back():
    moved, untouched = LearnerFactory(), LearnerFactory()
    metrics = {
        "avg_session_minutes": 25,
        "struggle": {"is_struggling": True, "reasons": ["r"], "checked_at": AT.isoformat()},
        "weekly_adjustment": {"iso_week": "2026-W48", "ran_at": AT.isoformat(), "adjustments": []},
        "difficulty_changed_at": AT.isoformat(),
        "segment": {"name": "steady", "model_version": 2, "assigned_at": AT.isoformat()},
    }
    migrate(BEFORE)
    profiles(BEFORE).filter(user_id=moved.pk).update(behavioral_metrics=metrics)
    profiles(BEFORE).filter(user_id=untouched.pk).update(behavioral_metrics={"peak_hours": [9]})

    migrate(AFTER)

    profile = profiles(AFTER).get(user_id=moved.pk)
    assert profile.behavioral_metrics == {
        "avg_session_minutes": 25,
        "weekly_adjustment": {"ran_at": AT.isoformat(), "adjustments": []},
    }
    assert profile.struggle == metrics["struggle"]
    assert profile.recommendations_refreshed_at == AT
    assert profile.weekly_adjusted_week == "2026-W48"
    assert profile.difficulty_changed_at == AT
    assert profile.segment == metrics["segment"]
    other = profiles(AFTER).get(user_id=untouched.pk)
    assert (other.behavioral_metrics, other.recommendations_refreshed_at) == (
        {"peak_hours": [9]},
        None,
    )
    assert (other.struggle, other.segment, other.weekly_adjusted_week) == (None, None, "")

    # Backwards, the JSON holds the state again (the columns stay until 0002 is undone).
    migrate(BEFORE)
    restored = profiles(BEFORE).get(user_id=moved.pk).behavioral_metrics
    assert restored["struggle"] == metrics["struggle"]
    assert restored["segment"] == metrics["segment"]
    assert restored["weekly_adjustment"]["iso_week"] == "2026-W48"
    assert datetime.fromisoformat(restored["difficulty_changed_at"]) == AT
    migrate(latest())
