"""The cache backend shares one redis-py client per connection pool (skillstudio.cache)."""

from __future__ import annotations

import threading

from django.core.cache import cache

from skillstudio.cache import SharedClientRedisCacheClient


def test_every_cache_call_uses_the_same_client():
    assert isinstance(cache._cache, SharedClientRedisCacheClient)
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is first
    assert first.connection_pool is cache._cache._get_connection_pool(write=True)


def test_threads_sharing_the_client_each_read_their_own_values():
    """As gunicorn's threads do: eight threads writing and reading their own keys at once."""
    wrong: list[tuple[int, int, object]] = []

    def work(thread: int) -> None:
        for n in range(50):
            key = f"test-shared-client:{thread}:{n}"
            cache.set(key, {"thread": thread, "n": n}, timeout=30)
            got = cache.get_many([key, f"test-shared-client:{thread}:missing"])
            if got != {key: {"thread": thread, "n": n}}:
                wrong.append((thread, n, got))

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wrong == []
    cache.delete_many([f"test-shared-client:{t}:{n}" for t in range(8) for n in range(50)])
