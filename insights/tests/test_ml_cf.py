from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory
from insights.ml import registry
from insights.ml.cf import (
    ItemSimilarity,
    courses_like_yours,
    evaluate_recommenders,
    item_similarity,
    lessons_like_yours,
    similar_courses,
)
from insights.ml.training import train_model
from insights.tests.ml_helpers import open_cf_gate
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
def catalog(learner):
    a, b, c = (CourseFactory(title=t) for t in ("Python Basics", "Flask APIs", "Data Viz"))
    hidden = CourseFactory(title="Draft course", status=Course.Status.DRAFT)
    others = [EnrollmentFactory(course=a, status="completed").learner for _ in range(2)]
    for other in others:
        EnrollmentFactory(learner=other, course=b)
        EnrollmentFactory(learner=other, course=hidden)
    EnrollmentFactory(learner=EnrollmentFactory(course=a).learner, course=c)
    EnrollmentFactory(learner=learner, course=a, status="completed")
    return a, b, c


@pytest.mark.django_db
def test_learners_like_you_ranks_by_co_enrollment_and_explains(learner, catalog):
    c = catalog[2]
    # Weights (completion 2, enrollment 1) over learners: A=(2,2,1,2), B=(1,1,0,0), C=(0,0,1,0)
    # cos(A,B) = 4 / (sqrt(13) * sqrt(2)) = 0.7845; cos(A,C) = 1 / sqrt(13) = 0.2774;
    # Alice finished A (weight 2): B 1.569, C 0.555. The draft course is never suggested.
    assert courses_like_yours(learner=learner) == []  # no model trained yet
    version = train_model(name="course_cf", now=NOW)
    # Four courses: popularity's top five holds them all, nothing beats it (gate closed).
    assert version.metrics["temporal"]["ahead_of_popularity"] is False
    assert courses_like_yours(learner=learner) == []
    open_cf_gate()
    suggestions = courses_like_yours(learner=learner)
    assert [(s.title, s.score) for s in suggestions] == [
        ("Flask APIs", pytest.approx(1.569, abs=1e-3)),
        ("Data Viz", pytest.approx(0.555, abs=1e-3)),
    ]
    assert suggestions[0].reason == "Learners who finished Python Basics went on to Flask APIs."
    assert courses_like_yours(learner=learner) == suggestions  # deterministic

    assert [s.title for s in similar_courses(course=c)] == ["Python Basics"]


@pytest.mark.django_db
def test_served_similarity_comes_from_the_active_trained_version(learner, catalog):
    a, b, _ = catalog
    version = train_model(name="course_cf", now=a.created_at)
    assert (version.metrics["items"], version.metrics["suggestible"]) == (4, 3)
    open_cf_gate()
    # A new co-enrollment after training does not change served suggestions until retrained.
    EnrollmentFactory(learner=EnrollmentFactory(course=a).learner, course=b)
    assert courses_like_yours(learner=learner)[0].score == pytest.approx(1.569, abs=1e-3)
    # Retrained: A=(2,2,1,2,1), B=(1,1,0,0,1): cos = 5 / (sqrt(14) * sqrt(3)) = 0.7715 x 2.
    train_model(name="course_cf", now=a.created_at)
    open_cf_gate()
    assert courses_like_yours(learner=learner)[0].score == pytest.approx(1.543, abs=1e-3)


def test_offline_evaluation_beats_popularity_on_co_taken_items():
    # 10 users took {a, b, c}, 10 took {d, e, g}; 100 one-item users make f0..f4 most
    # popular. Each three-item user keeps two items and has one held out.
    data = {f"abc{i}": ["a", "b", "c"] for i in range(10)}
    data |= {f"deg{i}": ["d", "e", "g"] for i in range(10)}
    data |= {f"f{i}": [f"f{i % 5}"] for i in range(100)}
    result = evaluate_recommenders(data, seed=3)
    assert result.test_users == 20
    # CF ranks only the third item of the user's group: 1 hit in the top 5 -> 0.2; popularity
    # fills its top 5 with f0..f4 -> 0.0. Both find the held-out item within ten (9 unseen).
    assert result.cf_precision_at_5 == pytest.approx(0.2)
    assert result.popular_precision_at_5 == 0.0
    assert result.cf_recall_at_10 == result.popular_recall_at_10 == 1.0
    assert evaluate_recommenders(data, seed=3) == result


def dense(sim: ItemSimilarity) -> np.ndarray:
    out = np.zeros((len(sim.items), len(sim.items)))
    for i in range(len(sim.items)):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        out[i, sim.indices[start:end]] = sim.data[start:end]
    return out


def test_item_similarity_is_symmetric_with_empty_diagonal():
    sim = item_similarity([("u1", "a", 1), ("u1", "b", 1), ("u2", "a", 1)])
    matrix = dense(sim)
    # a=(1,1), b=(1,0): cos = 1 / sqrt(2)
    assert matrix[0, 0] == matrix[1, 1] == 0
    assert matrix[0, 1] == matrix[1, 0] == pytest.approx(0.7071, abs=1e-4)


def test_neighbours_keeps_each_items_strongest_similarities():
    # a is co-taken with b by three users, with c by two and with d by one.
    data = [(f"b{i}", x, 1) for i in range(3) for x in "ab"]
    data += [(f"c{i}", x, 1) for i in range(2) for x in "ac"]
    data += [("d0", "a", 1), ("d0", "d", 1)]
    full, top = item_similarity(data), item_similarity(data, neighbours=2)
    a = full.positions["a"]
    strongest = sorted(np.flatnonzero(dense(full)[a]), key=lambda j: -dense(full)[a, j])[:2]
    assert [full.items[j] for j in strongest] == ["b", "c"]
    assert [top.items[j] for j in np.flatnonzero(dense(top)[a])] == ["b", "c"]
    assert dense(top)[a, top.positions["b"]] == dense(full)[a, full.positions["b"]]


@pytest.mark.django_db
def test_evaluate_command_on_assistments_format(tmp_path):
    (tmp_path / "builder_train.csv").write_text(
        "3\n1,2,3,\n1,0,1,\n" * 6 + "3\n4,5,6,\n1,1,0,\n" * 6
    )
    out = StringIO()
    call_command("evaluate_recommender", "--assistments", str(tmp_path), stdout=out)
    text = out.getvalue()
    assert "12 users, 6 items" in text
    random_part, temporal_part = text.split("(temporal)")
    assert "held out (seeded): 12 users tested" in random_part
    assert "item-item CF (cosine)                  precision@5 0.200, recall@10 1.000" in (
        random_part
    )
    # Temporally every student's last skill (3 or 6) is held out and never seen in training:
    # no method can find it.
    assert "12 users tested" in temporal_part
    assert temporal_part.count("precision@5 0.000, recall@10 0.000") == 3
    with pytest.raises(CommandError, match="No builder_"):
        call_command("evaluate_recommender", "--assistments", str(tmp_path / "nope"))


@pytest.mark.django_db
def test_lessons_like_yours_follow_what_similar_learners_studied_next(learner):
    intro, loops, draft_lesson = (LessonFactory(title=t) for t in ("Intro", "Loops", "Secret"))
    draft_lesson.module.course.status = Course.Status.DRAFT
    draft_lesson.module.course.save()
    for _ in range(2):
        other = LessonProgressFactory(lesson=intro, completed_at=NOW, status="completed").learner
        LessonProgressFactory(learner=other, lesson=loops)
        LessonProgressFactory(learner=other, lesson=draft_lesson)
    LessonProgressFactory(learner=learner, lesson=intro, completed_at=NOW, status="completed")

    assert lessons_like_yours(learner=learner) == []  # no model trained yet
    version = train_model(name="lesson_cf", now=NOW)
    assert version.parameters["neighbours"] == 50
    (suggestion,) = lessons_like_yours(learner=learner)
    assert suggestion.title == "Loops"
    assert suggestion.reason == "Learners who finished Intro went on to Loops."


@pytest.mark.django_db
def test_no_data_means_no_suggestions(learner):
    assert item_similarity([]).items == []
    assert courses_like_yours(learner=learner) == []
    assert lessons_like_yours(learner=learner) == []
    with pytest.raises(ValueError, match="No enrollments"):
        train_model(name="course_cf", now=NOW)
    with pytest.raises(ValueError, match="No lesson progress"):
        train_model(name="lesson_cf", now=NOW)


@pytest.mark.django_db
def test_a_version_in_an_older_format_serves_nothing(learner, catalog):
    # Versions stored before the numpy artifact (a scipy matrix) or anything else unusable:
    # no suggestions and no error until the weekly job trains a new version.
    old = ItemSimilarity([catalog[0].pk], np.zeros(2, dtype=np.int64), np.zeros(0), np.zeros(0))
    del old.__dict__["indptr"]
    registry.model_save(name="course_cf", artifact=old, now=NOW, activate=True)
    open_cf_gate()
    assert courses_like_yours(learner=learner) == []
    registry.model_save(name="course_cf", artifact={"v": 1}, now=NOW, activate=True)
    open_cf_gate()
    assert courses_like_yours(learner=learner) == []
    train_model(name="course_cf", now=NOW)
    open_cf_gate()
    assert [s.title for s in courses_like_yours(learner=learner)] == ["Flask APIs", "Data Viz"]
