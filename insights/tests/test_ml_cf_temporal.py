"""Temporal hold-out, the sequence-aware model and the gate on "learners like you"."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from catalog.tests.factories import CourseFactory
from insights.ml import registry
from insights.ml.cf import (
    course_sequences,
    courses_like_yours,
    evaluate_recommenders,
    next_item_similarity,
    passes_gate,
    split_holdout,
    split_temporal,
)
from insights.ml.training import train_model
from insights.models import MLModel
from insights.tests.helpers import NOW, course_recommendations
from learning.tests.factories import EnrollmentFactory


def test_temporal_split_holds_out_each_users_latest_items_and_never_leaks_them():
    rng = random.Random(7)
    data = {
        f"u{n}": [*rng.sample(range(40), rng.randint(1, 12)), rng.randrange(40)]  # a repeat
        for n in range(200)
    }
    train, test = split_temporal(data)
    assert set(train) == set(data)
    for user, items in data.items():
        first_seen = list(dict.fromkeys(items))  # a repeat counts at its first time
        held = test.get(user, set())
        if len(first_seen) < 2:
            assert not held and train[user] == first_seen
            continue
        k = max(1, round(len(first_seen) * 0.2))
        assert held == set(first_seen[-k:])
        assert train[user] == first_seen[:-k]
        # Every training item came before every held-out one of that user.
        assert max(first_seen.index(i) for i in train[user]) < min(
            first_seen.index(i) for i in held
        )
    # The random split holds out as many, but not (in general) the latest ones.
    random_train, random_test = split_holdout(data, seed=0)
    assert {u: len(h) for u, h in random_test.items()} == {u: len(h) for u, h in test.items()}
    assert random_test != test
    assert all(set(random_train[u]).isdisjoint(random_test[u]) for u in random_test)


def test_next_item_model_counts_what_followed_each_item():
    model = next_item_similarity([["a", "b", "c"], ["a", "b", "c"], ["a", "c"], ["c", "a"]])
    rows = {
        model.items[i]: {
            model.items[j]: v
            for j, v in zip(
                model.indices[model.indptr[i] : model.indptr[i + 1]],
                model.data[model.indptr[i] : model.indptr[i + 1]],
                strict=True,
            )
        }
        for i in range(len(model.items))
    }
    # After a: b next twice (1 each), c second-next twice (0.5 each) and next once: b 2, c 2.
    assert rows["a"] == {"b": pytest.approx(0.5), "c": pytest.approx(0.5)}
    assert rows["b"] == {"c": pytest.approx(1.0)}
    assert rows["c"] == {"a": pytest.approx(1.0)}  # asymmetric: only the one learner's order


def chains(n_courses: int = 12, users: int = 120) -> dict[str, list[int]]:
    """User n takes three consecutive items of a chain, in order, from n % (n_courses - 2)."""
    return {f"u{n}": [n % (n_courses - 2) + k for k in range(3)] for n in range(users)}


def test_on_ordered_data_the_sequence_model_is_ahead_in_the_temporal_split():
    result = evaluate_recommenders(chains(), split="temporal")
    assert result.test_users == 120
    # Held out: each user's third item, which always follows their second one. The chain's
    # last item is only ever held out (the 12 users starting at item 9): no method knows it.
    assert result.precision_at_5["next"] == pytest.approx(0.2 * 108 / 120)
    assert result.recall_at_10["next"] == pytest.approx(108 / 120)
    assert result.ahead_of_popularity("next")
    # Popularity ranks the middle of the chain first and misses the held-out item for a
    # third of the users; cosine, whose top five holds the neighbours on both sides, finds it.
    assert result.precision_at_5["popular"] == pytest.approx(0.12)
    assert result.precision_at_5["cf"] == pytest.approx(0.18)
    assert evaluate_recommenders(chains(), split="temporal") == result


def enroll_chains(n_courses: int, users: int) -> list:
    courses = [CourseFactory(title=f"Course {k}") for k in range(n_courses)]
    for items in chains(n_courses, users).values():
        learner = None
        for step, k in enumerate(items):
            enrollment = EnrollmentFactory(
                course=courses[k],
                enrolled_at=NOW - timedelta(days=30 - step),
                **({"learner": learner} if learner else {}),
            )
            learner = enrollment.learner
    return courses


@pytest.mark.django_db
def test_course_sequences_follow_enrollment_time(learner):
    a, b, c = (CourseFactory() for _ in range(3))
    EnrollmentFactory(learner=learner, course=b, enrolled_at=NOW - timedelta(days=1))
    EnrollmentFactory(learner=learner, course=c, enrolled_at=NOW)
    EnrollmentFactory(learner=learner, course=a, enrolled_at=NOW - timedelta(days=5))
    assert course_sequences() == {learner.pk: [a.pk, b.pk, c.pk]}


@pytest.mark.django_db
def test_learners_like_you_are_served_only_when_the_temporal_evaluation_is_ahead(learner):
    courses = enroll_chains(12, 60)
    EnrollmentFactory(learner=learner, course=courses[3], enrolled_at=NOW - timedelta(days=9))
    EnrollmentFactory(learner=learner, course=courses[4], enrolled_at=NOW - timedelta(days=8))

    version = train_model(name="course_cf", now=NOW)
    gate = version.metrics["temporal"]
    assert gate["split"] == "temporal" and gate["test_users"] == 61  # and the learner
    # Cosine finds the held-out course as often (ties keep cosine).
    assert gate["served"] == version.parameters["method"] == "cf"
    assert gate["precision_at_5"]["cf"] > gate["precision_at_5"]["popular"] * 1.1
    assert gate["ahead_of_popularity"] is True and passes_gate(version.metrics)
    suggestions = courses_like_yours(learner=learner)
    assert {"Course 2", "Course 5"} <= {s.title for s in suggestions[:2]}  # the neighbours
    cards = course_recommendations(learner=learner, now=NOW)
    assert "learners_like_you" in {c.source for c in cards}

    # The same serving code with a version whose evaluation is not ahead: nothing.
    MLModel.objects.filter(pk=version.pk).update(
        metrics={**version.metrics, "temporal": {**gate, "ahead_of_popularity": False}}
    )
    registry.loader.forget("course_cf")
    assert courses_like_yours(learner=learner) == []
    assert "learners_like_you" not in {
        c.source for c in course_recommendations(learner=learner, now=NOW)
    }
    # Versions trained before the gate existed have no evaluation: not served either.
    assert not passes_gate({"items": 12})


@pytest.mark.django_db
def test_too_few_courses_to_beat_popularity_serve_nothing(learner):
    courses = enroll_chains(5, 30)
    EnrollmentFactory(learner=learner, course=courses[0], enrolled_at=NOW - timedelta(days=9))
    version = train_model(name="course_cf", now=NOW)
    # Five courses: popularity's top five holds every unseen course; no method beats it.
    gate = version.metrics["temporal"]
    assert gate["ahead_of_popularity"] is False
    # Both find each held-out item that training saw (all but the chain's last one).
    assert gate["precision_at_5"]["popular"] == gate["precision_at_5"]["next"] > 0
    assert courses_like_yours(learner=learner) == []
    assert "learners_like_you" not in {
        c.source for c in course_recommendations(learner=learner, now=NOW)
    }
