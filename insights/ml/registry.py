"""Model registry: trained models stored as `MLModel` versions, one active per name.

Every web and worker process keeps the active version of each model it has used in a
process-local cache and re-checks, at most every `check_seconds`, which version is active
with one query on the partial unique index (name, is_active). Activating or rolling back
a version therefore reaches every process within that interval, without a restart.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from insights.models import MLModel

DEFAULT_CHECK_SECONDS = 30.0


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown name or version, nothing to roll back)."""


def model_save(
    *,
    name: str,
    artifact: Any,
    now: datetime,
    parameters: dict | None = None,
    metrics: dict | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    notes: str = "",
    activate: bool = False,
) -> MLModel:
    """Store `artifact` (any picklable object we produced) as the next version of `name`."""
    with transaction.atomic():
        # Lock the existing versions of this name so two trainers cannot take the same number.
        list(MLModel.objects.select_for_update().filter(name=name).values_list("id", flat=True))
        last = MLModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
        version = MLModel.objects.create(
            name=name,
            version=last + 1,
            trained_at=now,
            training_window_start=window_start,
            training_window_end=window_end,
            parameters=parameters or {},
            metrics=metrics or {},
            artifact=pickle.dumps(artifact, protocol=pickle.HIGHEST_PROTOCOL),
            notes=notes,
        )
        if activate:
            model_activate(name=name, version=version.version)
            version.refresh_from_db()
    return version


def model_activate(*, name: str, version: int) -> MLModel:
    """Make `version` the active one of `name` (the previous active one is deactivated)."""
    with transaction.atomic():
        target = MLModel.objects.select_for_update().filter(name=name, version=version).first()
        if target is None:
            raise RegistryError(f"No version {version} of model {name!r}.")
        # Deactivate first: the partial unique index allows one active row per name.
        MLModel.objects.filter(name=name, is_active=True).exclude(pk=target.pk).update(
            is_active=False
        )
        if not target.is_active:
            target.is_active = True
            target.save(update_fields=["is_active"])
        # This process serves the new version at once (forgotten again on commit, in case
        # it was re-read inside this transaction); other processes within `check_seconds`.
        loader.forget(name)
        transaction.on_commit(lambda: loader.forget(name))
    return target


def model_rollback(*, name: str) -> MLModel:
    """Activate the newest version older than the active one of `name`."""
    active = MLModel.objects.filter(name=name, is_active=True).first()
    if active is None:
        raise RegistryError(f"Model {name!r} has no active version to roll back from.")
    previous = (
        MLModel.objects.filter(name=name, version__lt=active.version).order_by("-version").first()
    )
    if previous is None:
        raise RegistryError(
            f"Model {name!r} v{active.version} is the oldest version; nothing to roll back to."
        )
    return model_activate(name=name, version=previous.version)


def artifact_of(model: MLModel) -> Any:
    """Unpickle a stored artifact (None for parameter-only models such as BKT).

    Only `model_save` writes artifacts, from our own training runs.
    """
    if model.artifact is None:
        return None
    return pickle.loads(bytes(model.artifact))  # noqa: S301 - written by model_save only


@dataclass(frozen=True)
class LoadedModel:
    id: int
    name: str
    version: int
    artifact: Any
    # The version's stored metrics (serving may depend on them, e.g. the CF gate).
    metrics: dict = field(default_factory=dict)


class ModelLoader:
    """Per-process cache of the active version of each model name."""

    def __init__(
        self,
        *,
        check_seconds: float = DEFAULT_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.check_seconds = check_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, LoadedModel] = {}
        self._checked_at: dict[str, float] = {}

    def get(self, name: str) -> LoadedModel | None:
        """The active version of `name`, or None when no version is active."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(name)
            checked = self._checked_at.get(name)
            if checked is not None and now - checked < self.check_seconds:
                return cached
            # One indexed query for the active id; the artifact is only fetched when it changed.
            active = MLModel.objects.filter(name=name, is_active=True)
            active_id = active.values_list("id", flat=True).first()
            self._checked_at[name] = now
            if active_id is None:
                self._cache.pop(name, None)
                return None
            if cached is None or cached.id != active_id:
                row = MLModel.objects.get(pk=active_id)
                cached = LoadedModel(
                    id=row.id,
                    name=row.name,
                    version=row.version,
                    artifact=artifact_of(row),
                    metrics=dict(row.metrics or {}),
                )
                self._cache[name] = cached
            return cached

    def forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
            self._checked_at.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._checked_at.clear()


# The process-wide loader used by serving code (web requests, Celery tasks).
loader = ModelLoader()


def active_model(name: str) -> LoadedModel | None:
    return loader.get(name)
