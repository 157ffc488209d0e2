import pytest

from skillstudio.chunks import chunked


def test_chunks_keep_order_and_the_last_one_is_short():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked(iter([]), 3)) == []


def test_a_generator_is_read_one_chunk_at_a_time():
    read = []

    def ids():
        for n in range(10):
            read.append(n)
            yield n

    first = next(chunked(ids(), 4))
    assert first == [0, 1, 2, 3]
    assert read == [0, 1, 2, 3]


def test_a_chunk_size_below_one_is_refused():
    with pytest.raises(ValueError, match="size must be at least 1"):
        next(chunked([1, 2], 0))
