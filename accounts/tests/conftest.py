from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # The login throttle counts in Redis; counts must not leak between tests.
    cache.clear()
    yield
    cache.clear()
