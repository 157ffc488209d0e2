"""Per-process memos of catalogue rows, named by the catalogue's data version.

A catalogue row depends on the catalogue only, so the catalogue version
(``skillstudio.data_versions.catalog_memo_version``: None when this caller may not use a
memo) and the row's own key name it exactly, and a catalogue write, which moves the
version on, makes every memoised row unreachable. Bounded in number and in age: a
catalogue write that lost its version bump to a Redis outage shows within ``ttl``, as the
dashboards' own entries do.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any


class CatalogMemo:
    """Least recently used entries per (catalogue version, key), at most ``size`` of them,
    each for at most ``ttl`` seconds; safe to share between threads."""

    def __init__(self, *, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(
        self,
        version: str,
        keys: Iterable[Hashable],
        read: Callable[[set], dict],
    ) -> dict:
        """The value of each key, memoised ones from this version, the others through
        ``read`` (given the missing keys, it returns their values; a key it leaves out has
        none and is not memoised)."""
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
        if missing:
            fresh = read(missing)
            found.update(fresh)
            with self._lock:
                for key, value in fresh.items():
                    self._entries[(version, key)] = (now, value)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return found

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
