"""Every catalogue edit moves the catalogue data version on (skillstudio.data_versions).

Signals rather than calls in each writer: the catalogue is edited through the Django
admin (forms, inlines, deletes and their cascades), the authoring API and services, and
a model signal is the one place none of them can bypass. Queryset ``update()`` sends no
signal, so the few bulk writers (publish / unpublish) call ``catalog_changed`` themselves.
Catalogue edits are rare, so one bump per saved row costs nothing that matters.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from assessments.models import Assessment, Choice, Question
from catalog.models import Course, CourseRun, Lesson, Module, Skill
from skillstudio.data_versions import catalog_changed

CATALOG_MODELS = (Skill, Course, CourseRun, Module, Lesson, Assessment, Question, Choice)
CATALOG_RELATIONS = (
    Course.skills.through,
    Course.prerequisites.through,
    Lesson.skills.through,
    Lesson.prerequisites.through,
)


def _catalog_row_changed(**kwargs: Any) -> None:
    catalog_changed()


def _catalog_relation_changed(*, action: str, **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        catalog_changed()


def connect() -> None:
    for model in CATALOG_MODELS:
        uid = f"catalog-version-{model._meta.label_lower}"
        post_save.connect(_catalog_row_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(_catalog_row_changed, sender=model, dispatch_uid=uid)
    for through in CATALOG_RELATIONS:
        m2m_changed.connect(
            _catalog_relation_changed,
            sender=through,
            dispatch_uid=f"catalog-version-{through._meta.label_lower}",
        )
