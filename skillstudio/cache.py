"""The Redis cache backend: Django's, with one redis-py client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache call, which
copies redis-py's table of ~170 response callbacks each time (~0.1 ms CPU). A dashboard
read after a write makes four or more cache calls, as do the throttles and data versions
of every write. A redis-py client holds no connection of its own (each command takes one
from the pool and gives it back) and is safe to share between threads, so one per pool
does the same work without the rebuilding.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        # By pool index (Django's: the first server writes, the others read). Two threads
        # racing on an empty slot each build one; either is right.
        self._shared: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._shared.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._shared[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
