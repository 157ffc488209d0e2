"""Per-process memos of catalogue rows, shared between processes through Redis
(skillstudio.memo)."""

from __future__ import annotations

import logging

import pytest
import redis
from django.core.cache import cache

from skillstudio import memo as memo_module
from skillstudio.memo import CatalogMemo

TTL = 600.0


class Clock:
    """Both clocks the memo reads, moved by hand (the monotonic one per process)."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0
        self.mono = 50.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(memo_module, "time", clock)
    return clock


class Reads:
    """A row reader that records the keys it was asked for."""

    def __init__(self) -> None:
        self.asked: list[set] = []

    def __call__(self, keys: set) -> dict:
        self.asked.append(set(keys))
        return {key: f"row {key}" for key in keys if key != "absent"}


def process(shared: str | None = "test-rows") -> CatalogMemo:
    """A fresh memo, as another worker process holds its own."""
    return CatalogMemo(size=100, ttl=TTL, shared=shared)


def test_a_row_one_process_read_is_not_read_again_by_another(clock):
    web, worker = process(), process()
    reads = Reads()

    assert web.get_many("v1", ["a", "b", "absent"], reads) == {"a": "row a", "b": "row b"}
    assert worker.get_many("v1", ["a", "b", "c"], reads) == {
        "a": "row a",
        "b": "row b",
        "c": "row c",
    }
    # The second process read only the row nobody had; the absent key is read again.
    assert reads.asked == [{"a", "b", "absent"}, {"c"}]
    assert worker.get_many("v1", ["absent"], reads) == {}
    assert reads.asked[-1] == {"absent"}


def test_another_catalogue_version_shares_nothing(clock):
    reads = Reads()
    process().get_many("v1", ["a"], reads)
    process().get_many("v2", ["a"], reads)
    assert reads.asked == [{"a"}, {"a"}]


def test_a_memo_without_sharing_leaves_the_cache_alone(clock):
    reads = Reads()
    process(shared=None).get_many("v1", ["a"], reads)
    process(shared=None).get_many("v1", ["a"], reads)
    assert reads.asked == [{"a"}, {"a"}]


def test_a_shared_row_keeps_its_age_in_every_process(clock):
    """``ttl`` bounds a row's age from its first read, whichever process holds it."""
    reads = Reads()
    process().get_many("v1", ["a"], reads)
    clock.advance(TTL - 10)
    late = process()
    assert late.get_many("v1", ["a"], reads) == {"a": "row a"}
    assert len(reads.asked) == 1  # from the shared row

    clock.advance(11)  # the row is now older than ttl: this process reads it again
    assert late.get_many("v1", ["a"], reads) == {"a": "row a"}
    assert len(reads.asked) == 2
    # ... and shares the fresh row, which another process takes at its new age.
    clock.advance(TTL - 10)
    assert process().get_many("v1", ["a"], reads) == {"a": "row a"}
    assert len(reads.asked) == 2


def test_an_unreachable_cache_only_costs_the_reads(clock, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get_many", unreachable)
    monkeypatch.setattr(cache, "set_many", unreachable)
    reads = Reads()
    web = process()

    with caplog.at_level(logging.WARNING, logger="skillstudio.memo"):
        assert web.get_many("v1", ["a", "b"], reads) == {"a": "row a", "b": "row b"}
    assert reads.asked == [{"a", "b"}]
    assert "Cache unreachable" in caplog.text
    # The process still memoises what it read.
    assert web.get_many("v1", ["a", "b"], reads) == {"a": "row a", "b": "row b"}
    assert len(reads.asked) == 1
