""" "Learners like you" mixed into the engine's course recommendations."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Course
from catalog.tests.factories import CourseFactory
from insights.ml import registry
from insights.ml.cf import cf_course_suggestions
from insights.ml.training import train_model
from insights.models import MLModel, Recommendation
from insights.recommendations import (
    recommendation_act,
    refresh_recommendations,
)
from insights.tests.factories import LearningPathSnapshotFactory
from insights.tests.helpers import NOW, course_recommendations
from insights.tests.ml_helpers import open_cf_gate
from learning.models import Enrollment
from learning.tests.factories import EnrollmentFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses(learner):
    """Learners' courses (c = completed, weight 2; e = enrolled, weight 1):

    o1, o2: Python Basics c, Flask APIs e, (o1) Draft e;  o3: Python Basics e, Data Viz e;
    o4, o5: Python Basics e, SQL e;  the learner: Python Basics c.
    """
    names = ("Python Basics", "Flask APIs", "Data Viz", "SQL")
    basics, flask, viz, sql = (CourseFactory(title=t) for t in names)
    draft = CourseFactory(title="Draft", status=Course.Status.DRAFT)
    for n in range(2):
        other = EnrollmentFactory(course=basics, status="completed").learner
        EnrollmentFactory(learner=other, course=flask)
        if n == 0:
            EnrollmentFactory(learner=other, course=draft)
    EnrollmentFactory(learner=EnrollmentFactory(course=basics).learner, course=viz)
    for _ in range(2):
        EnrollmentFactory(learner=EnrollmentFactory(course=basics).learner, course=sql)
    EnrollmentFactory(learner=learner, course=basics, status="completed")
    # The learner's goal path suggests Flask APIs already.
    goal = LearningGoalFactory(learner=learner, title="Web developer")
    LearningPathSnapshotFactory(
        goal=goal,
        is_active=True,
        items=[{"id": flask.pk, "title": "Flask APIs", "reason": "Builds skills in flask"}],
    )
    return basics, flask, viz, sql, draft


def course_cards(recs: list[Recommendation]) -> list[tuple[str, str, float]]:
    return [(r.course.title, r.reason, r.score) for r in recs if r.kind == "course"]


def test_no_active_model_means_goal_path_courses_only(learner, courses):
    recs = refresh_recommendations(learner=learner, now=NOW)
    assert course_cards(recs) == [("Flask APIs", "Builds skills in flask", 0.6)]


def test_learners_like_you_follow_the_goal_path_without_duplicates(learner, courses):
    basics, flask, _, sql, _ = courses
    train_model(name="course_cf", now=NOW)
    open_cf_gate()
    # Vectors over (o1..o5, learner): Basics (2,2,1,1,1,2), Flask (1,1,0,0,0,0),
    # SQL (0,0,0,1,1,0), Data Viz (0,0,1,0,0,0). cos(Basics, Flask) = 4/sqrt(30) = 0.730,
    # cos(Basics, SQL) = 2/sqrt(30) = 0.365, cos(Basics, Viz) = 1/sqrt(15) = 0.258; the
    # learner finished Basics (x2). Flask ranks first but is already on the goal path, the
    # draft course is never suggested, and two CF cards follow the goal-path one.
    recs = refresh_recommendations(learner=learner, now=NOW)
    assert course_cards(recs) == [
        ("Flask APIs", "Builds skills in flask", 0.6),
        ("SQL", "Learners who finished Python Basics went on to SQL.", 0.59),
        ("Data Viz", "Learners who finished Python Basics went on to Data Viz.", 0.58),
    ]
    sql_card = next(r for r in recs if r.course_id == sql.pk)
    assert sql_card.source_snapshot_id is None
    assert sql_card.payload["source"] == "learners_like_you"
    assert sql_card.payload["because_course_id"] == basics.pk
    assert next(r for r in recs if r.course_id == flask.pk).payload["source"] == "goal_path"

    # Skipped: not suggested again within the cooldown, and nothing takes its place but
    # what is left (the enrolled, completed and draft courses stay out).
    recommendation_act(recommendation=sql_card, action="skipped", now=NOW)
    EnrollmentFactory(learner=learner, course=flask)
    later = refresh_recommendations(learner=learner, now=NOW + timedelta(days=1))
    assert course_cards(later) == [
        ("Data Viz", "Learners who finished Python Basics went on to Data Viz.", 0.6)
    ]


def test_the_hook_adds_no_query(learner, courses):
    train_model(name="course_cf", now=NOW)
    open_cf_gate()

    def suggestions_and_queries() -> tuple[list[str], int]:
        registry.active_model("course_cf")  # the loader's periodic check, done beforehand
        with CaptureQueriesContext(connection) as captured:
            found = course_recommendations(learner=learner, now=NOW)
        return [s.source for s in found], len(captured.captured_queries)

    with_cf = suggestions_and_queries()
    MLModel.objects.update(is_active=False)
    registry.loader.clear()
    without_cf = suggestions_and_queries()
    # Paths, enrollments and skipped recommendations (3), then the lock rule for the
    # suggested courses: the learner's facts (3) and the courses' graph (2 per level of
    # prerequisites, skill names). The CF artifact itself adds no query: only the
    # suggested courses' prerequisites may add a graph level.
    assert with_cf[0] == ["goal_path", "learners_like_you", "learners_like_you"]
    assert without_cf[0] == ["goal_path"]
    assert without_cf[1] <= with_cf[1] <= without_cf[1] + 2


def test_batch_suggestions_read_the_artifact_only(learner, other_learner, courses):
    basics, _, viz, sql, _ = courses
    train_model(name="course_cf", now=NOW)
    open_cf_gate()
    registry.active_model("course_cf")
    with CaptureQueriesContext(connection) as captured:
        found = cf_course_suggestions(
            learner_courses={learner.pk: {basics.pk}, other_learner.pk: {viz.pk}, 0: set()},
            completed={learner.pk: {basics.pk}},
            exclude={learner.pk: {sql.pk}},
            limit=5,
        )
    assert captured.captured_queries == []
    assert [s.title for s in found[learner.pk]] == ["Flask APIs", "Data Viz"]
    # Data Viz was taken by o3 only, with Python Basics: the one course to suggest.
    (viz_suggestion,) = found[other_learner.pk]
    assert viz_suggestion.reason == "Learners who took Data Viz went on to Python Basics."
    assert 0 not in found  # nothing to go on, nothing suggested


@pytest.fixture
def tracks(db):
    """Three tracks of three courses (X1 -> X2 -> X3) and a popular elective P.

    Per track, ten learners finished X1 and X2; six of them (j = 0..5) are enrolled in X3
    and six (j % 3 != 0) in P. Two newcomers per track finished X1 only: X2 is what they
    take next (held out). Each newcomer's goal path suggests Career Skills, which nobody took.
    """
    career = CourseFactory(title="Career Skills")
    popular = CourseFactory(title="P")
    courses = {t: [CourseFactory(title=f"{t}{n}") for n in (1, 2, 3)] for t in "ABC"}
    for first, second, third in courses.values():
        for j in range(10):
            learner = EnrollmentFactory(course=first, status="completed").learner
            EnrollmentFactory(learner=learner, course=second, status="completed")
            if j < 6:
                EnrollmentFactory(learner=learner, course=third)
            if j % 3:
                EnrollmentFactory(learner=learner, course=popular)
    newcomers = {}
    for first, second, _ in courses.values():
        for _ in range(2):
            learner = EnrollmentFactory(course=first, status="completed").learner
            goal = LearningGoalFactory(learner=learner)
            LearningPathSnapshotFactory(
                goal=goal,
                is_active=True,
                items=[{"id": career.pk, "title": "Career Skills", "reason": "For your goal"}],
            )
            newcomers[learner] = second
    return newcomers


def hit_rate(newcomers: dict, suggest) -> float:
    hits = [held_out.pk in suggest(learner) for learner, held_out in newcomers.items()]
    return sum(hits) / len(hits)


def test_the_mix_finds_what_newcomers_take_next(tracks):
    def mixed(learner) -> list[int]:
        return [s.course_id for s in course_recommendations(learner=learner, now=NOW)]

    # Goal paths alone never suggest a track's next course.
    assert hit_rate(tracks, mixed) == 0.0

    train_model(name="course_cf", now=NOW)
    # A newcomer finished X1 (weight 2). Over X1's 12 learners (all weight 2):
    # cos(X1, X2) = 10*4 / (2 sqrt(12) * 2 sqrt(10)) = 0.913 (ten weight-2 learners),
    # cos(X1, X3) = 6*2 / (2 sqrt(12) * sqrt(6)) = 0.707, cos(X1, P) = 6*2 / (2 sqrt(12) *
    # sqrt(18)) = 0.408: the two CF cards are X2 then X3, after the goal-path card.
    assert hit_rate(tracks, mixed) == 1.0
    learner = next(iter(tracks))
    cards = course_recommendations(learner=learner, now=NOW)
    assert [(c.title, c.source) for c in cards] == [
        ("Career Skills", "goal_path"),
        ("A2", "learners_like_you"),
        ("A3", "learners_like_you"),
    ]
    assert cards[1].reason == "Learners who finished A1 went on to A2."

    # Popularity (enrollment counts: P 18, X1 12, X2 10, X3 6) would fill two course slots
    # with P and another track's first course: never the held-out X2.
    counts = Counter(Enrollment.objects.values_list("course_id", flat=True))

    def popular(learner) -> list[int]:
        mine = set(learner.enrollments.values_list("course_id", flat=True))
        ranked = sorted(counts, key=lambda c: (-counts[c], c))
        return [c for c in ranked if c not in mine][:2]

    assert hit_rate(tracks, popular) == 0.0


def test_evaluate_recommender_on_the_platform_sample(tracks):
    out = StringIO()
    call_command("evaluate_recommender", stdout=out)
    text = out.getvalue()
    # 36 learners over 10 courses (nobody took Career Skills); the 30 with two or more
    # courses each have one held out. The courses CF scores above zero share learners with
    # a seen one: the user's own track and P, at most four, so the held-out one is always
    # in CF's top five (1 hit of 5) and top ten.
    assert "36 users, 10 items" in text
    random_part, temporal_part = text.split("(temporal)")
    assert "held out (seeded): 30 users tested" in random_part
    assert "item-item CF (cosine)                  precision@5 0.200, recall@10 1.000" in (
        random_part
    )
    popular_p5 = float(random_part.split("popularity")[-1].split("precision@5 ")[1][:5])
    assert popular_p5 < 0.2
    assert "30 users tested" in temporal_part
