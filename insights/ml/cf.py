"""Collaborative filtering ("learners like you"): item-item, over implicit feedback.

Interactions are enrollments (weight 1) and completions (weight 2) of courses. Two courses
are similar when the same learners took them (cosine similarity of their learner vectors).
A learner's candidates are scored by summing the similarities to the courses they took;
the reason names the course that contributed most ("Learners who finished Python Basics
went on to Flask APIs").

Fitting (`item_similarity`, weekly job and `train_models`) uses scipy, imported inside the
function. The stored artifact is plain numpy arrays (the similarity in CSR form) plus the
titles and the suggestible (published) items at training time, so serving it - the
dashboard's recommendation refresh, the API - needs neither scipy nor scikit-learn nor any
query beyond the registry's.

`evaluate_recommenders` measures the same algorithm offline against a popularity baseline
on any (user, item) data: for each user with at least two items a seeded random 20 % of
their items (at least one) is held out, both recommenders rank the unseen items from the
rest, and precision@5 and recall@10 are averaged over users.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from catalog.models import Course, Lesson
from insights.ml.registry import active_model
from learning.models import Enrollment, LessonProgress

MODEL_NAME = "course_cf"
LESSON_MODEL_NAME = "lesson_cf"
COMPLETION_WEIGHT = 2.0
# Lessons are many: each keeps its strongest neighbours only, which bounds the artifact.
LESSON_NEIGHBOURS = 50
# MLModel.metrics key of the temporal evaluation stored at training (see `passes_gate`).
GATE_METRIC = "temporal"


@dataclass(frozen=True)
class ItemSimilarity:
    """Item x item cosine similarity (zero diagonal) as CSR arrays, plus serving metadata."""

    items: list[Hashable]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    # Display titles and the items that may be suggested (published), as at training time.
    titles: dict[Hashable, str] = field(default_factory=dict)
    suggestible: frozenset[Hashable] | None = None  # None: every item

    # Computed once per process on first use (a served model answers many learners).
    @cached_property
    def positions(self) -> dict[Hashable, int]:
        return {item: i for i, item in enumerate(self.items)}

    @cached_property
    def unsuggestible(self) -> np.ndarray:
        if self.suggestible is None:
            return np.zeros(0, dtype=np.int64)
        return np.array(
            [j for j, item in enumerate(self.items) if item not in self.suggestible],
            dtype=np.int64,
        )


def item_similarity(
    interactions: Iterable[tuple[Hashable, Hashable, float]],
    *,
    neighbours: int | None = None,
    titles: dict[Hashable, str] | None = None,
    suggestible: Collection[Hashable] | None = None,
) -> ItemSimilarity:
    """Cosine similarity between items from (user, item, weight) triples.

    `neighbours` keeps only each item's strongest similarities (None: all of them).
    """
    users: dict[Hashable, int] = {}
    items: dict[Hashable, int] = {}
    rows, cols, vals = [], [], []
    for user, item, weight in interactions:
        rows.append(users.setdefault(user, len(users)))
        cols.append(items.setdefault(item, len(items)))
        vals.append(float(weight))
    extra = {
        "titles": dict(titles or {}),
        "suggestible": None if suggestible is None else frozenset(suggestible),
    }
    if not items:
        no_rows = np.zeros(1, dtype=np.int64)
        return ItemSimilarity([], no_rows, np.zeros(0, dtype=np.int64), np.zeros(0), **extra)
    # Imported here: only training fits; web processes serve the numpy arrays below.
    from scipy import sparse

    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(users), len(items)))
    x.sum_duplicates()
    by_item = x.T.tocsr()
    norms = np.sqrt(np.asarray(by_item.multiply(by_item).sum(axis=1)).ravel())
    unit = sparse.diags(1 / np.where(norms > 0, norms, 1)) @ by_item
    sim = (unit @ unit.T).tocsr()
    sim.setdiag(0)
    sim.eliminate_zeros()
    sim.sort_indices()
    if neighbours is not None:
        sim = _strongest(sim, neighbours)
    return ItemSimilarity(
        list(items),
        sim.indptr.astype(np.int64),
        sim.indices.astype(np.int64),
        sim.data.astype(np.float64),
        **extra,
    )


def _strongest(sim, k: int):
    """Each row's k largest entries (ties: lower column first), as a new CSR matrix."""
    from scipy import sparse

    rows, cols, vals = [], [], []
    for i in range(sim.shape[0]):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        order = np.argsort(-sim.data[start:end], kind="stable")[:k]
        rows.extend([i] * len(order))
        cols.extend(sim.indices[start:end][order])
        vals.extend(sim.data[start:end][order])
    out = sparse.csr_matrix((vals, (rows, cols)), shape=sim.shape)
    out.sort_indices()
    return out


def recommend(
    model: ItemSimilarity,
    seen: dict[Hashable, float],
    *,
    limit: int,
    exclude: Collection[Hashable] = (),
) -> list[tuple[Hashable, float, Hashable]]:
    """Top items for a user with interactions `seen` {item: weight}, numpy only.

    Seen, excluded and (when the model says so) unsuggestible items are left out.
    Returns (item, score, the seen item that contributed most; the earlier seen one on a tie).
    """
    index = model.positions
    known = [(index[i], w) for i, w in seen.items() if i in index]
    if not known or limit <= 0:
        return []
    n = len(model.items)
    scores = np.zeros(n)
    best = np.zeros(n)
    because = np.zeros(n, dtype=np.int64)
    for i, weight in known:
        start, end = model.indptr[i], model.indptr[i + 1]
        cols = model.indices[start:end]
        contribution = model.data[start:end] * weight
        scores[cols] += contribution  # a row holds each column once
        better = contribution > best[cols]
        best[cols[better]] = contribution[better]
        because[cols[better]] = i
    for i, _ in known:
        scores[i] = 0
    for item in exclude:
        if item in index:
            scores[index[item]] = 0
    scores[model.unsuggestible] = 0
    order = [j for j in np.argsort(-scores, kind="stable") if scores[j] > 0][:limit]
    return [(model.items[j], float(scores[j]), model.items[because[j]]) for j in order]


def course_interactions() -> list[tuple[int, int, float]]:
    return [
        (learner_id, course_id, COMPLETION_WEIGHT if status == Enrollment.Status.COMPLETED else 1.0)
        for learner_id, course_id, status in Enrollment.objects.values_list(
            "learner_id", "course_id", "status"
        )
    ]


def fit_course_similarity(interactions: list[tuple[int, int, float]]) -> ItemSimilarity:
    """The course model with the titles and published courses it will suggest from."""
    ids = {course_id for _, course_id, _ in interactions}
    courses = Course.objects.filter(id__in=ids).values_list("id", "title", "status")
    return item_similarity(
        interactions,
        titles={pk: title for pk, title, _ in courses},
        suggestible={pk for pk, _, status in courses if status == Course.Status.PUBLISHED},
    )


def fit_next_course_model(sequences: dict[int, list[int]]) -> ItemSimilarity:
    """The sequence-aware course model with the titles and published courses it suggests."""
    ids = {c for courses in sequences.values() for c in courses}
    courses = Course.objects.filter(id__in=ids).values_list("id", "title", "status")
    return next_item_similarity(
        sequences.values(),
        titles={pk: title for pk, title, _ in courses},
        suggestible={pk for pk, _, status in courses if status == Course.Status.PUBLISHED},
    )


def _served(name: str, *, gated: bool = False) -> ItemSimilarity | None:
    """The active version of `name`, or None when none is active.

    Versions stored before the artifact became numpy arrays hold a scipy matrix instead
    (loading one still imports scipy); they serve nothing until the weekly job trains a
    new version. `gated`: only a version whose stored temporal evaluation shows it ahead
    of popularity (`passes_gate`) is served.
    """
    loaded = active_model(name)
    if loaded is None or not isinstance(loaded.artifact, ItemSimilarity):
        return None
    if gated and not passes_gate(loaded.metrics):
        return None
    return loaded.artifact if "indptr" in vars(loaded.artifact) else None


def passes_gate(metrics: dict) -> bool:
    """Whether a trained version may make "learners like you" suggestions: its temporal
    evaluation (each learner's latest courses held out, at training) put the served method
    strictly ahead of popularity. Versions without that metric do not pass."""
    return (metrics.get(GATE_METRIC) or {}).get("ahead_of_popularity") is True


def served_similarity() -> ItemSimilarity | None:
    """The active course model (weekly job); None until one is trained."""
    return _served(MODEL_NAME)


def served_for_learners() -> ItemSimilarity | None:
    """The active course model for personal suggestions: None unless it passes the gate."""
    return _served(MODEL_NAME, gated=True)


@dataclass(frozen=True)
class CourseSuggestion:
    course_id: int
    title: str
    score: float
    reason: str
    because_course_id: int | None = None


def cf_course_suggestions(
    *,
    learner_courses: dict[int, set[int]],
    completed: dict[int, set[int]] | None = None,
    exclude: dict[int, set[int]] | None = None,
    limit: int,
    model: ItemSimilarity | None = None,
) -> dict[int, list[CourseSuggestion]]:
    """Per learner, published courses that learners with the same courses went on to take.

    `learner_courses` are each learner's courses (any enrollment), `completed` the finished
    ones among them (weighted double, and named "finished" in the reason); `exclude` the
    courses not to suggest (already suggested, recently skipped). Batch-friendly: it reads
    the active model's artifact only (titles and the published set as at training) and
    makes no query of its own. No active model, or one that did not beat popularity on
    the temporal evaluation (`passes_gate`): no suggestions.
    """
    model = model or served_for_learners()
    if model is None:
        return {}
    completed = completed or {}
    exclude = exclude or {}
    out: dict[int, list[CourseSuggestion]] = {}
    for learner_id, courses in learner_courses.items():
        done = completed.get(learner_id, set())
        seen = {c: COMPLETION_WEIGHT if c in done else 1.0 for c in sorted(courses)}
        ranked = recommend(model, seen, limit=limit, exclude=exclude.get(learner_id, ()))
        suggestions = []
        for course_id, score, source in ranked:
            verb = "finished" if source in done else "took"
            title, source_title = model.titles[course_id], model.titles[source]
            suggestions.append(
                CourseSuggestion(
                    course_id=course_id,
                    title=title,
                    score=round(score, 4),
                    reason=f"Learners who {verb} {source_title} went on to {title}.",
                    because_course_id=source,
                )
            )
        if suggestions:
            out[learner_id] = suggestions
    return out


def courses_like_yours(
    *, learner, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Published courses that learners with the same courses went on to take."""
    mine = dict(Enrollment.objects.filter(learner=learner).values_list("course_id", "status"))
    done = {c for c, s in mine.items() if s == Enrollment.Status.COMPLETED}
    return cf_course_suggestions(
        learner_courses={learner.pk: set(mine)},
        completed={learner.pk: done},
        limit=limit,
        model=model,
    ).get(learner.pk, [])


def similar_courses(
    *, course: Course, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Published courses most often taken by the same learners as `course`."""
    model = model or served_similarity()
    if model is None:
        return []
    return [
        CourseSuggestion(
            course_id=c,
            title=model.titles[c],
            score=round(score, 4),
            reason=f"Often taken by learners of {course.title}.",
            because_course_id=course.pk,
        )
        for c, score, _ in recommend(model, {course.pk: 1.0}, limit=limit)
    ]


def lesson_interactions() -> list[tuple[int, int, float]]:
    return [
        (learner_id, lesson_id, COMPLETION_WEIGHT if completed else 1.0)
        for learner_id, lesson_id, completed in LessonProgress.objects.values_list(
            "learner_id", "lesson_id", "completed_at"
        )
    ]


def fit_lesson_similarity(interactions: list[tuple[int, int, float]]) -> ItemSimilarity:
    """The lesson model (strongest neighbours only), suggesting lessons of published courses."""
    ids = {lesson_id for _, lesson_id, _ in interactions}
    published = Lesson.objects.filter(
        id__in=ids, module__course__status=Course.Status.PUBLISHED
    ).values_list("id", flat=True)
    return item_similarity(interactions, neighbours=LESSON_NEIGHBOURS, suggestible=set(published))


def lessons_like_yours(
    *, learner, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Lessons of published courses that learners with the same lessons went on to study.

    Returned as suggestions whose `course_id` is the lesson's course and `title` the lesson's.
    """
    model = model or _served(LESSON_MODEL_NAME)
    if model is None:
        return []
    mine = dict(
        LessonProgress.objects.filter(learner=learner).values_list("lesson_id", "completed_at")
    )
    seen = {lesson: COMPLETION_WEIGHT if done else 1.0 for lesson, done in mine.items()}
    ranked = recommend(model, seen, limit=limit * 3)
    lessons = Lesson.objects.select_related("module__course").in_bulk(
        {i for i, _, _ in ranked} | {b for _, _, b in ranked}
    )
    out = []
    for lesson_id, score, because in ranked:
        lesson = lessons.get(lesson_id)
        # Checked again: a course unpublished since training is not suggested.
        if lesson is None or not lesson.module.course.is_published or because not in lessons:
            continue
        verb = "finished" if mine.get(because) else "started"
        out.append(
            CourseSuggestion(
                course_id=lesson.module.course_id,
                title=lesson.title,
                score=round(score, 4),
                reason=f"Learners who {verb} {lessons[because].title} went on to {lesson.title}.",
            )
        )
    return out[:limit]


# Sequence-aware co-occurrence ("what learners took next") ------------------------------

# Each item counts the next NEXT_WINDOW items a learner took after it, the k-th one weighted
# NEXT_DECAY ** (k - 1); each row is then normalised to sum to one (the share of what followed
# the item). Chosen on ASSISTments among five settings, all within 0.03 precision@5 of each
# other on the temporal split (BENCHMARKS.md).
NEXT_WINDOW = 3
NEXT_DECAY = 0.5


def next_item_similarity(
    sequences: Iterable[Sequence[Hashable]],
    *,
    window: int = NEXT_WINDOW,
    decay: float = NEXT_DECAY,
    titles: dict[Hashable, str] | None = None,
    suggestible: Collection[Hashable] | None = None,
) -> ItemSimilarity:
    """Row a, column b: how much of what learners took after a was b (asymmetric).

    `sequences` are each user's items oldest first. Served by `recommend` like the cosine
    model: a learner's candidates sum the rows of the items they took.
    """
    items: dict[Hashable, int] = {}
    rows, cols, vals = [], [], []
    for sequence in sequences:
        order = [items.setdefault(i, len(items)) for i in dict.fromkeys(sequence)]
        for a, i in enumerate(order):
            for step, j in enumerate(order[a + 1 : a + 1 + window]):
                rows.append(i)
                cols.append(j)
                vals.append(decay**step)
    extra = {
        "titles": dict(titles or {}),
        "suggestible": None if suggestible is None else frozenset(suggestible),
    }
    n = len(items)
    from scipy import sparse

    m = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    totals = np.asarray(m.sum(axis=1)).ravel()
    m = (sparse.diags(1 / np.where(totals > 0, totals, 1)) @ m).tocsr()
    m.eliminate_zeros()
    m.sort_indices()
    return ItemSimilarity(
        list(items),
        m.indptr.astype(np.int64) if n else np.zeros(1, dtype=np.int64),
        m.indices.astype(np.int64),
        m.data.astype(np.float64),
        **extra,
    )


# Offline evaluation ------------------------------------------------------------------

SPLITS = ("random", "temporal")
METHODS = ("cf", "next", "popular")
HOLDOUT = 0.2
# A method is "ahead of popularity" only with a precision@5 this much (relative) above
# popularity's: on ASSISTments' temporal split cosine CF's 0.044 vs 0.043 is no lead.
MIN_LEAD = 0.10


@dataclass(frozen=True)
class RecommenderEvaluation:
    split: str
    users: int
    items: int
    test_users: int
    # Per method ("cf" item-item cosine, "next" sequence-aware, "popular"), users' mean.
    precision_at_5: dict[str, float]
    recall_at_10: dict[str, float]

    @property
    def cf_precision_at_5(self) -> float:
        return self.precision_at_5["cf"]

    @property
    def cf_recall_at_10(self) -> float:
        return self.recall_at_10["cf"]

    @property
    def popular_precision_at_5(self) -> float:
        return self.precision_at_5["popular"]

    @property
    def popular_recall_at_10(self) -> float:
        return self.recall_at_10["popular"]

    def ahead_of_popularity(self, method: str) -> bool:
        """precision@5 at least MIN_LEAD (relative) above popularity's, on tested users."""
        popular = self.precision_at_5["popular"]
        return self.test_users > 0 and self.precision_at_5[method] > popular * (1 + MIN_LEAD)

    def as_metrics(self) -> dict:
        return {
            "split": self.split,
            "test_users": self.test_users,
            "precision_at_5": {k: round(v, 4) for k, v in self.precision_at_5.items()},
            "recall_at_10": {k: round(v, 4) for k, v in self.recall_at_10.items()},
        }


def _ordered(items: Sequence[Hashable]) -> list[Hashable]:
    return list(dict.fromkeys(items))


def split_holdout(
    user_items: dict[Hashable, Sequence[Hashable]], *, fraction: float = HOLDOUT, seed: int = 0
) -> tuple[dict[Hashable, list[Hashable]], dict[Hashable, set[Hashable]]]:
    """A seeded random `fraction` (at least one) of each user's items with two or more is
    held out; the training items keep the user's order."""
    rng = random.Random(seed)
    train, test = {}, {}
    for user in sorted(user_items, key=str):
        ordered = _ordered(user_items[user])
        items = sorted(ordered, key=str)
        if len(items) < 2:
            train[user] = ordered
            continue
        rng.shuffle(items)
        k = max(1, round(len(items) * fraction))
        test[user] = set(items[:k])
        train[user] = [i for i in ordered if i not in test[user]]
    return train, test


def split_temporal(
    user_items: dict[Hashable, Sequence[Hashable]], *, fraction: float = HOLDOUT
) -> tuple[dict[Hashable, list[Hashable]], dict[Hashable, set[Hashable]]]:
    """Each user's LATEST `fraction` of items (at least one) is held out.

    `user_items` lists each user's items oldest first (a repeat counts at its first time).
    Every training item of a user came before every held-out one of that user.
    """
    train, test = {}, {}
    for user in sorted(user_items, key=str):
        items = _ordered(user_items[user])
        if len(items) < 2:
            train[user] = items
            continue
        k = max(1, round(len(items) * fraction))
        train[user], test[user] = items[:-k], set(items[-k:])
    return train, test


def evaluate_recommenders(
    user_items: dict[Hashable, Sequence[Hashable]],
    *,
    split: str = "random",
    seed: int = 0,
    recency: float | None = None,
) -> RecommenderEvaluation:
    """Cosine CF, what-came-next and popularity on one split of `user_items` (oldest first).

    Every method ranks each tested user's unseen items from their training items, as served
    (each seen item weighted 1). `recency` weights the sequence model's seen items by
    recency ** (how many items ago) instead.
    """
    if split == "random":
        train, test = split_holdout(user_items, seed=seed)
    elif split == "temporal":
        train, test = split_temporal(user_items)
    else:
        raise ValueError(f"Unknown split {split!r}; known: {', '.join(SPLITS)}.")
    cosine = item_similarity((u, i, 1.0) for u, items in train.items() for i in items)
    following = next_item_similarity(train.values())
    counts: dict[Hashable, int] = defaultdict(int)
    for items in train.values():
        for item in items:
            counts[item] += 1
    popular = sorted(counts, key=lambda i: (-counts[i], str(i)))
    metrics = defaultdict(list)
    for user, held in test.items():
        seen = train[user]
        recent = (
            {i: recency ** (len(seen) - 1 - k) for k, i in enumerate(seen)}
            if recency is not None
            else dict.fromkeys(seen, 1.0)
        )
        ranked = {
            "cf": [i for i, _, _ in recommend(cosine, dict.fromkeys(seen, 1.0), limit=10)],
            "next": [i for i, _, _ in recommend(following, recent, limit=10)],
            "popular": [i for i in popular if i not in set(seen)][:10],
        }
        for name, top in ranked.items():
            metrics[f"{name}_p5"].append(len(set(top[:5]) & held) / 5)
            metrics[f"{name}_r10"].append(len(set(top[:10]) & held) / len(held))
    mean = {k: float(np.mean(v)) if v else 0.0 for k, v in metrics.items()}
    return RecommenderEvaluation(
        split=split,
        users=len(user_items),
        items=len(counts),
        test_users=len(test),
        precision_at_5={m: mean.get(f"{m}_p5", 0.0) for m in METHODS},
        recall_at_10={m: mean.get(f"{m}_r10", 0.0) for m in METHODS},
    )


def course_sequences() -> dict[int, list[int]]:
    """Each learner's courses in the order they enrolled (oldest first)."""
    out: dict[int, list[int]] = defaultdict(list)
    rows = Enrollment.objects.order_by("enrolled_at", "id").values_list("learner_id", "course_id")
    for learner_id, course_id in rows:
        out[learner_id].append(course_id)
    return dict(out)


def platform_user_items() -> dict[int, list[int]]:
    """Each learner's courses (enrolled or completed) from the platform's tables, oldest first."""
    return course_sequences()


def assistments_user_items(path: Path) -> dict[str, list[str]]:
    """Skills each student practised in the order first practised, from an ASSISTments file
    in the DKT three-line format (responses are listed in time order)."""
    lines = path.read_text().splitlines()
    if len(lines) % 3:
        raise ValueError(f"{path}: expected three lines per student, got {len(lines)} lines.")
    out: dict[str, list[str]] = {}
    for n in range(0, len(lines), 3):
        skills = [s for s in lines[n + 1].split(",") if s.strip()]
        out[f"{path.stem}:{n // 3}"] = _ordered(skills)
    return out
