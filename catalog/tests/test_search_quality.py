"""The labelled query set over the demo catalogue: the fused search's quality bar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from catalog.demo_seed import seed_demo
from catalog.search_quality import load_queries, ndcg_at, reciprocal_rank

pytestmark = pytest.mark.django_db


def test_metrics_on_known_rankings():
    grades = {1: 2, 2: 1}
    assert ndcg_at([1, 2, 3], grades) == pytest.approx(1.0)
    assert ndcg_at([3, 4, 5, 6, 7, 1], grades) == 0.0  # the answer below the cut-off
    assert 0 < ndcg_at([2, 1], grades) < 1
    assert reciprocal_rank([3, 2, 1], grades) == pytest.approx(0.5)
    assert reciprocal_rank([], grades) == 0.0


def test_the_query_set_is_large_and_varied():
    queries = load_queries()
    assert len(queries) >= 60
    assert {q["kind"] for q in queries} == {"exact", "synonym", "typo", "multi", "question"}


def test_hybrid_beats_full_text_by_the_target_and_never_returns_nothing(capsys):
    seed_demo(now=datetime(2026, 11, 2, 9, tzinfo=UTC))  # indexes the demo content
    call_command("search_quality")

    rows = {
        line.split()[0]: line.split()[1:]
        for line in capsys.readouterr().out.splitlines()[2:]
        if line.strip()
    }
    mrr, ndcg, empty = (float(x) for x in rows["hybrid"])
    assert ndcg >= float(rows["fts"][1]) + 0.15
    assert ndcg > max(float(rows[mode][1]) for mode in ("fts_any", "trigram", "vector"))
    assert mrr > 0.8
    assert empty == 0
