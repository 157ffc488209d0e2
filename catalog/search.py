"""Catalogue search: full text, trigrams and embeddings fused by reciprocal rank.

Three channels rank published courses and lessons for a query:

``fts``      PostgreSQL full text over a weighted ``search_vector`` (title A,
             skill names B, body/description C), any query word may match.
``trigram``  character trigrams of the title and skill names, stored as a
             ``text[]`` with a GIN index (pgserver has no ``pg_trgm``), so
             "pythn" still meets "python".
``vector``   cosine distance between the query's embedding and the row's
             (pgvector, HNSW index): "make my code wait for the network" meets
             the lesson on async timeouts without sharing its words.

Reciprocal-rank fusion (``1 / (RRF_K + rank)`` summed over channels) needs no
score calibration between channels. Embeddings come from WordLlama, a static
token-embedding model whose 16 MB of weights ship inside its PyPI wheel: no
torch, no network, a few milliseconds per query on a CPU.

Indexing (search vector, trigrams, embedding) is an outbox job after each
lesson or course edit (``lesson_embedding_defer``), so a save never waits on
the model; ``manage.py index_catalog`` (re)indexes the whole catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pgvector.django import CosineDistance

from catalog.models import Course, Lesson, Skill
from catalog.selectors import course_search
from learning.locks import LockFacts, LockGraph, lesson_open, lesson_shown, lock_facts, lock_graph
from skillstudio.jobs import defer

LESSON_INDEX_TASK = "catalog.index_lesson"
COURSE_INDEX_TASK = "catalog.index_course"

SEARCH_CONFIG = "english"
CHANNELS = ("fts", "trigram", "vector")
# Each channel contributes at most this many candidates to the fusion.
CHANNEL_DEPTH = 50
# The usual RRF constant (Cormack et al. 2009): damps the head of each list.
RRF_K = 60
# Per-channel weights in the fusion, tuned on the labelled query set
# (catalog/search_data/queries.json, ``manage.py search_quality``).
CHANNEL_WEIGHTS = {"fts": 1.0, "trigram": 1.0, "vector": 1.0, "fts_all": 1.0}
# A trigram candidate must share at least this share of the query's trigrams.
TRIGRAM_MIN_SHARE = 0.5
# Vector candidates: the nearest few always, the rest only when this close (cosine
# distance; tuned on the query set, where answers sit at a median 0.65).
VECTOR_ALWAYS = 3
VECTOR_MAX_DISTANCE = 0.75
# Courses shown above the lessons on the first page of results.
COURSES_SHOWN = 3
MAX_QUERY_WORDS = 16
PAGE_SIZE = 10
RELATED_LIMIT = 5
WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Sentinels for ts_headline's markers, so the snippet can be escaped before <mark> goes in.
_START, _STOP = "\x02", "\x03"


# ------------------------------------------------------------------ embeddings


@cache
def embedding_model() -> Any:
    """WordLlama from the files inside its wheel (its own loader looks in the wrong folder
    for the tokenizer and then tries the network; this never does)."""
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safe_open(
        str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu"
    ) as weights:
        matrix = weights.get_tensor("embedding.weight")
    return WordLlamaInference(matrix, tokenizer, binary=False)


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 256), dtype=np.float32)
    return np.asarray(embedding_model().embed(list(texts), norm=True), dtype=np.float32)


# Markdown's markup characters: no help to matching, noise in a snippet.
MARKUP = r"[`#*_>\[\]()|-]+"


def plain_text(markdown: str) -> str:
    """Markdown reduced to words."""
    return re.sub(MARKUP, " ", markdown)


def trigrams_of(text: str) -> list[str]:
    """pg_trgm's trigrams: per lower-cased word, padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return sorted(grams)


# ------------------------------------------------------------------ indexing


def lesson_embedding_defer(*, lesson_id: int) -> None:
    """Queue (re)indexing of a lesson and its course through the outbox.

    Call it inside the transaction that writes the lesson (its skills
    included): the job exists exactly when the edit does, and the save never
    waits on the model.
    """
    defer(LESSON_INDEX_TASK, lesson_id=lesson_id)


def course_embedding_defer(*, course_id: int) -> None:
    """Queue (re)indexing of a course (title, description, skills) through the outbox."""
    defer(COURSE_INDEX_TASK, course_id=course_id)


def _skill_names(obj: Course | Lesson) -> str:
    return " ".join(skill.name for skill in obj.skills.all())


def _lesson_document(lesson: Lesson) -> str:
    return f"{lesson.title}. {_skill_names(lesson)}. {plain_text(lesson.body)}"


def _course_document(course: Course) -> str:
    return f"{course.title}. {_skill_names(course)}. {course.description}"


def _vector(title: str, skills: str, body: str) -> SearchVector:
    return (
        SearchVector(Value(title), weight="A", config=SEARCH_CONFIG)
        + SearchVector(Value(skills), weight="B", config=SEARCH_CONFIG)
        + SearchVector(Value(body), weight="C", config=SEARCH_CONFIG)
    )


def lessons_index(*, lesson_ids: Iterable[int]) -> int:
    """Write search vector, trigrams and embedding of these lessons; returns how many.

    Idempotent (it recomputes from the current rows); deleted ids are skipped.
    Their courses are not touched: see ``courses_index``.
    """
    lessons = list(Lesson.objects.filter(pk__in=list(lesson_ids)).prefetch_related("skills"))
    if not lessons:
        return 0
    vectors = embed_texts([_lesson_document(lesson) for lesson in lessons])
    for lesson, vector in zip(lessons, vectors, strict=True):
        skills = _skill_names(lesson)
        Lesson.objects.filter(pk=lesson.pk).update(
            search_vector=_vector(lesson.title, skills, plain_text(lesson.body)),
            trigrams=trigrams_of(f"{lesson.title} {skills}"),
            embedding=vector.tolist(),
        )
    return len(lessons)


def courses_index(*, course_ids: Iterable[int]) -> int:
    """Index courses from their own text plus their lessons' titles and embeddings.

    A course's embedding is the normalised mean of its text's and its indexed
    lessons' embeddings, so a course is found by what it teaches.
    """
    courses = list(
        Course.objects.filter(pk__in=list(course_ids)).prefetch_related(
            "skills",
            Prefetch(
                "modules__lessons",
                queryset=Lesson.objects.only("pk", "title", "module_id", "embedding"),
            ),
        )
    )
    if not courses:
        return 0
    own = embed_texts([_course_document(course) for course in courses])
    for course, vector in zip(courses, own, strict=True):
        lessons = [lesson for module in course.modules.all() for lesson in module.lessons.all()]
        parts = [vector, *(np.asarray(ls.embedding) for ls in lessons if ls.embedding is not None)]
        mean = np.mean(parts, axis=0)
        mean = mean / (np.linalg.norm(mean) or 1.0)
        skills = _skill_names(course)
        titles = " ".join(lesson.title for lesson in lessons)
        Course.objects.filter(pk=course.pk).update(
            search_vector=_vector(course.title, skills, f"{course.description} {titles}"),
            trigrams=trigrams_of(f"{course.title} {skills}"),
            embedding=mean.tolist(),
        )
    return len(courses)


def lesson_index(*, lesson_id: int) -> bool:
    """The outbox job's body: index one lesson, then its course. False if it was deleted."""
    if not lessons_index(lesson_ids=[lesson_id]):
        return False
    course_id = Lesson.objects.filter(pk=lesson_id).values_list("module__course_id", flat=True)
    courses_index(course_ids=list(course_id))
    return True


def catalog_index(
    *,
    only_missing: bool = False,
    dry_run: bool = False,
    batch_size: int = 200,
    progress: Callable[[str], None] | None = None,
) -> tuple[int, int]:
    """(Re)index every lesson, then every course; returns (lessons, courses).

    ``only_missing`` skips rows that already have an embedding (seed time).
    """
    lessons = Lesson.objects.order_by("pk")
    courses = Course.objects.order_by("pk")
    if only_missing:
        lessons = lessons.filter(embedding__isnull=True)
        courses = courses.filter(embedding__isnull=True)
    lesson_ids = list(lessons.values_list("pk", flat=True))
    course_ids = list(courses.values_list("pk", flat=True))
    if dry_run:
        return len(lesson_ids), len(course_ids)
    for start in range(0, len(lesson_ids), batch_size):
        lessons_index(lesson_ids=lesson_ids[start : start + batch_size])
        if progress:
            done = min(start + batch_size, len(lesson_ids))
            progress(f"lessons {done}/{len(lesson_ids)}")
    for start in range(0, len(course_ids), batch_size):
        courses_index(course_ids=course_ids[start : start + batch_size])
        if progress:
            done = min(start + batch_size, len(course_ids))
            progress(f"courses {done}/{len(course_ids)}")
    return len(lesson_ids), len(course_ids)


# ------------------------------------------------------------------ search


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "course" or "lesson"
    obj: Course | Lesson
    score: float
    # Escaped text with the matching words in <mark>; safe to render.
    snippet: SafeString
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    query: str
    # The best few courses (first page only), then this page of lessons.
    courses: list[SearchHit]
    hits: list[SearchHit]
    page: Page
    total: int  # lessons
    channels: tuple[str, ...] = field(default=CHANNELS)


def query_words(q: str) -> list[str]:
    return WORD.findall(q.lower())[:MAX_QUERY_WORDS]


def _text_query(words: Sequence[str]) -> SearchQuery | None:
    """Any word may match (OR): ranking, not filtering, decides what comes first."""
    query = None
    for word in words:
        part = SearchQuery(word, config=SEARCH_CONFIG)
        query = part if query is None else query | part
    return query


def _rank_fts(queryset: QuerySet, words: Sequence[str], limit: int) -> list[int]:
    query = _text_query(words)
    if query is None:
        return []
    return list(
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _rank_fts_all(queryset: QuerySet, q: str, limit: int) -> list[int]:
    """Plain full-text search as commonly wired (every word must match): the baseline
    the quality command compares against; not a channel of the fused search."""
    query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
    return list(
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _rank_trigram(queryset: QuerySet, words: Sequence[str], limit: int) -> list[int]:
    grams = trigrams_of(" ".join(words))
    if not grams:
        return []
    table = queryset.model._meta.db_table
    # The table name is our model's, never input; the trigrams are a parameter.
    shared = RawSQL(  # noqa: S611
        f'(SELECT count(*) FROM unnest("{table}"."trigrams") AS t WHERE t = ANY(%s))',  # noqa: S608
        (grams,),
    )
    return list(
        queryset.filter(trigrams__overlap=grams)
        .annotate(shared=shared)
        .filter(shared__gte=TRIGRAM_MIN_SHARE * len(grams))
        .order_by("-shared", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _rank_vector(queryset: QuerySet, vector: np.ndarray | None, limit: int) -> list[int]:
    """Nearest rows; past the first VECTOR_ALWAYS only those within VECTOR_MAX_DISTANCE,
    so a query about nothing in the catalogue gets a few guesses, not the whole list."""
    if vector is None:
        return []
    rows = list(
        queryset.filter(embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", vector.tolist()))
        .order_by("distance", "pk")
        .values_list("pk", "distance")[:limit]
    )
    return [
        pk
        for i, (pk, distance) in enumerate(rows)
        if i < VECTOR_ALWAYS or distance <= VECTOR_MAX_DISTANCE
    ]


def rank_ids(
    queryset: QuerySet,
    *,
    q: str,
    channels: Sequence[str] = CHANNELS,
    limit: int = CHANNEL_DEPTH,
    vector: np.ndarray | None = None,
) -> list[tuple[int, float, tuple[str, ...]]]:
    """Fuse the channels' rankings of ``queryset`` for ``q``: [(pk, score, channels)], best first.

    One query per channel. A single channel's order is kept as is, so the
    evaluation can compare each channel alone with the fusion.
    """
    words = query_words(q)
    if not words:
        return []
    rankings: dict[str, list[int]] = {}
    if "fts_all" in channels:
        rankings["fts_all"] = _rank_fts_all(queryset, q, limit)
    if "fts" in channels:
        rankings["fts"] = _rank_fts(queryset, words, limit)
    if "trigram" in channels:
        rankings["trigram"] = _rank_trigram(queryset, words, limit)
    if "vector" in channels:
        if vector is None:
            vector = embed_texts([" ".join(words)])[0]
        rankings["vector"] = _rank_vector(queryset, vector, limit)
    scores: dict[int, float] = {}
    seen_in: dict[int, list[str]] = {}
    for channel, ids in rankings.items():
        for rank, pk in enumerate(ids, start=1):
            scores[pk] = scores.get(pk, 0.0) + CHANNEL_WEIGHTS[channel] / (RRF_K + rank)
            seen_in.setdefault(pk, []).append(channel)
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(pk, score, tuple(seen_in[pk])) for pk, score in ordered]


def searchable_lessons(*, skill: str = "", difficulty: str = "") -> QuerySet[Lesson]:
    """Lessons of published courses, narrowed by the catalog's filters."""
    queryset = Lesson.objects.filter(module__course__status=Course.Status.PUBLISHED)
    if skill:
        queryset = queryset.filter(
            pk__in=Lesson.skills.through.objects.filter(skill__slug=skill).values("lesson_id")
        )
    if difficulty:
        queryset = queryset.filter(difficulty=difficulty)
    return queryset


def searchable_courses(*, skill: str = "", difficulty: str = "") -> QuerySet[Course]:
    """Published courses, narrowed by the catalog's filters."""
    return course_search(queryset=Course.objects.published(), skill=skill, difficulty=difficulty)


def _snippet(headline: str | None) -> SafeString:
    text = escape(headline or "")
    return mark_safe(  # noqa: S308 - escaped above; only our own markers become tags
        text.replace(_START, "<mark>").replace(_STOP, "</mark>")
    )


def _headline(field_name: str, query: SearchQuery | None):
    if query is None:
        return Value("")
    # The same plain text as plain_text(), in SQL, so the snippet shows words, not fences.
    plain = Func(F(field_name), Value(MARKUP), Value(" "), Value("g"), function="regexp_replace")
    return SearchHeadline(
        plain,
        query,
        config=SEARCH_CONFIG,
        start_sel=_START,
        stop_sel=_STOP,
        max_words=28,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def catalog_search(
    *,
    q: str,
    skill: str = "",
    difficulty: str = "",
    page: int | str = 1,
    page_size: int = PAGE_SIZE,
    channels: Sequence[str] = CHANNELS,
) -> SearchResults:
    """Published courses and lessons for ``q``: the best few courses, then lessons paginated.

    Courses and lessons are ranked apart: a course's text (description, every lesson
    title) matches loosely, so mixed into one list it crowds out the lesson that
    answers. A fixed number of queries whatever the catalogue size: one per channel
    per kind (≤ 6), then the shown courses and lessons with snippets and skills (≤ 4).
    """
    words = query_words(q)
    vector = embed_texts([" ".join(words)])[0] if words and "vector" in channels else None
    courses_queryset = searchable_courses(skill=skill, difficulty=difficulty)
    lessons_queryset = searchable_lessons(skill=skill, difficulty=difficulty)
    course_rows = rank_ids(courses_queryset, q=q, channels=channels, vector=vector)
    lesson_rows = rank_ids(lessons_queryset, q=q, channels=channels, vector=vector)
    paginator = Paginator(lesson_rows, page_size, allow_empty_first_page=True)
    current = paginator.get_page(page)
    course_rows = course_rows[:COURSES_SHOWN] if current.number == 1 else []
    text_query = _text_query(words)
    courses = _load(
        Course.objects.prefetch_related("skills"), course_rows, "description", text_query
    )
    lessons = _load(
        Lesson.objects.select_related("module__course").prefetch_related("skills"),
        list(current.object_list),
        "body",
        text_query,
    )
    return SearchResults(
        query=q,
        courses=[SearchHit("course", *row) for row in courses],
        hits=[SearchHit("lesson", *row) for row in lessons],
        page=current,
        total=paginator.count,
        channels=tuple(channels),
    )


def _load(
    queryset: QuerySet,
    rows: Sequence[tuple[int, float, tuple[str, ...]]],
    field_name: str,
    text_query: SearchQuery | None,
) -> list[tuple[Course | Lesson, float, SafeString, tuple[str, ...]]]:
    """The ranked rows' objects in rank order with their snippets (one query + prefetches)."""
    if not rows:
        return []
    found = {
        obj.pk: obj
        for obj in queryset.filter(pk__in=[pk for pk, _, _ in rows]).annotate(
            headline=_headline(field_name, text_query)
        )
    }
    return [
        (found[pk], score, _snippet(found[pk].headline), seen)
        for pk, score, seen in rows
        if pk in found
    ]


# ------------------------------------------------------------------ related lessons


def _open_nearest(
    vector: Sequence[float], *, learner, limit: int, exclude_module_id: int | None = None
) -> list[Lesson]:
    """Published lessons nearest to ``vector`` that the learner can open now (the lock
    rule of ``learning.locks``: every prerequisite completed or its skills shown)."""
    queryset = Lesson.objects.filter(
        module__course__status=Course.Status.PUBLISHED, embedding__isnull=False
    )
    if exclude_module_id is not None:
        queryset = queryset.exclude(module_id=exclude_module_id)
    candidates = list(
        queryset.select_related("module__course").order_by(
            CosineDistance("embedding", list(vector)), "pk"
        )[: limit * 4]
    )
    return _open_now(candidates, learner=learner)[0][:limit]


def _open_now(
    candidates: list[Lesson], *, learner
) -> tuple[list[Lesson], LockGraph | None, LockFacts | None]:
    """The candidates the learner can open now, in their order (``learning.locks``), with
    the lock graph and the learner's facts they were judged by (none read without
    candidates)."""
    if not candidates:
        return [], None, None
    graph = lock_graph(course_ids={c.module.course_id for c in candidates}, transitive=False)
    facts = lock_facts(learner=learner, now=timezone.now())
    return [c for c in candidates if lesson_open(c.pk, graph, facts)], graph, facts


@dataclass(frozen=True)
class RelatedLesson:
    """A lesson related to the one being read, and why: "Also teaches Python", "Learn it first: this
    lesson builds on it", "Comes next: it builds on this lesson"."""

    lesson: Lesson
    reason: str


def _names(skills: Iterable[Skill]) -> str:
    names = sorted(skill.name for skill in skills)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def lessons_related(*, lesson: Lesson, learner, limit: int = RELATED_LIMIT) -> list[RelatedLesson]:
    """Lessons related to ``lesson`` that the learner can open now, nearest in meaning
    first (else in catalogue order), each with why.

    Related means sharing a skill (a lesson without skills of its own is judged by its
    course's, as ``learning.locks`` does), or being a lesson it builds on or one that
    builds on it; nothing else, however near its text: better no list than an unrelated
    one. Published courses only, never the lesson's own module, and no lesson still locked
    for this learner. One query for the candidates (with ``lessons_visible_to``'s
    prefetches on ``lesson``), then the lock rule's.
    """
    own = list(lesson.skills.all()) or list(lesson.module.course.skills.all())
    own_ids = {skill.pk for skill in own}
    before = {required.pk for required in lesson.prerequisites.all()}
    follows = Lesson.prerequisites.through.objects.filter(
        from_lesson_id=OuterRef("pk"), to_lesson_id=lesson.pk
    )
    eligible = Lesson.objects.filter(
        Q(skills__in=own_ids)
        | Q(skills__isnull=True, module__course__skills__in=own_ids)
        | Q(pk__in=before)
        | Q(prerequisites=lesson)
    )
    queryset = (
        Lesson.objects.filter(
            module__course__status=Course.Status.PUBLISHED, pk__in=eligible.values("pk")
        )
        .exclude(module_id=lesson.module_id)
        .annotate(
            skill_ids=ArrayAgg("skills__id", distinct=True),
            course_skill_ids=ArrayAgg("module__course__skills__id", distinct=True),
            builds_on_it=Exists(follows),
        )
        .select_related("module__course")
    )
    if lesson.embedding is not None:
        queryset = queryset.order_by(CosineDistance("embedding", list(lesson.embedding)), "pk")
    else:
        queryset = queryset.order_by("module__course__title", "module__order", "order", "pk")
    related = []
    candidates, graph, facts = _open_now(list(queryset[: limit * 4]), learner=learner)
    for other in candidates[:limit]:
        # A lesson without skills of its own is judged by its course's (NULLs from the joins).
        theirs = {pk for pk in other.skill_ids if pk} or {pk for pk in other.course_skill_ids if pk}
        reasons = []
        if other.pk in before:
            reasons.append(_builds_on_reason(other.pk, graph, facts))
        if other.builds_on_it:
            reasons.append("Comes next: it builds on this lesson")
        if own_ids & theirs:
            shared = _names(skill for skill in own if skill.pk in theirs)
            reasons.append(f"{'also' if reasons else 'Also'} teaches {shared}")
        related.append(RelatedLesson(other, "; ".join(reasons)))
    return related


def _builds_on_reason(lesson_id: int, graph: LockGraph, facts: LockFacts) -> str:
    """Why a lesson the one being read builds on is listed: to learn first, unless the
    learner completed it or showed what it teaches, as the lock rule reads it
    (``learning.locks.lesson_shown``; walk14: "Learn it first" beside a lesson on a skill
    the learner had mastered)."""
    if lesson_id in facts.completed_lessons:
        return "This lesson builds on it: you completed it"
    if lesson_shown(lesson_id, graph, facts):
        return "This lesson builds on it: you already showed what it teaches"
    return "Learn it first: this lesson builds on it"


def lessons_near_skill(
    *, skill: Skill, limit: int, min_similarity: float | None = None
) -> list[Lesson]:
    """Published lessons nearest in meaning to a skill's name and description, whoever
    asks (one query); callers serving several learners check each one's locks. With
    ``min_similarity``, only lessons whose cosine similarity to the skill reaches it."""
    vector = embed_texts([f"{skill.name}. {skill.description}"])[0]
    lessons = (
        Lesson.objects.filter(
            module__course__status=Course.Status.PUBLISHED, embedding__isnull=False
        )
        .select_related("module__course")
        .alias(distance=CosineDistance("embedding", vector.tolist()))
    )
    if min_similarity is not None:
        # Cosine distance is 1 - cosine similarity.
        lessons = lessons.filter(distance__lte=1 - min_similarity)
    return list(lessons.order_by("distance", "pk")[:limit])


def lessons_like_skill(*, skill: Skill, learner, limit: int = 3) -> list[Lesson]:
    """ "More like this" for a weak skill that has no lesson the learner can open:
    the open lessons nearest in meaning to the skill's name and description.

    For revision recommendations (insights); the caller decides when to use it.
    """
    vector = embed_texts([f"{skill.name}. {skill.description}"])[0]
    return _open_nearest(vector.tolist(), learner=learner, limit=limit)
