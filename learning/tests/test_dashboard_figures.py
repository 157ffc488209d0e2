"""Dashboard figures carry one definition each, next to the numbers they define."""

from __future__ import annotations

import pytest
from django.urls import reverse

from insights.analytics import SESSION_GAP, figure_definitions

pytestmark = pytest.mark.django_db


def test_every_summary_figure_has_one_definition_and_the_page_shows_them(client, learner):
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()

    definitions = figure_definitions()
    keys = [figure.key for figure in definitions]
    assert len(keys) == len(set(keys))
    assert {"study_hours", "completion_rate", "pace", "avg_quiz_score"} <= set(keys)
    assert "How are these figures computed?" in html
    for figure in definitions:
        assert f"<dt>{figure.label}</dt>" in html
    # The words come from the constants the computation uses.
    gap = int(SESSION_GAP.total_seconds() // 60)
    assert f"more than {gap} minutes ends a session" in html
    # "Time studied" is the measured time; goal pace speaks of material, not time.
    assert "<dt>Time studied</dt><dd>0 h</dd>" in html
    assert "Study hours" not in html


def test_dashboard_needs_login(client):
    response = client.get(reverse("learning:dashboard"))

    assert response.status_code == 302
