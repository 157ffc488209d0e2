"""`python -m bench.redis_usage`: what Redis holds, by kind of key, and its size per learner.

Scans every key of the project's Redis (REDIS_URL, or the devstack's) and sums
``MEMORY USAGE`` per kind: whole dashboard entries, dashboard sections, learners'
data versions (one per kind of data), the broker queue, the rest. Run it right after
`bench.run` to see the cache of the learners it used.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

import redis

from bench.run import bench_environment

# Whole: dashboard:vN:<learner>:<version>; sections: dashboard:vN:<section>:<learner>:...
# (insights.dashboard: a section's name is never a number).
WHOLE, SECTIONS = "dashboard (whole)", "dashboard (sections)"
DASHBOARD = re.compile(r"^:\d+:dashboard:v\d+:([a-z_]+:)?(\d+):")
VERSIONS = re.compile(r"^:\d+:(data-version:learner|data-version:catalog)")
VERSION = re.compile(r"^:\d+:data-version:learner:(\d+):")


def kind_of(key: str) -> str:
    if dashboard := DASHBOARD.match(key):
        return SECTIONS if dashboard.group(1) else WHOLE
    if versions := VERSIONS.match(key):
        return versions.group(1)
    return re.sub(r"\d+|[0-9a-f]{8,}", "N", key)[:40]


def usage(url: str) -> dict:
    client = redis.Redis.from_url(url)
    keys: Counter[str] = Counter()
    size: Counter[str] = Counter()
    learners, versioned = set(), set()
    for raw in client.scan_iter(count=5000):
        key = raw.decode(errors="replace")
        kind = kind_of(key)
        keys[kind] += 1
        size[kind] += client.memory_usage(raw) or 0
        if dashboard := DASHBOARD.match(key):
            learners.add(dashboard.group(2))
        if version := VERSION.match(key):
            versioned.add(version.group(1))
    cached = size[WHOLE] + size[SECTIONS] + size["data-version:learner"]
    per_learner = cached / len(versioned) if versioned else 0
    return {
        "used_memory": client.info("memory")["used_memory"],
        "kinds": {kind: {"keys": keys[kind], "bytes": size[kind]} for kind in keys},
        "learners_with_dashboard": len(learners),
        "learners_with_versions": len(versioned),
        "dashboard_and_version_bytes_per_learner": round(per_learner),
    }


def main() -> int:
    env, _ = bench_environment("skillstudio_bench")
    result = usage(env["REDIS_URL"])
    print(f"used_memory {result['used_memory']:,} B")
    for kind, row in sorted(result["kinds"].items(), key=lambda kv: -kv[1]["bytes"]):
        print(f"  {kind:<40} {row['keys']:>9,} keys {row['bytes']:>12,} B "
              f"{row['bytes'] / row['keys']:>9,.0f} B/key")  # fmt: skip
    print(f"learners with a dashboard entry: {result['learners_with_dashboard']:,}")
    per_learner = result["dashboard_and_version_bytes_per_learner"]
    print(f"dashboard (whole and sections) + versions per learner: {per_learner:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
