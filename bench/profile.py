"""`python -m bench.profile WHAT [--count N] [--cprofile]`: one code path, in process.

Where `bench.run` measures throughput through gunicorn, this measures the cost of one
request or one learner against the already seeded benchmark database: wall and CPU
milliseconds and SQL queries per item, optionally with a cProfile listing. CPU time
is much less disturbed by other work on the machine than wall time, which is why the
before/after figures in BENCHMARKS.md quote it.

WHAT: `ingest` (a 500-event batch through POST /api/v1/learning/events, rolled back),
`page` (GET /learn/), `api` (GET /api/v1/ai/dashboard), `floor` (GET /accounts/password/),
`weekly` (the weekly chunk task's function for one learner), `warm` (the dashboard
warm-up's function for one chunk of active learners: CPU ms per learner), `follow-up`
(the job a lesson completion of the mixed loop queues, insights.refresh_recommendations,
run after that loop's page view: what each completion costs the Celery workers).

`--cache cold` (default) moves each learner's data version on before the measured request,
so `page` and `api` compute the dashboard; `--cache warm` serves each learner once,
unmeasured, and measures the second request, served from the dashboard cache;
`--cache after-write` serves each learner once, unmeasured, then (unmeasured) posts a
20-event batch and completes a lesson the learner may study, through the services, as the
mixed workload of `bench.run` does, and measures the request after those writes. Those
writes use up the learners' lessons, so a run repeated on the same learners measures fewer
completions: `--seed N` takes another random sample of learners (default 2).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time

from bench.run import bench_environment

PAGES = {"page": "/learn/", "api": "/api/v1/ai/dashboard", "floor": "/accounts/password/"}


def _write_as_the_mixed_workload(user, lessons: list[int], index: int) -> None:
    """An events batch and a lesson completion for ``user`` (bench.run's mixed loop)."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from bench.run import AFTER_WRITE_EVENTS
    from catalog.models import Lesson
    from learning.events import ingest_events
    from learning.services import lesson_complete

    now = timezone.now()
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "type": "heartbeat",
            "occurred_at": (now - timedelta(seconds=3 * n)).isoformat(),
        }
        for n in range(AFTER_WRITE_EVENTS)
    ]
    ingest_events(learner=user, events=events, now=now)
    if lessons:
        lesson = Lesson.objects.select_related("module__course").get(
            pk=lessons[index % len(lessons)]
        )
        lesson_complete(learner=user, lesson=lesson, now=now)


def measure_requests(
    url: str,
    count: int,
    profiler: cProfile.Profile | None,
    *,
    cache_mode: str,
    seed: int = 2,
    follow_up: bool = False,
) -> dict:
    """The request at ``url`` per learner, or with ``follow_up`` (after-write only) the
    write follow-up task (insights.refresh_recommendations) that the lesson completion
    queued, run after the request as a Celery worker would, for the learners who completed
    one: what each completion of the mixed loop leaves to the workers."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from bench.workloads import SCALE_DOMAIN
    from insights.tasks import refresh_recommendations
    from skillstudio.data_versions import learners_changed

    scale = User.objects.filter(email__endswith=f"@{SCALE_DOMAIN}").order_by("pk")
    # The same learners on every run with the same seed, so runs before and after a change
    # compare; `after-write` runs change their learners (lessons completed), so alternated
    # runs each take their own seed.
    ids = list(scale.values_list("pk", flat=True))
    users = User.objects.in_bulk(random.Random(seed).sample(ids, count + 1))
    # One client for the whole run: a new one would build a new handler and middleware
    # chain (WhiteNoise indexes every static file) per request, which gunicorn never does.
    client = Client(HTTP_HOST="127.0.0.1")
    lessons: dict[int, list[int]] = {}
    if cache_mode == "after-write":
        from bench.workloads import studyable_lessons

        lessons = studyable_lessons(learner_ids=list(users), per_learner=3)
    wall = cpu = 0.0
    queries = items = 0
    warmed = False  # the first measurement warms up templates and connections, uncounted
    for index, user in enumerate(users.values()):
        client.force_login(user)
        if cache_mode == "cold":
            learners_changed([user.pk])  # outside a transaction: bumped at once
        else:
            client.get(url)
        if cache_mode == "after-write":
            _write_as_the_mixed_workload(user, lessons.get(user.pk, []), index)
        if follow_up:
            response = client.get(url)  # the loop's view, before a worker takes the job
            if not lessons.get(user.pk):
                continue  # no completion, no follow-up
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler and warmed:
                profiler.enable()
            if follow_up:
                refresh_recommendations(user.pk)
            else:
                response = client.get(url)
            if profiler:
                profiler.disable()
            elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu_started
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        if warmed:
            wall, cpu, queries = wall + elapsed, cpu + cpu_elapsed, queries + len(captured)
            items += 1
        warmed = True
    if not items:
        raise SystemExit("None of these learners had a lesson to complete: try another --seed.")
    return {"items": items, "wall_ms": wall / items * 1000, "cpu_ms": cpu / items * 1000,
            "queries": queries / items}  # fmt: skip


def measure_ingest(count: int, profiler: cProfile.Profile | None) -> dict:
    import json

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.workloads import SCALE_DOMAIN, make_bodies

    learner = User.objects.filter(email__endswith=f"@{SCALE_DOMAIN}").order_by("pk").first()
    bodies = make_bodies(clients=[{}], batches=count + 1, seed=11, now=timezone.now())["bodies"]
    client = Client(
        HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(learner)}"
    )
    wall = cpu = 0.0
    queries = 0
    for index, body in enumerate(bodies):
        raw = json.dumps(body)
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler and index:
                profiler.enable()
            response = client.post("/api/v1/learning/events", raw, content_type="application/json")
            if profiler:
                profiler.disable()
            elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu_started
            transaction.set_rollback(True)
        if response.status_code != 200 or response.json()["stored"] != 500:
            raise SystemExit(f"ingestion answered {response.status_code}: {response.content[:200]}")
        if index:
            wall, cpu, queries = wall + elapsed, cpu + cpu_elapsed, queries + len(captured)
    return {"items": count, "wall_ms": wall / count * 1000, "cpu_ms": cpu / count * 1000,
            "queries": queries / count}  # fmt: skip


def measure_weekly(count: int, profiler: cProfile.Profile | None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import LearnerProfile
    from insights import weekly
    from insights.tasks import adjust_learner_chunk

    now = timezone.now()
    ids = next(weekly.active_learner_ids(now=now, chunk_size=count))
    # Forget this week's run, so the chunk is adjusted again rather than skipped.
    LearnerProfile.objects.filter(user_id__in=ids).update(weekly_adjusted_week="")
    with CaptureQueriesContext(connection) as captured:
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        adjust_learner_chunk(learner_ids=ids, now=now.isoformat())
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"items": len(ids), "wall_ms": wall / len(ids) * 1000,
            "cpu_ms": cpu / len(ids) * 1000, "queries": len(captured) / len(ids)}  # fmt: skip


def measure_warm(count: int, profiler: cProfile.Profile | None) -> dict:
    from itertools import islice

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from insights.dashboard import recently_active_learner_ids, warm_dashboards

    now = timezone.now()
    ids = list(islice(recently_active_learner_ids(now=now), count))
    with CaptureQueriesContext(connection) as captured:
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = warm_dashboards(learner_ids=ids, now=now, chunk_size=count)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if report.stored != len(ids):
        raise SystemExit(f"The warm stored {report.stored} of {len(ids)}: {report.stopped}")
    return {"items": len(ids), "wall_ms": wall / len(ids) * 1000,
            "cpu_ms": cpu / len(ids) * 1000, "queries": len(captured) / len(ids)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("what", choices=["ingest", "weekly", "warm", "follow-up", *PAGES])
    parser.add_argument("--count", type=int, default=30, help="requests, batches or learners")
    parser.add_argument("--database", default="skillstudio_bench")
    parser.add_argument("--cprofile", action="store_true", help="print the top functions")
    parser.add_argument("--sort", default="tottime", help="cProfile order, e.g. cumulative")
    parser.add_argument(
        "--cache",
        choices=["cold", "warm", "after-write"],
        default="cold",
        help="page/api: dashboard cache",
    )
    parser.add_argument(
        "--seed", type=int, default=2, help="page/api: which learners (a random sample)"
    )
    args = parser.parse_args(argv)
    os.environ.update(bench_environment(args.database)[0])
    import django

    django.setup()
    profiler = cProfile.Profile() if args.cprofile else None
    if args.what == "ingest":
        result = measure_ingest(args.count, profiler)
    elif args.what == "weekly":
        result = measure_weekly(args.count, profiler)
    elif args.what == "warm":
        result = measure_warm(args.count, profiler)
    elif args.what == "follow-up":
        result = measure_requests(
            PAGES["page"], args.count, profiler, cache_mode="after-write", seed=args.seed,
            follow_up=True,
        )  # fmt: skip
    else:
        result = measure_requests(
            PAGES[args.what], args.count, profiler, cache_mode=args.cache, seed=args.seed
        )
    print(
        f"{args.what}{f' ({args.cache} cache)' if args.what in ('page', 'api') else ''}: "
        f"{result['items']} items, "
        f"{result['wall_ms']:.1f} ms wall, "
        f"{result['cpu_ms']:.1f} ms CPU, {result['queries']:.1f} queries per item"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
