"""Search quality on the labelled query set: MRR and nDCG@5 per channel and fused.

The query set (``search_data/queries.json``) names demo lessons by their key
in ``catalog.demo_content``; the lessons of the published demo courses are
ranked exactly as ``catalog.search`` ranks them for the catalog page and the API.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from catalog.demo_content import load as load_demo_content
from catalog.models import Lesson
from catalog.search import CHANNELS, embed_texts, query_words, rank_ids, searchable_lessons

QUERY_SET = Path(__file__).parent / "search_data" / "queries.json"
# "fts" is full-text search as usually wired (websearch_to_tsquery: every word
# must match); "fts_any" is the fused search's own full-text channel (any word).
MODES: dict[str, tuple[str, ...]] = {
    "fts": ("fts_all",),
    "fts_any": ("fts",),
    "trigram": ("trigram",),
    "vector": ("vector",),
    "hybrid": CHANNELS,
}
CUTOFF = 5


@dataclass(frozen=True)
class ModeScore:
    mode: str
    mrr: float
    ndcg: float
    empty: int  # queries that returned nothing
    queries: int


def load_queries(path: Path = QUERY_SET) -> list[dict]:
    return json.loads(path.read_text())["queries"]


def demo_lesson_ids() -> dict[str, int]:
    """Demo lesson key -> id in this database (by course slug and lesson title)."""
    wanted = {
        (course.slug, lesson.title): lesson.key
        for course in load_demo_content().courses
        for module in course.modules
        for lesson in module.lessons
    }
    rows = Lesson.objects.filter(module__course__slug__in={slug for slug, _ in wanted}).values_list(
        "pk", "module__course__slug", "title"
    )
    return {wanted[(slug, title)]: pk for pk, slug, title in rows if (slug, title) in wanted}


def ndcg_at(ranked: list[int], grades: dict[int, int], k: int = CUTOFF) -> float:
    dcg = sum((2 ** grades.get(pk, 0) - 1) / math.log2(i + 2) for i, pk in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def reciprocal_rank(ranked: list[int], grades: dict[int, int]) -> float:
    for i, pk in enumerate(ranked, start=1):
        if grades.get(pk, 0) > 0:
            return 1.0 / i
    return 0.0


def evaluate(queries: list[dict] | None = None) -> list[ModeScore]:
    queries = load_queries() if queries is None else queries
    ids = demo_lesson_ids()
    missing = {k for q in queries for k in q["relevant"] if k not in ids}
    if missing:
        raise LookupError(
            f"Demo lessons missing from this database: {sorted(missing)}; run seed_demo."
        )
    # The labels cover the demo courses only: scale-seed courses ("… practice 2.3") would
    # count as wrong answers though many are on topic, so they are left out of the ranking.
    lessons = searchable_lessons().filter(
        module__course__slug__in={c.slug for c in load_demo_content().courses}
    )
    vectors = embed_texts([" ".join(query_words(q["q"])) for q in queries])
    scores = []
    for mode, channels in MODES.items():
        mrr = ndcg = 0.0
        empty = 0
        for query, vector in zip(queries, vectors, strict=True):
            grades = {ids[key]: grade for key, grade in query["relevant"].items()}
            ranked = [
                pk for pk, _, _ in rank_ids(lessons, q=query["q"], channels=channels, vector=vector)
            ]
            empty += not ranked
            mrr += reciprocal_rank(ranked, grades)
            ndcg += ndcg_at(ranked, grades)
        n = len(queries)
        scores.append(ModeScore(mode, mrr / n, ndcg / n, empty, n))
    return scores
