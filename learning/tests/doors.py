"""Door equivalence: one learner action through the service, another through a door.

``compare_doors`` performs the action twice in one world: once for a twin learner by
calling the service directly, once for the learner through a door (HTML page, API).
Both must leave the same trace:

- the same change in row count of every table (all models, via django.apps),
- the same rows of their own (learner-owned tables, ids and timestamps left out),
- the same outbox jobs (insights.PendingJob), and
- the same data versions moved (skillstudio.data_versions: the learner's, the catalogue's).

On-commit callbacks are captured; the data-version bumps among them are run, the
outbox's sends are not (no broker round trip: the jobs stay pending, comparable).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import models

from accounts.models import User
from skillstudio.data_versions import CATALOG_KEY, learner_kind_versions, learner_version_keys
from skillstudio.jobs import send_job

# Learner-owned rows reached through another learner-owned row.
INDIRECT = {
    "learning.GoalSkill": "goal__learner",
    "assessments.Answer": "attempt__learner",
}


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _learner_lookup(model: type[models.Model]) -> str | None:
    label = model._meta.label
    if label in INDIRECT:
        return INDIRECT[label]
    for name in ("learner", "user"):
        field = next((f for f in model._meta.concrete_fields if f.name == name), None)
        if field is not None and field.is_relation and field.related_model is User:
            return name
    return None


def _owned_models() -> dict[str, tuple[type[models.Model], str]]:
    owned = {}
    for model in apps.get_models():
        lookup = _learner_lookup(model)
        if lookup and model is not User:
            owned[model._meta.label] = (model, lookup)
    return owned


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return "<time>"
    if isinstance(value, uuid.UUID):
        return "<uuid>"
    return value


def learner_rows(learner: User) -> dict[str, list]:
    """The learner's rows per table, without ids, timestamps or links to their own rows."""
    owned = _owned_models()
    rows: dict[str, list] = {}
    for label, (model, lookup) in owned.items():
        names = []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.is_relation and (
                field.related_model is User or field.related_model._meta.label in owned
            ):
                continue  # the learner themself, or a row of theirs (its id differs)
            names.append(field.attname)
        values = model._default_manager.filter(**{lookup: learner}).values_list(*names)
        found = sorted(repr(tuple(_plain(v) for v in row)) for row in values)
        if found:
            rows[label] = found
    from insights.models import PendingJob

    rows["insights.PendingJob"] = sorted(
        repr((job.task_name, job.status, job.send_attempts))
        for job in PendingJob.objects.filter(kwargs__learner_id=learner.pk)
    )
    return rows


def _versions(learner: User) -> dict[str, Any]:
    kinds = cache.get_many(learner_version_keys(learner.pk))
    return {"learner": sorted(kinds.items()), "catalog": cache.get(CATALOG_KEY)}


@dataclass
class Trace:
    counts: dict[str, int]
    rows: dict[str, list]
    versions_moved: dict[str, bool]
    result: Any


def perform(learner: User, action: Callable[[], Any], *, capture_on_commit: Callable) -> Trace:
    """Run ``action`` and record what it changed."""
    # The learner's and the catalogue's versions exist, as in a running system (any read
    # makes a missing one), so only a write can move them.
    learner_kind_versions([learner.pk])
    before, versions_before = table_counts(), _versions(learner)
    with capture_on_commit(execute=False) as callbacks:
        result = action()
    for callback in callbacks:
        if not (isinstance(callback, partial) and callback.func is send_job):
            callback()
    after, versions_after = table_counts(), _versions(learner)
    return Trace(
        counts={k: after[k] - before[k] for k in after if after[k] != before[k]},
        rows=learner_rows(learner),
        versions_moved={k: versions_after[k] != versions_before[k] for k in versions_after},
        result=result,
    )


def compare_doors(
    *,
    twin: User,
    learner: User,
    service: Callable[[], Any],
    door: Callable[[], Any],
    capture_on_commit: Callable,
    ignore: tuple[str, ...] = (),
) -> tuple[Trace, Trace]:
    """Perform the action for ``twin`` by the service and for ``learner`` by the door;
    assert both left the same trace (``ignore``: tables a door also writes by design,
    named with the reason at the call site). Returns both traces."""
    expected = perform(twin, service, capture_on_commit=capture_on_commit)
    actual = perform(learner, door, capture_on_commit=capture_on_commit)
    # Messages spelled out: pytest does not rewrite asserts in this helper module.
    assert actual.counts == expected.counts, f"door {actual.counts} != service {expected.counts}"
    door_rows = {k: v for k, v in actual.rows.items() if k not in ignore}
    service_rows = {k: v for k, v in expected.rows.items() if k not in ignore}
    assert door_rows == service_rows, f"door {door_rows} != service {service_rows}"
    assert actual.versions_moved == expected.versions_moved, (
        f"door {actual.versions_moved} != service {expected.versions_moved}"
    )
    return expected, actual
