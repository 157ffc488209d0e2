"""Per-process memos of catalogue rows, named by the catalogue's data version.

A catalogue row depends on the catalogue only, so the catalogue version
(``skillstudio.data_versions.catalog_memo_version``: None when this caller may not use a
memo) and the row's own key name it exactly, and a catalogue write, which moves the
version on, makes every memoised row unreachable. Bounded in number and in age: a
catalogue write that lost its version bump to a Redis outage shows within ``ttl``, as the
dashboards' own entries do.

A memo may also share its rows through the cache (Redis), under the same names: a row one
process read is then read from Redis by the others (web and Celery workers alike), not
from PostgreSQL by each. A shared row keeps the time it was first read, so ``ttl`` bounds
its age in every process, and the version's argument holds unchanged: a row is stored
under a version only by a caller that read the version before the row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import redis
from django.core.cache import cache

logger = logging.getLogger(__name__)


class CatalogMemo:
    """Least recently used entries per (catalogue version, key), at most ``size`` of them,
    each for at most ``ttl`` seconds; safe to share between threads.

    ``shared``: a cache key prefix; the rows missing here are looked up in the cache before
    they are read, and the rows read are stored there for ``ttl`` (see the module
    docstring). Redis unreachable only costs the reads."""

    def __init__(self, *, size: int, ttl: float, shared: str | None = None) -> None:
        self.size = size
        self.ttl = ttl
        self.shared = shared
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(
        self,
        version: str,
        keys: Iterable[Hashable],
        read: Callable[[set], dict],
    ) -> dict:
        """The value of each key, memoised ones from this version, the others from the
        shared rows (``shared``) or through ``read`` (given the missing keys, it returns
        their values; a key it leaves out has none and is not memoised)."""
        now = time.monotonic()
        found, missing = {}, set()
        with self._lock:
            for key in keys:
                entry = self._entries.get((version, key))
                if entry is not None and now - entry[0] < self.ttl:
                    self._entries.move_to_end((version, key))
                    found[key] = entry[1]
                else:
                    missing.add(key)
        if not missing:
            return found
        # Each row with the time it was read, on this process's clock: a shared row is as
        # old here as it is in the cache.
        stamped = self._shared_get(version, missing, now) if self.shared else {}
        unread = missing - stamped.keys()
        if unread:
            fresh = read(unread)
            if self.shared and fresh:
                self._shared_set(version, fresh)
            stamped.update((key, (now, value)) for key, value in fresh.items())
        with self._lock:
            for key, (stamp, value) in stamped.items():
                self._entries[(version, key)] = (stamp, value)
                found[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return found

    def _shared_key(self, version: str, key: Hashable) -> str:
        parts = key if isinstance(key, tuple) else (key,)
        return ":".join([self.shared, version, *map(str, parts)])

    def _shared_get(self, version: str, keys: set, now: float) -> dict[Hashable, tuple]:
        """The shared rows of these keys still younger than ``ttl``, stamped on ``now``'s
        clock (``time.monotonic``) with the age they have in the cache."""
        names = {self._shared_key(version, key): key for key in keys}
        try:
            stored = cache.get_many(list(names))
        except redis.exceptions.RedisError:
            logger.warning("Cache unreachable; reading catalogue rows without it")
            return {}
        wall = time.time()
        stamped = {}
        for name, (read_at, value) in stored.items():
            age = max(0.0, wall - read_at)
            if age < self.ttl:
                stamped[names[name]] = (now - age, value)
        return stamped

    def _shared_set(self, version: str, rows: dict) -> None:
        read_at = time.time()
        entries = {self._shared_key(version, key): (read_at, value) for key, value in rows.items()}
        try:
            cache.set_many(entries, timeout=self.ttl)
        except redis.exceptions.RedisError:
            logger.warning("Cache unreachable; catalogue rows not shared")

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def keyed_read(read: Callable[[set], dict]) -> Callable[[set[tuple]], dict[tuple, Any]]:
    """``read`` over bare keys, for memo keys (kind, key) of one kind."""

    def keyed(missing: set[tuple]) -> dict[tuple, Any]:
        kind = next(iter(missing))[0]
        return {(kind, key): value for key, value in read({key for _, key in missing}).items()}

    return keyed
