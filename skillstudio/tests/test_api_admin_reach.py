"""Admins reach every learner's objects through the API (SPEC §5); learners never do."""

from __future__ import annotations

import pytest

from skillstudio.testing import build_world

LISTS = ("goals", "enrollments", "progress")


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_admin_lists_every_learners_rows_and_filters_by_learner(
    path, as_user, learner, other_learner, instructor, admin_user
):
    world = build_world(learner=learner, instructor=instructor)
    own = {"goals": world.goal, "enrollments": world.enrollment, "progress": world.progress}[path]

    admin = as_user(admin_user)
    assert own.pk in _ids(admin.get(f"/api/v1/learning/{path}/"))
    assert _ids(admin.get(f"/api/v1/learning/{path}/?learner={learner.pk}")) == {own.pk}
    assert _ids(admin.get(f"/api/v1/learning/{path}/?learner={other_learner.pk}")) == set()

    row = admin.get(f"/api/v1/learning/{path}/{own.pk}/").json()
    assert row["learner"] == learner.pk


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_a_learner_filtering_by_another_learner_sees_nothing(
    path, as_user, learner, other_learner, instructor
):
    build_world(learner=learner, instructor=instructor)
    response = as_user(other_learner).get(f"/api/v1/learning/{path}/?learner={learner.pk}")
    assert _ids(response) == set()


@pytest.mark.django_db
def test_admin_reads_an_attempt_but_cannot_answer_it(as_user, learner, instructor, admin_user):
    world = build_world(learner=learner, instructor=instructor)
    admin = as_user(admin_user)

    assert _ids(admin.get(f"/api/v1/attempts/?learner={learner.pk}")) == {world.attempt.pk}
    response = admin.post(
        f"/api/v1/attempts/{world.attempt.pk}/submit/", {"responses": {}}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only the learner who started this attempt can submit it."
    )
    world.attempt.refresh_from_db()
    assert world.attempt.submitted_at is None


@pytest.mark.django_db
def test_admin_updates_a_learners_goal_and_it_stays_theirs(
    as_user, learner, instructor, admin_user
):
    world = build_world(learner=learner, instructor=instructor)
    response = as_user(admin_user).patch(
        f"/api/v1/learning/goals/{world.goal.pk}/", {"weekly_hours": 6}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["learner"] == learner.pk
    assert response.json()["weekly_hours"] == "6.0"


@pytest.mark.django_db
def test_an_unknown_learner_id_is_an_empty_list_not_an_error(as_user, learner, instructor):
    build_world(learner=learner, instructor=instructor)
    response = as_user(learner).get("/api/v1/learning/goals/?learner=999999")
    assert _ids(response) == set()


@pytest.mark.django_db
def test_admin_reads_a_learners_path_history_but_cannot_act_on_their_recommendation(
    as_user, learner, instructor, admin_user
):
    world = build_world(learner=learner, instructor=instructor)
    admin = as_user(admin_user)

    history = admin.get(f"/api/v1/ai/learning-path/history?goal_id={world.goal.pk}")
    assert history.status_code == 200, history.content
    assert [v["version"] for v in history.json()["results"]] == [world.snapshot.version]

    response = admin.post(
        f"/api/v1/ai/recommendations/{world.recommendation.pk}/action",
        {"action": "skipped"},
        format="json",
    )
    assert response.status_code == 403
    world.recommendation.refresh_from_db()
    assert world.recommendation.status == "active"


@pytest.mark.django_db
def test_a_learner_filter_that_is_not_a_number_is_a_400(as_user, admin_user):
    response = as_user(admin_user).get("/api/v1/learning/goals/?learner=abc")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"learner": ["Enter a number."]}
