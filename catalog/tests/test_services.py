from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Course
from catalog.services import (
    course_prerequisites_set,
    courses_publish,
    find_prerequisite_cycle,
)
from catalog.tests.factories import CourseFactory


def walk(graph: dict[int, list[int]]):
    def edges_from(frontier: set[int]):
        return [(item, req) for item in frontier for req in graph.get(item, [])]

    return edges_from


def test_diamond_is_not_a_cycle():
    # 4 requires 2 and 3, both require 1: giving 1 no prerequisites is fine,
    # and giving 4 another path to 1 is fine too.
    graph = {4: [2, 3], 2: [1], 3: [1]}

    cycle = find_prerequisite_cycle(node_id=4, prerequisite_ids=[2, 3, 1], edges_from=walk(graph))

    assert cycle is None


def test_cycle_path_runs_from_the_edited_item_back_to_itself():
    graph = {2: [3], 3: [4], 4: [1], 5: [6]}

    cycle = find_prerequisite_cycle(node_id=1, prerequisite_ids=[5, 2], edges_from=walk(graph))

    # 1 would require 2, which requires 3, then 4, which requires 1.
    assert cycle == [1, 2, 3, 4, 1]


def test_replaced_prerequisites_are_not_followed():
    # 1 currently requires 2 and 2 requires nothing: replacing 1's list with
    # [3] must not find a cycle through the old edge 1 → 2.
    graph = {1: [2], 3: []}

    assert find_prerequisite_cycle(node_id=1, prerequisite_ids=[3], edges_from=walk(graph)) is None


def test_unsaved_item_cannot_close_a_cycle():
    assert find_prerequisite_cycle(node_id=None, prerequisite_ids=[1], edges_from=walk({})) is None


@pytest.mark.django_db
def test_prerequisites_set_rejects_cycle_and_keeps_previous_state():
    first = CourseFactory(title="First")
    second = CourseFactory(title="Second", prerequisites=[first])

    with pytest.raises(ValidationError) as excinfo:
        course_prerequisites_set(course=first, prerequisites=[second])

    assert excinfo.value.message_dict == {
        "prerequisites": [
            "These prerequisites would create a cycle: “First” → “Second” → “First” "
            "(each course requires the next one)."
        ]
    }
    assert list(first.prerequisites.all()) == []
    course_prerequisites_set(course=second, prerequisites=[])
    course_prerequisites_set(course=first, prerequisites=[second])
    assert list(first.prerequisites.all()) == [second]


@pytest.mark.django_db
def test_publish_only_touches_drafts():
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    live = CourseFactory(status=Course.Status.PUBLISHED, published_at=earlier)
    draft = CourseFactory(status=Course.Status.DRAFT)

    changed = courses_publish(courses=Course.objects.all(), now=now)

    live.refresh_from_db()
    draft.refresh_from_db()
    assert changed == 1
    assert (live.published_at, draft.published_at) == (earlier, now)
