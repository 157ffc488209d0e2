"""Collaborative filtering ("learners like you"): item-item, over implicit feedback.

Interactions are enrollments (weight 1) and completions (weight 2) of courses. Two courses
are similar when the same learners took them (cosine similarity of their learner vectors).
A learner's candidates are scored by summing the similarities to the courses they took;
the reason names the course that contributed most ("Learners who finished Python Basics
went on to Flask APIs").

`evaluate_recommenders` measures the same algorithm offline against a popularity baseline
on any (user, item) data: for each user with at least two items a seeded random 20 % of
their items (at least one) is held out, both recommenders rank the unseen items from the
rest, and precision@5 and recall@10 are averaged over users.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from catalog.models import Course, Lesson
from insights.ml.registry import active_model
from learning.models import Enrollment, LessonProgress

MODEL_NAME = "course_cf"
COMPLETION_WEIGHT = 2.0


@dataclass(frozen=True)
class ItemSimilarity:
    items: list[Hashable]
    matrix: sparse.csr_matrix  # items x items cosine similarity, zero diagonal

    def index(self) -> dict[Hashable, int]:
        return {item: i for i, item in enumerate(self.items)}


def item_similarity(interactions: Iterable[tuple[Hashable, Hashable, float]]) -> ItemSimilarity:
    """Cosine similarity between items from (user, item, weight) triples."""
    users: dict[Hashable, int] = {}
    items: dict[Hashable, int] = {}
    rows, cols, vals = [], [], []
    for user, item, weight in interactions:
        rows.append(users.setdefault(user, len(users)))
        cols.append(items.setdefault(item, len(items)))
        vals.append(float(weight))
    if not items:
        return ItemSimilarity([], sparse.csr_matrix((0, 0)))
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(users), len(items)))
    x.sum_duplicates()
    # Imported here: web processes that only serve pages need not load scikit-learn.
    from sklearn.preprocessing import normalize

    unit = normalize(x.T.tocsr(), norm="l2", axis=1)
    sim = (unit @ unit.T).tocsr()
    sim.setdiag(0)
    sim.eliminate_zeros()
    return ItemSimilarity(list(items), sim)


def recommend(
    model: ItemSimilarity, seen: dict[Hashable, float], *, limit: int
) -> list[tuple[Hashable, float, Hashable]]:
    """Top unseen items for a user with interactions `seen` {item: weight}.

    Returns (item, score, the seen item that contributed most).
    """
    index = model.index()
    known = [(index[i], w) for i, w in seen.items() if i in index]
    if not known:
        return []
    rows = model.matrix[[i for i, _ in known]]
    weights = np.array([w for _, w in known])
    contributions = rows.multiply(weights[:, None]).tocsc()
    scores = np.asarray(contributions.sum(axis=0)).ravel()
    for i, _ in known:
        scores[i] = 0
    order = [j for j in np.argsort(-scores, kind="stable") if scores[j] > 0][:limit]
    result = []
    for j in order:
        column = contributions[:, j].toarray().ravel()
        result.append(
            (model.items[j], float(scores[j]), model.items[known[int(column.argmax())][0]])
        )
    return result


def course_interactions() -> list[tuple[int, int, float]]:
    return [
        (learner_id, course_id, COMPLETION_WEIGHT if status == Enrollment.Status.COMPLETED else 1.0)
        for learner_id, course_id, status in Enrollment.objects.values_list(
            "learner_id", "course_id", "status"
        )
    ]


def served_similarity() -> ItemSimilarity:
    """The active trained similarity (weekly job), or one computed now if none is stored."""
    loaded = active_model(MODEL_NAME)
    return loaded.artifact if loaded else item_similarity(course_interactions())


@dataclass(frozen=True)
class CourseSuggestion:
    course_id: int
    title: str
    score: float
    reason: str


def courses_like_yours(
    *, learner, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Published courses that learners with the same courses went on to take."""
    mine = dict(Enrollment.objects.filter(learner=learner).values_list("course_id", "status"))
    model = model or served_similarity()
    seen = {
        c: COMPLETION_WEIGHT if s == Enrollment.Status.COMPLETED else 1.0 for c, s in mine.items()
    }
    ranked = recommend(model, seen, limit=limit * 3)
    titles = dict(
        Course.objects.filter(
            id__in={c for c, _, _ in ranked} | {b for _, _, b in ranked}
        ).values_list("id", "title")
    )
    published = set(
        Course.objects.published()
        .filter(id__in=[c for c, _, _ in ranked])
        .values_list("id", flat=True)
    )
    out = []
    for course_id, score, because in ranked:
        if course_id not in published:
            continue
        verb = "finished" if mine.get(because) == Enrollment.Status.COMPLETED else "took"
        out.append(
            CourseSuggestion(
                course_id=course_id,
                title=titles[course_id],
                score=round(score, 4),
                reason=f"Learners who {verb} {titles[because]} went on to {titles[course_id]}.",
            )
        )
    return out[:limit]


def similar_courses(
    *, course: Course, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Published courses most often taken by the same learners as `course`."""
    model = model or served_similarity()
    ranked = recommend(model, {course.id: 1.0}, limit=limit * 3)
    courses = Course.objects.published().in_bulk([c for c, _, _ in ranked])
    out = [
        CourseSuggestion(
            course_id=c,
            title=courses[c].title,
            score=round(score, 4),
            reason=f"Often taken by learners of {course.title}.",
        )
        for c, score, _ in ranked
        if c in courses
    ]
    return out[:limit]


def lesson_interactions() -> list[tuple[int, int, float]]:
    return [
        (learner_id, lesson_id, COMPLETION_WEIGHT if completed else 1.0)
        for learner_id, lesson_id, completed in LessonProgress.objects.values_list(
            "learner_id", "lesson_id", "completed_at"
        )
    ]


def lessons_like_yours(
    *, learner, limit: int = 5, model: ItemSimilarity | None = None
) -> list[CourseSuggestion]:
    """Lessons of published courses that learners with the same lessons went on to study.

    Returned as suggestions whose `course_id` is the lesson's course and `title` the lesson's.
    """
    mine = dict(
        LessonProgress.objects.filter(learner=learner).values_list("lesson_id", "completed_at")
    )
    model = model or item_similarity(lesson_interactions())
    seen = {lesson: COMPLETION_WEIGHT if done else 1.0 for lesson, done in mine.items()}
    ranked = recommend(model, seen, limit=limit * 3)
    lessons = Lesson.objects.select_related("module__course").in_bulk(
        {i for i, _, _ in ranked} | {b for _, _, b in ranked}
    )
    out = []
    for lesson_id, score, because in ranked:
        lesson = lessons.get(lesson_id)
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


# Offline evaluation ------------------------------------------------------------------


@dataclass(frozen=True)
class RecommenderEvaluation:
    users: int
    items: int
    test_users: int
    cf_precision_at_5: float
    cf_recall_at_10: float
    popular_precision_at_5: float
    popular_recall_at_10: float


def split_holdout(
    user_items: dict[Hashable, Sequence[Hashable]], *, fraction: float = 0.2, seed: int = 0
) -> tuple[dict[Hashable, list[Hashable]], dict[Hashable, set[Hashable]]]:
    rng = random.Random(seed)
    train, test = {}, {}
    for user in sorted(user_items, key=str):
        items = sorted(set(user_items[user]), key=str)
        if len(items) < 2:
            train[user] = items
            continue
        rng.shuffle(items)
        k = max(1, round(len(items) * fraction))
        test[user] = set(items[:k])
        train[user] = items[k:]
    return train, test


def evaluate_recommenders(
    user_items: dict[Hashable, Sequence[Hashable]], *, seed: int = 0
) -> RecommenderEvaluation:
    train, test = split_holdout(user_items, seed=seed)
    model = item_similarity((u, i, 1.0) for u, items in train.items() for i in items)
    counts: dict[Hashable, int] = defaultdict(int)
    for items in train.values():
        for item in items:
            counts[item] += 1
    popular = sorted(counts, key=lambda i: (-counts[i], str(i)))
    metrics = defaultdict(list)
    for user, held in test.items():
        seen = set(train[user])
        cf = [i for i, _, _ in recommend(model, dict.fromkeys(seen, 1.0), limit=10)]
        pop = [i for i in popular if i not in seen][:10]
        for name, ranked in (("cf", cf), ("pop", pop)):
            metrics[f"{name}_p5"].append(len(set(ranked[:5]) & held) / 5)
            metrics[f"{name}_r10"].append(len(set(ranked[:10]) & held) / len(held))
    mean = {k: float(np.mean(v)) if v else 0.0 for k, v in metrics.items()}
    return RecommenderEvaluation(
        users=len(user_items),
        items=len(counts),
        test_users=len(test),
        cf_precision_at_5=mean.get("cf_p5", 0.0),
        cf_recall_at_10=mean.get("cf_r10", 0.0),
        popular_precision_at_5=mean.get("pop_p5", 0.0),
        popular_recall_at_10=mean.get("pop_r10", 0.0),
    )


def platform_user_items() -> dict[int, list[int]]:
    """Each learner's courses (enrolled or completed) from the platform's tables."""
    out: dict[int, list[int]] = defaultdict(list)
    for learner_id, course_id, _ in course_interactions():
        out[learner_id].append(course_id)
    return out


def assistments_user_items(path: Path) -> dict[str, list[str]]:
    """Skills each student practised, from an ASSISTments file in the DKT three-line format."""
    lines = path.read_text().splitlines()
    if len(lines) % 3:
        raise ValueError(f"{path}: expected three lines per student, got {len(lines)} lines.")
    out: dict[str, list[str]] = {}
    for n in range(0, len(lines), 3):
        skills = [s for s in lines[n + 1].split(",") if s.strip()]
        out[f"{path.stem}:{n // 3}"] = sorted(set(skills))
    return out
