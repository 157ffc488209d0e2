"""Data versions: cheap tokens that change whenever a learner's data (or the catalogue) does.

Read-side caches (the learner dashboard) put these tokens in their keys, so a write never
has to find and delete the entries it makes stale: it only moves the version on, and the
old entries are never read again and age out by their TTL.

Every write path calls ``learners_changed`` / ``catalog_changed`` inside its transaction;
the bump happens after commit, so a reader can never cache data from before a commit
under the version that follows it. A rolled-back write bumps nothing.

Versions live in the Django cache (Redis). When Redis is unreachable, ``learner_version``
returns None and callers skip their cache; a bump lost to an outage leaves an entry stale
for at most its TTL, which is why cached entries keep short TTLs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import redis.exceptions
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CATALOG_KEY = "data-version:catalog"
# Versions outlive the entries keyed on them by far; a version that expires anyway is
# replaced by a fresh token, which only costs one recomputation.
VERSION_TTL = 7 * 24 * 3600


def _learner_key(learner_id: int) -> str:
    return f"data-version:learner:{learner_id}"


def _bump(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=VERSION_TTL)
    except redis.exceptions.RedisError:
        logger.warning("Could not bump %d data version(s): Redis unreachable", len(keys))


def learners_changed(learner_ids: Iterable[int]) -> None:
    """Move these learners' versions on once the current transaction commits."""
    keys = sorted({_learner_key(pk) for pk in learner_ids})
    if keys:
        transaction.on_commit(lambda: _bump(keys))


class _CatalogBump:
    """The pending catalogue bump of one transaction (see ``catalog_changed``)."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        _bump([CATALOG_KEY])


def catalog_changed() -> None:
    """Move the catalogue version on once the current transaction commits.

    However often a transaction calls it (a course saved with its skills, prerequisites
    and modules), the version moves once. The pending callbacks are Django's own list, so
    a rolled-back savepoint drops its bump with everything else it did (and a later
    write registers a new one).
    """
    connection = transaction.get_connection()
    if any(
        isinstance(callback, _CatalogBump) and not callback.done
        for _, callback, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_CatalogBump())


def learner_versions(learner_ids: Iterable[int]) -> dict[int, str] | None:
    """Each learner's token (their own data and the catalogue), read in one round trip;
    None if Redis is down."""
    keys = {pk: _learner_key(pk) for pk in learner_ids}
    wanted = [*keys.values(), CATALOG_KEY]
    try:
        values = cache.get_many(wanted)
        for key in wanted:
            if key not in values:
                # add() keeps whichever token a concurrent reader stored first.
                cache.add(key, uuid.uuid4().hex, timeout=VERSION_TTL)
                values[key] = cache.get(key)
    except redis.exceptions.RedisError:
        return None
    return {pk: f"{values[key]}.{values[CATALOG_KEY]}" for pk, key in keys.items()}


def learner_version(learner_id: int) -> str | None:
    """One learner's token (see ``learner_versions``); None if Redis is down."""
    versions = learner_versions([learner_id])
    return None if versions is None else versions[learner_id]
