"""Data versions: cheap tokens that change whenever a learner's data (or the catalogue) does.

Read-side caches (the learner dashboard) put these tokens in their keys, so a write never
has to find and delete the entries it makes stale: it only moves the version on, and the
old entries are never read again and age out by their TTL.

Every write path calls ``learners_changed`` / ``catalog_changed`` inside its transaction;
the bump happens after commit, so a reader can never cache data from before a commit
under the version that follows it. A rolled-back write bumps nothing.

A learner's data has several kinds (``KINDS``), each with its own version, so a reader
that only depends on some kinds (a dashboard section) is not invalidated by a write to
another: an events batch moves ``ACTIVITY`` only, a lesson completion ``PROGRESS``, a quiz
``QUIZ``, a recommendation refresh ``RECOMMENDATIONS``. A write that does not say which
kinds it changed moves every kind on (the safe default); ``learner_versions`` combines
every kind, so a reader of "anything about the learner" sees every write.

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


# The kinds of a learner's data, by the rows behind them.
ACTIVITY = "activity"  # learner events (and their rollups)
PROGRESS = "progress"  # lesson progress and enrollments
QUIZ = "quiz"  # attempts, answers, skill states and the profile's skill levels
RECOMMENDATIONS = "recommendations"  # recommendation rows (cards, skips)
OTHER = "other"  # everything else: goals, paths, the profile, messages
KINDS = (ACTIVITY, PROGRESS, QUIZ, RECOMMENDATIONS, OTHER)


def _learner_key(learner_id: int, kind: str) -> str:
    return f"data-version:learner:{learner_id}:{kind}"


def learner_version_keys(learner_id: int) -> list[str]:
    """The cache keys of every kind of one learner's version (erasure drops them)."""
    return [_learner_key(learner_id, kind) for kind in KINDS]


def _bump(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=VERSION_TTL)
    except redis.exceptions.RedisError:
        logger.warning("Could not bump %d data version(s): Redis unreachable", len(keys))


def learners_changed(learner_ids: Iterable[int], *, kinds: Iterable[str] = KINDS) -> None:
    """Move these learners' versions of ``kinds`` (default: every kind) on once the current
    transaction commits."""
    kinds = tuple(kinds)
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"Unknown data kinds: {sorted(unknown) or 'none given'}")
    keys = sorted({_learner_key(pk, kind) for pk in learner_ids for kind in kinds})
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


def catalog_change_pending() -> bool:
    """The current transaction changed the catalogue and has not committed yet: its
    ``catalog_changed`` bump is still waiting (a rolled-back savepoint took its bump, and
    its edits, with it)."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(
        isinstance(callback, _CatalogBump) and not callback.done
        for _, callback, _ in connection.run_on_commit
    )


def catalog_memo_version() -> str | None:
    """The catalogue version a per-process memo of catalogue rows may be read and filled
    under by this caller, or None: read every row.

    The rule: a memo never serves, and is never filled from, a catalogue with a pending
    (uncommitted) version bump, i.e. inside a transaction that changed the catalogue: its
    rows are no committed version's. Any other caller, inside a transaction or not, reads
    the version first and the rows after: in READ COMMITTED (Django's default on
    PostgreSQL) each statement sees every commit made before it starts, and a catalogue
    write moves the version on only after its commit, so rows read after a version are
    never older than it (at worst they are a commit newer, memoised under a version that
    is about to move on). None as well when Redis is unreachable.
    """
    if catalog_change_pending():
        return None
    return catalog_version()


def learner_kind_versions(learner_ids: Iterable[int]) -> dict[int, dict[str, str]] | None:
    """Each learner's token per kind (that kind of their data and the catalogue), read in
    one round trip; None if Redis is down."""
    keys = {pk: {kind: _learner_key(pk, kind) for kind in KINDS} for pk in learner_ids}
    wanted = [key for own in keys.values() for key in own.values()] + [CATALOG_KEY]
    try:
        values = cache.get_many(wanted)
        for key in wanted:
            if key not in values:
                # add() keeps whichever token a concurrent reader stored first.
                cache.add(key, uuid.uuid4().hex, timeout=VERSION_TTL)
                values[key] = cache.get(key)
    except redis.exceptions.RedisError:
        return None
    catalog = values[CATALOG_KEY]
    return {
        pk: {kind: f"{values[key]}.{catalog}" for kind, key in own.items()}
        for pk, own in keys.items()
    }


def catalog_version() -> str | None:
    """The catalogue's token alone (as ``catalog_version_of`` finds it in a learner's
    versions), read in one round trip; None if Redis is down."""
    try:
        value = cache.get(CATALOG_KEY)
        if value is None:
            cache.add(CATALOG_KEY, uuid.uuid4().hex, timeout=VERSION_TTL)
            value = cache.get(CATALOG_KEY)
    except redis.exceptions.RedisError:
        return None
    return value


def combined_version(kind_versions: dict[str, str], kinds: Iterable[str] = KINDS) -> str:
    """One token for these kinds of one learner's data (and the catalogue): it changes
    whenever any of them does."""
    tokens = [kind_versions[kind].split(".")[0] for kind in kinds]
    return f"{'-'.join(tokens)}.{catalog_version_of(kind_versions)}"


def catalog_version_of(kind_versions: dict[str, str]) -> str:
    """The catalogue's token inside one learner's versions (``learner_kind_versions``)."""
    return kind_versions[KINDS[0]].split(".")[1]


def learner_versions(learner_ids: Iterable[int]) -> dict[int, str] | None:
    """Each learner's token for all of their data and the catalogue, read in one round
    trip; None if Redis is down."""
    versions = learner_kind_versions(learner_ids)
    if versions is None:
        return None
    return {pk: combined_version(own) for pk, own in versions.items()}


def learner_version(learner_id: int) -> str | None:
    """One learner's token (see ``learner_versions``); None if Redis is down."""
    versions = learner_versions([learner_id])
    return None if versions is None else versions[learner_id]
