"""Sessions: stored in PostgreSQL, read from a short-lived copy in Redis.

Every signed-in page read its session row from PostgreSQL (one query per request). Django's
``cached_db`` engine reads it from the cache and falls back to the row; this store is that
engine with two changes:

- Redis is only ever a copy: when it is unreachable a session is read from and written to
  PostgreSQL as before, never an error (logging in never depends on Redis; Django's engine
  raises when it cannot fill the copy after a miss, or check a new key against it).
- A copy lives at most ``CACHED_SECONDS``, not the session's two weeks. Ending a session
  (logout, a new login's new key, erasure) deletes the row and then the copy; if Redis is
  unreachable at that moment the copy cannot be deleted, and would otherwise serve the
  ended session until it expired. The cap bounds that to minutes, at the price of one row
  read per session every ``CACHED_SECONDS``; it bounds as well how long a copy can lag
  behind a session change that could not reach Redis.

The user is still read from PostgreSQL on every request (``accounts.backends``): a
deactivated user, a changed password (the session's hash no longer matches) or an erased
account ends the session at once whatever the copy holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import cache

logger = logging.getLogger(__name__)

# How long Redis may serve a session without reading its row again (seconds).
CACHED_SECONDS = 300


def _cache_key(session_key: str) -> str:
    return KEY_PREFIX + session_key


def forget_cached_sessions(session_keys: Iterable[str]) -> None:
    """Drop the Redis copies of sessions whose rows were deleted without the store (erasure
    deletes rows in bulk). Unreachable Redis is logged: the copies expire within
    ``CACHED_SECONDS``."""
    keys = [_cache_key(key) for key in session_keys]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except redis.exceptions.RedisError:
        logger.error(
            "Redis unreachable: %s ended sessions stay cached until they expire", len(keys)
        )


class SessionStore(DBStore):
    """The database store, read through a capped Redis copy (see the module docstring)."""

    def _cache_seconds(self, expiry_age: int) -> int:
        return max(0, min(expiry_age, CACHED_SECONDS))

    def _set_copy(self, data: dict, expiry_age: int) -> None:
        try:
            cache.set(_cache_key(self.session_key), data, self._cache_seconds(expiry_age))
        except redis.exceptions.RedisError:
            logger.warning("Redis unreachable: session read from PostgreSQL only")

    def load(self) -> dict:
        try:
            data = cache.get(_cache_key(self.session_key))
        except redis.exceptions.RedisError:
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._set_copy(data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        self._set_copy(self._session, self.get_expiry_age())

    def delete(self, session_key: str | None = None) -> None:
        super().delete(session_key)
        session_key = session_key or self.session_key
        if session_key is not None:
            forget_cached_sessions([session_key])
