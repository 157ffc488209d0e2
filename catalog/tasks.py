"""Catalog tasks: search indexing after an edit, the tutor's study tip (through the outbox).

Idempotent: each recomputes the rows' search data from their current text.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from catalog import search, tutor_tips
from skillstudio.jobs import JobTask


@shared_task(base=JobTask, name=search.LESSON_INDEX_TASK)
def index_lesson(lesson_id: int) -> bool:
    return search.lesson_index(lesson_id=lesson_id)


@shared_task(base=JobTask, name=search.COURSE_INDEX_TASK)
def index_course(course_id: int) -> int:
    return search.courses_index(course_ids=[course_id])


@shared_task(base=JobTask, name=tutor_tips.STUDY_TIP_TASK)
def study_tip(learner_id: int) -> bool:
    """The learner's dashboard study tip from their current figures (catalog.tutor_tips)."""
    return tutor_tips.study_tip_refresh(learner_id=learner_id, now=timezone.now()) is not None
