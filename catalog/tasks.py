"""Catalog tasks: search indexing after an edit (queued through the outbox).

Idempotent: each recomputes the rows' search data from their current text.
"""

from __future__ import annotations

from celery import shared_task

from catalog import search
from skillstudio.jobs import JobTask


@shared_task(base=JobTask, name=search.LESSON_INDEX_TASK)
def index_lesson(lesson_id: int) -> bool:
    return search.lesson_index(lesson_id=lesson_id)


@shared_task(base=JobTask, name=search.COURSE_INDEX_TASK)
def index_course(course_id: int) -> int:
    return search.courses_index(course_ids=[course_id])
