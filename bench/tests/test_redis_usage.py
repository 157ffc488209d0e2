"""`bench.redis_usage` tells whole dashboards from their sections by the keys the product
writes (a shared version prefix once merged the two kinds)."""

from __future__ import annotations

from bench.redis_usage import SECTIONS, WHOLE, kind_of
from insights.dashboard import SECTIONS as DASHBOARD_SECTIONS
from insights.dashboard import _entry_key, _section_key
from skillstudio.data_versions import KINDS


def test_whole_dashboards_and_sections_are_told_apart():
    versions = dict.fromkeys(KINDS, "7.3")
    prefix = ":1:"  # Django's cache key prefix and version

    assert kind_of(prefix + _entry_key(42, "7-7-7.3")) == WHOLE
    for name in DASHBOARD_SECTIONS:
        assert kind_of(prefix + _section_key(name, 42, versions)) == SECTIONS
    assert kind_of(":1:data-version:learner:42:quiz") == "data-version:learner"
