"""Splitting a stream of ids into fixed-size chunks for set-based work."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items; reads ``items`` lazily, one chunk ahead."""
    if size < 1:
        raise ValueError("size must be at least 1.")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
