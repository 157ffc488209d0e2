"""`python -m bench.run` (`make bench`): SkillStudio at scale, measured against its floors.

1. A separate database (default ``skillstudio_bench``) on the PostgreSQL of DATABASE_URL or
   of the project-local devstack; migrated; seeded once with ``seed_demo``'s scale mode
   (10,000 learners, 300 courses, 1,000,000 events, 200,000 quiz answers) and reused on
   later runs unless ``--reseed``.
2. In-process workloads, each in its own process (bench.workloads): learning-path
   generation for a 5-skill goal, and the weekly adjustment over all due learners.
3. gunicorn serving the app as in production (DEBUG off; only the HTTPS redirect and secure
   cookies are off, for plain HTTP on loopback), driven by a separate load-generator
   process (bench.loadgen) at each concurrency: the learner dashboard page and
   GET /api/v1/ai/dashboard for random logged-in learners, each next to its floor, then
   event batch ingestion (500 events per request) and its floor, a raw COPY of the same rows.
   The dashboards are cached per learner and warmed ahead of their reads by a beat task.
   Before the web load, that task runs once exactly as the beat runs it (bench.workloads
   warm: every recently active learner; its own row with learners/s and peak RSS). Each
   dashboard is then measured three ways, each row with the hit ratio it ran at: steady
   state (right after the warm, as between two beats in production; measured first, before
   anything invalidates), cold (every client's entry invalidated, each client asked once:
   every request computes) and warm (every client's entry filled by an unmeasured pass
   first: what a returning learner with no write since costs).
   The workers run the web process's settings plus a record of their garbage collections
   (bench/timed_gunicorn.conf.py), which pause every thread of a worker: each row reports
   the longest pause and the full collections during it, and each worker its totals.
4. A table on stdout and JSON in bench/results/ (git-ignored): latest.json and one file per run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import redis

from skillstudio.devstack import prepare_environment

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"
SCALE_DOMAIN = "scale.skillstudio.test"
SCALE_COURSE_PREFIX = "scale-course-"
# The benchmark's cache and broker: a Redis database of its own (see bench_environment).
REDIS_DB = 12

# The floor of each measured endpoint: the cheapest view that already exists with the same
# authentication and the same stack around it (see BENCHMARKS.md for the reasoning).
WEB_SCENARIOS = [
    # (name, path, auth, floor name, dashboard cache: None, "steady", "cold" or "warm")
    ("floor_page", "/accounts/password/", "session", None, None),
    ("dashboard_page", "/learn/", "session", "floor_page", "steady"),
    ("dashboard_page_cold", "/learn/", "session", "floor_page", "cold"),
    ("dashboard_page_warm", "/learn/", "session", "floor_page", "warm"),
    ("floor_api", "/api/v1/learning/goals/", "jwt", None, None),
    ("api_dashboard", "/api/v1/ai/dashboard", "jwt", "floor_api", "steady"),
    ("api_dashboard_cold", "/api/v1/ai/dashboard", "jwt", "floor_api", "cold"),
    ("api_dashboard_warm", "/api/v1/ai/dashboard", "jwt", "floor_api", "warm"),
    # The mixed workload: each measured request follows the same learner's events batch and
    # lesson completion (unmeasured); the floors run in the same loop, so the ratio compares
    # the two views under the same write load.
    ("floor_page_after_write", "/accounts/password/", "session", None, "after_write"),
    ("dashboard_page_after_write", "/learn/", "session", "floor_page_after_write", "after_write"),
    ("floor_api_after_write", "/api/v1/learning/goals/", "jwt", None, "after_write"),
    (
        "api_dashboard_after_write",
        "/api/v1/ai/dashboard",
        "jwt",
        "floor_api_after_write",
        "after_write",
    ),
]
# Events per batch in the mixed workload: a minute of heartbeats and clicks.
AFTER_WRITE_EVENTS = 20

TARGETS = {
    "ratio_to_floor_min": 0.40,
    "p99_ms_max_at_c8": 150.0,
    "ingest_events_per_s_min": 20_000,
    "ingest_ratio_to_copy_min": 0.25,
    "weekly_learners_per_s_min": 200,
    "path_p50_ms_max": 30.0,
    "web_worker_rss_mb_max": 300,
    "seed_peak_rss_mb_max": 2048,
    "weekly_peak_rss_mb_max": 1024,
}


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(base: str, name: str, *, reseed: bool) -> None:
    """Create the benchmark database next to the project's own (dropped first on --reseed)."""
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"Database name {name!r}: use letters, digits and underscores.")
    if name == urlsplit(base).path.lstrip("/"):
        raise SystemExit(f"{name!r} is the project's own database: pick another --database.")
    with psycopg.connect(base, autocommit=True) as conn:
        if reseed:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def run_measured(cmd: list[str], env: dict[str, str], what: str) -> dict:
    """Run a child to completion; its wall time and its own peak RSS (wait4's ru_maxrss)."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=BASE_DIR, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{what} failed (exit code {process.returncode}).")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def manage(env: dict[str, str], *args: str) -> dict:
    return run_measured([sys.executable, "manage.py", *args], env, f"manage.py {args[0]}")


def workload(
    env: dict[str, str], tmp: Path, command: str, *options: str, out: Path | None = None
) -> dict:
    out = out or tmp / f"{command}.json"
    measured = run_measured(
        [sys.executable, "-m", "bench.workloads", command, str(out), *options],
        env,
        f"workload {command}",
    )
    return {**json.loads(out.read_text()), "process": measured}


def seeded_size(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        learners = conn.execute(
            "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{SCALE_DOMAIN}"]
        ).fetchone()[0]
        courses = conn.execute(
            "SELECT count(*) FROM catalog_course WHERE slug LIKE %s", [f"{SCALE_COURSE_PREFIX}%"]
        ).fetchone()[0]
    return {"learners": learners, "courses": courses}


def ensure_seed(env: dict[str, str], size: dict[str, int], database: str, results: Path) -> dict:
    """Seed the scale data once; later runs reuse it and report the recorded seed figures."""
    record = results / f"seed-{database}.json"
    have = seeded_size(env["DATABASE_URL"])
    if have["learners"] or have["courses"]:
        saved = json.loads(record.read_text()) if record.exists() else None
        if saved and saved["size"] == size and have == {k: size[k] for k in have}:
            log(f"reusing the data seeded at {saved['seeded_at']} (--reseed to start over)")
            return {**saved, "reused": True}
        raise SystemExit(
            f"{database} holds {have['learners']} scale learners and {have['courses']} scale "
            f"courses, not the requested {size}: rerun with --reseed."
        )
    log(f"seeding {size} (seed_demo scale mode)")
    # The simulated demo cohort is not part of the measured scale data.
    measured = manage(
        env, "seed_demo", "--cohort=0", *(f"--{key}={value}" for key, value in size.items())
    )
    saved = {"size": size, "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"), **measured}
    record.write_text(json.dumps(saved, indent=2))
    return {**saved, "reused": False}


def vacuum_analyze(url: str) -> None:
    """Every table vacuumed with fresh planner statistics, as autovacuum keeps them in
    production, after the seed and after the weekly row.

    The seed analyses the tables it bulk-loads, but not the catalogue it inserts, and the
    benchmark's own ingestion runs add and delete rows. The weekly row rewrites every
    learner's path, recommendations and profile within a minute: measured right after it,
    before autovacuum's pass, the page after a write spent 180 ms at p99, and 136 ms once
    vacuumed and analysed (the 1x data, session 13). Without this, the plans depend on how
    long ago autovacuum happened to pass.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], args: argparse.Namespace, port: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "gunicorn", "skillstudio.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        "--config", str(BASE_DIR / "bench" / "timed_gunicorn.conf.py"),
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=BASE_DIR, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return server
        except urllib.error.HTTPError:
            return server  # it answers: up (healthz may report a degraded dependency)
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn exited during start-up; see its output above.") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s.")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def warm_with_workers(env: dict[str, str], args: argparse.Namespace, tmp: Path) -> dict:
    """The dashboard warm-up as production runs it: ``celery worker`` with the product's
    queues and ``--celery-workers`` processes (``make run`` starts 2), the beat task's run
    (bench.workloads warm) timed until its last chunk is done; the workers' CPU per learner
    besides."""
    log_path = tmp / "celery-worker.log"
    with log_path.open("w") as output:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "skillstudio", "worker",
                "--concurrency", str(args.celery_workers), "--queues", "celery,bulk",
                "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The Celery worker did not start; see {log_path}.")
            time.sleep(0.2)
        before = server_cpu_seconds(worker, env["DATABASE_URL"])
        warm = workload(env, tmp, "warm")
        after = server_cpu_seconds(worker, env["DATABASE_URL"])
        warm["celery_workers"] = args.celery_workers
        # The workers' own CPU only: their database connections close between tasks, which
        # takes the backends' CPU with them before it can be read.
        spent = sum(cpu - before["web"].get(pid, 0.0) for pid, cpu in after["web"].items())
        warm["worker_cpu_ms_per_learner"] = (
            round(spent / warm["learners"] * 1000, 2) if warm["learners"] else None
        )
        warm["worker_rss_mb"] = worker_rss(worker)
    finally:
        stop(worker)
    return warm


def worker_rss(server: subprocess.Popen) -> list[float]:
    return [
        round(child.memory_info().rss / 2**20, 1) for child in psutil.Process(server.pid).children()
    ]


def server_cpu_seconds(server: subprocess.Popen, database_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds (user + system) used so far by each web (or Celery) worker process and,
    when PostgreSQL runs on this machine, each database backend serving the benchmark
    database, by process id."""
    used: dict[str, dict[int, float]] = {"web": {}, "database": {}}
    for child in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            used["web"][child.pid] = sum(child.cpu_times()[:2])
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ]
    except psycopg.Error:
        pids = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            used["database"][pid] = sum(psutil.Process(pid).cpu_times()[:2])
    return used


def cpu_per_request(before: dict, after: dict, row: dict) -> None:
    """Server CPU ms per request the scenario sent (warm-up and fill passes included; in the
    mixed workload a measured request counts with the writes before it): comparable across
    runs whatever else the machine runs, which its latencies are not. A process that exits
    during the run (a database connection older than CONN_MAX_AGE) takes its CPU with it:
    undercounted, never overcounted."""
    sent = row["requests"] + row["errors"] + row.get("unmeasured", 0)
    for kind in ("web", "database"):
        spent = sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items())
        row[f"{kind}_cpu_ms_per_request"] = round(spent / sent * 1000, 1) if sent else None


def completions_and_retired_cards(database_url: str, since: float) -> dict[str, int]:
    """Lessons completed and recommendation cards retired since ``since`` (epoch seconds),
    a row's unmeasured warm-up included. A completion that retires the lesson's open card
    moves the learner's recommendations on, so the next dashboard recomputes its cards: the
    mixed rows differ in how often that happens (BENCHMARKS.md, round 2k), which their
    latencies alone do not show."""
    with psycopg.connect(database_url) as conn:
        completions, retired = conn.execute(
            "SELECT (SELECT count(*) FROM learning_lessonprogress WHERE completed_at >= %(t)s),"
            " (SELECT count(*) FROM insights_recommendation"
            "  WHERE status = 'expired' AND updated_at >= %(t)s)",
            {"t": datetime.fromtimestamp(since, UTC)},
        ).fetchone()
    return {"completions": completions, "cards_retired": retired}


def drop_completed_lessons(database_url: str, clients: list[dict], since: float) -> None:
    """Take the lessons a row completed off its clients' lists, so the next mixed row
    studies new ones (each load generator run starts from the lists it is given)."""
    with psycopg.connect(database_url) as conn:
        done = set(
            conn.execute(
                "SELECT learner_id, lesson_id FROM learning_lessonprogress"
                " WHERE status = 'completed' AND completed_at >= %s AND learner_id = ANY(%s)",
                [datetime.fromtimestamp(since, UTC), [c["learner_id"] for c in clients]],
            ).fetchall()
        )
    for client in clients:
        client["lessons"] = [
            lesson for lesson in client["lessons"] if (client["learner_id"], lesson) not in done
        ]


def worker_collections(gc_dir: Path) -> list[list[list]]:
    """Each web worker's garbage collections, [start epoch, generation, pause ms] each, as
    bench/timed_gunicorn.conf.py wrote them when the worker exited."""
    return [json.loads(path.read_text()) for path in sorted(gc_dir.glob("gc-*.json"))]


def collection_pauses(
    collections: list[list[list]], start: float = 0.0, end: float = float("inf")
) -> dict:
    """How often the web workers' garbage collections, which stop every thread of a worker,
    paused them between start and end (epoch seconds), and for how long."""
    pauses = [(gen, ms) for worker in collections for at, gen, ms in worker if start <= at < end]
    return {
        "collections": len(pauses),
        "full_collections": sum(1 for gen, _ in pauses if gen == 2),
        "longest_pause_ms": round(max((ms for _, ms in pauses), default=0.0), 1),
        "paused_ms": round(sum(ms for _, ms in pauses), 1),
    }


def loadgen(env: dict[str, str], tmp: Path, spec: dict, name: str) -> list[dict]:
    spec_file = tmp / f"{name}-spec.json"
    out = tmp / f"{name}-out.json"
    spec_file.write_text(json.dumps(spec))
    run_measured([sys.executable, "-m", "bench.loadgen", str(spec_file), str(out)], env, name)
    return json.loads(out.read_text())


def selected(args: argparse.Namespace, name: str) -> bool:
    """Whether a web row runs: all by default; with --scenarios, those named and their floors."""
    if not args.scenarios:
        return True
    floors = {floor for row, _, _, floor, _ in WEB_SCENARIOS if row in args.scenarios}
    return name in args.scenarios or name in floors


def web_scenarios(args: argparse.Namespace) -> list[tuple[dict, bool]]:
    """Each scenario, and whether the clients' dashboard cache is invalidated before it.

    The floors, the steady rows and the mixed workload come first, while the entries of the
    warm run that precedes them are current, as the beat keeps them in production; then the
    cold rows, which invalidate every client's entries, and the warm rows, which fill only
    the entries of their own view.
    """
    scenarios = [
        (
            {
                "name": name,
                "method": "GET",
                "path": path,
                "auth": auth,
                "concurrency": concurrency,
                "duration": args.duration,
                "max_requests": 200_000,
                # Cold: client i makes request i, so nobody's entry is read back.
                "clients_in_order": cache == "cold",
                "fill": cache == "warm",
                "warmup": 0 if cache == "cold" else 5 * concurrency,
                "after_writes": AFTER_WRITE_EVENTS if cache == "after_write" else 0,
            },
            cache == "cold",
        )
        for concurrency in args.concurrency
        for name, path, auth, _, cache in WEB_SCENARIOS
        if selected(args, name)
    ]
    steady = {name for name, _, _, _, cache in WEB_SCENARIOS if cache in (None, "steady")}
    mixed = {name for name, _, _, _, cache in WEB_SCENARIOS if cache == "after_write"}
    # A stable sort: the steady phase, then the mixed workload, then cold and warm, each phase
    # in concurrency order. After the cold rows the clients' dashboard sections are gone (a
    # warm row's fill restores only its own view's), so a mixed row there would measure a
    # state that the beat never leaves: a view after a write recomputing every section.
    return sorted(
        scenarios,
        key=lambda item: 0 if item[0]["name"] in steady else 1 if item[0]["name"] in mixed else 2,
    )


def machine() -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "commit": commit + ("+dirty" if dirty else ""),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def evaluate(results: dict) -> list[dict]:
    """Each target with the measured figure and whether it is met."""
    checks = []

    def check(name: str, value: float | None, limit: float, at_least: bool) -> None:
        # No figure (e.g. the floor row answered nothing but errors) is a miss, not a crash.
        met = value is not None and (value >= limit if at_least else value <= limit)
        checks.append(
            {"target": name, "value": value, "limit": limit, "at_least": at_least, "met": met}
        )

    web = {(r["name"], r["concurrency"]): r for r in results["web"]}
    for name, _, _, floor, _ in WEB_SCENARIOS:
        if floor is None or (name, 8) not in web:
            continue
        row = web[(name, 8)]
        check(f"{name} req/s ÷ {floor} (c=8)", row["ratio_to_floor"], 0.40, True)
        check(f"{name} p99 ms (c=8)", row["p99_ms"], 150.0, False)
    ingestion = results.get("ingestion")
    if ingestion:
        best = max(ingestion["api"], key=lambda r: r["events_per_s"])
        check(
            f"ingestion events/s (best, c={best['concurrency']})",
            best["events_per_s"],
            20_000,
            True,
        )
        check("ingestion ÷ raw COPY", best["ratio_to_copy"], 0.25, True)
    if results.get("warm"):
        # Each run must end before the next beat, or entries expire before it rewrites them.
        warm = results["warm"]
        check(
            f"dashboard warm run s, {warm['celery_workers']} worker processes (≤ its period)",
            warm["seconds"],
            warm["period_s"],
            False,
        )
    if results.get("weekly"):
        check("weekly learners/s", results["weekly"]["learners_per_s"], 200, True)
        check("weekly peak RSS MB", results["weekly"]["process"]["peak_rss_mb"], 1024, False)
    if results.get("paths"):
        check("path generation p50 ms", results["paths"]["p50_ms"], 30.0, False)
    for index, rss in enumerate(results.get("web_worker_rss_mb", [])):
        check(f"web worker {index + 1} RSS MB", rss, 300, False)
    if results.get("seed"):
        check("seed peak RSS MB", results["seed"]["peak_rss_mb"], 2048, False)
    return checks


def print_report(results: dict) -> None:
    print()
    print(f"SkillStudio benchmark · {results['size']} · {results['machine']}")
    if results.get("server"):
        print(f"gunicorn: {results['server']}")
    print()
    header = (
        f"{'endpoint':<20} {'c':>3} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7}"
        f"  {'÷floor':>6} {'errors':>6} {'cache hits':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results["web"]:
        ratio = f"{r['ratio_to_floor']:.2f}" if r.get("ratio_to_floor") is not None else "floor"
        hits = f"{r['hit_ratio']:.0%}" if r.get("hit_ratio") is not None else "-"
        print(
            f"{r['name']:<20} {r['concurrency']:>3} {r['rps']:>8.1f} {r['p50_ms']:>7.1f} "
            f"{r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f}  {ratio:>6} {r['errors']:>6} {hits:>10}"
            + (f"  writes {r['writes']} (failed {r['write_errors']})" if r.get("writes") else "")
            + (
                f", {r['completions']} lessons completed (of {r['lessons_to_study']} left to"
                f" study) retired {r['cards_retired']} cards"
                if "completions" in r
                else ""
            )
            + (
                f"  CPU ms/request: web {r['web_cpu_ms_per_request']}, "
                f"database {r['database_cpu_ms_per_request']}"
                if r.get("web_cpu_ms_per_request") is not None
                else ""
            )
            + (
                f"  GC: longest pause {r['gc']['longest_pause_ms']} ms, "
                f"{r['gc']['full_collections']} full"
                if r.get("gc")
                else ""
            )
        )
    if results.get("warm"):
        w = results["warm"]
        print(
            f"\ndashboard warm (beat task, every {w['period_s']} s, entries live {w['ttl_s']} s): "
            f"{w['learners']:,} learners active in {w['active_days']} days, {w['stored']:,} stored "
            f"in {w['chunks']} chunks by {w['celery_workers']} worker processes in "
            f"{w['seconds']} s = {w['learners_per_s']} learners/s, workers' CPU "
            f"{w['worker_cpu_ms_per_learner']} ms per learner; worker RSS {w['worker_rss_mb']} MB"
        )
    ingestion = results.get("ingestion")
    if ingestion:
        print()
        copy = ingestion["copy"]
        print(f"raw COPY floor: {copy['events']:,} rows, {copy['events_per_s']:,.0f} events/s")
        for r in ingestion["api"]:
            print(
                f"API batches c={r['concurrency']:<3} {r['events_per_s']:>9,.0f} events/s "
                f"({r['rps']:.1f} req/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
                f"errors {r['errors']})  ÷COPY {r['ratio_to_copy']:.2f}"
            )
    if results.get("weekly"):
        w = results["weekly"]
        print(
            f"\nweekly adjustment: {w['learners']:,} learners in {w['seconds']} s = "
            f"{w['learners_per_s']} learners/s, peak RSS {w['process']['peak_rss_mb']} MB"
        )
    if results.get("paths"):
        p = results["paths"]
        print(
            f"path generation ({len(p['goal_skills'])} skills, {p['catalog_courses']} courses, "
            f"{p['path_courses']} in path): p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms"
        )
    if results.get("seed"):
        s = results["seed"]
        print(
            f"seed: {s['seconds']} s, peak RSS {s['peak_rss_mb']} MB"
            + (f" (recorded {s['seeded_at']})" if s.get("reused") else "")
        )
    print(f"web workers RSS after load: {results.get('web_worker_rss_mb')} MB")
    for index, gc in enumerate(results.get("web_worker_gc", [])):
        print(
            f"web worker {index + 1} garbage collections: {gc['collections']:,} "
            f"({gc['full_collections']} full), {gc['paused_ms'] / 1000:.1f} s paused in all, "
            f"longest pause {gc['longest_pause_ms']} ms"
        )
    print("\ntargets:")
    for c in results["targets"]:
        sign = "≥" if c["at_least"] else "≤"
        print(
            f"  {'met ' if c['met'] else 'MISS'}  {c['target']}: {c['value']} ({sign} {c['limit']})"
        )


def serve_and_load(env: dict[str, str], args: argparse.Namespace, results: dict) -> None:
    """gunicorn + the load generator: web endpoints and floors, then event ingestion."""
    port = free_port()
    results["server"] = f"gunicorn --workers {args.workers} --worker-class {args.worker_class}" + (
        f" --threads {args.threads}" if args.worker_class == "gthread" else ""
    )
    log(f"starting {results['server']} on 127.0.0.1:{port}")
    tmp = args.results / "tmp"
    gc_dir = tmp / "gc"
    gc_dir.mkdir(parents=True, exist_ok=True)
    for stale in gc_dir.glob("gc-*.json"):
        stale.unlink()
    server = start_gunicorn({**env, "BENCH_GC_DIR": str(gc_dir)}, args, port)
    windows = []  # (web row, start, end): its collections are attributed after the load
    body_files = [tmp / f"bodies-c{c}.json" for c in args.concurrency]
    clients_file = tmp / "clients.json"
    try:
        made = workload(env, tmp, "clients", f"--count={args.clients}", out=clients_file)
        clients = made["clients"]
        spec = {"host": "127.0.0.1", "port": port, "clients": clients}
        results["web"] = []
        if "web" not in args.skip:
            log(
                "dashboard warm-up: the beat task's run, once (recently active learners), "
                f"its chunks in {args.celery_workers} Celery worker processes"
            )
            results["warm"] = warm_with_workers(env, args, tmp)
            log(f"web load: {len(WEB_SCENARIOS)} scenarios, concurrency {args.concurrency}")
            for scenario, invalidate in web_scenarios(args):
                if invalidate:
                    workload(env, tmp, "invalidate", f"--clients={clients_file}")
                before = server_cpu_seconds(server, env["DATABASE_URL"])
                to_study = sum(len(client["lessons"]) for client in clients)
                started = time.time()
                rows = loadgen(env, tmp, {**spec, "scenarios": [scenario]}, "web")
                windows.append((rows[0], started, time.time()))
                cpu_per_request(before, server_cpu_seconds(server, env["DATABASE_URL"]), rows[0])
                if scenario["after_writes"]:
                    rows[0].update(completions_and_retired_cards(env["DATABASE_URL"], started))
                    rows[0]["lessons_to_study"] = to_study
                    drop_completed_lessons(env["DATABASE_URL"], clients, started)
                results["web"] += rows
        if "ingestion" not in args.skip:
            results["ingestion"] = {"api": []}
            scenarios = []
            for concurrency, path in zip(args.concurrency, body_files, strict=True):
                workload(
                    env, tmp, "bodies", f"--clients={clients_file}",
                    f"--count={args.ingest_batches}", f"--seed={concurrency}", out=path,
                )  # fmt: skip
                scenarios.append(
                    {
                        "name": "event_batches",
                        "method": "POST",
                        "path": "/api/v1/learning/events",
                        "auth": "jwt",
                        "concurrency": concurrency,
                        "duration": 300,
                        "max_requests": args.ingest_batches,
                        "bodies": str(path),
                    }
                )
            log(f"ingestion: {args.ingest_batches} batches of 500 per concurrency")
            results["ingestion"]["api"] = loadgen(
                env, tmp, {**spec, "scenarios": scenarios}, "ingestion"
            )
        results["web_worker_rss_mb"] = worker_rss(server)
    finally:
        stop(server)
    collections = worker_collections(gc_dir)
    results["web_worker_gc"] = [collection_pauses([worker]) for worker in collections]
    for row, start, end in windows:
        row["gc"] = collection_pauses(collections, start, end)

    if "ingestion" not in args.skip:
        bodies = [f"--bodies={path}" for path in body_files]
        workload(env, tmp, "cleanup", *bodies)
        log("raw COPY of the same rows")
        copy = workload(env, tmp, "copy", f"--clients={clients_file}", *bodies)
        workload(env, tmp, "cleanup", *bodies)
        results["ingestion"]["copy"] = copy
        for row in results["ingestion"]["api"]:
            row["events_per_s"] = round(row["rps"] * 500)
            row["ratio_to_copy"] = round(row["events_per_s"] / copy["events_per_s"], 3)
        copy["events_per_s"] = round(copy["events_per_s"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="skillstudio_bench")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where the JSON results go (bench/results)"
    )
    parser.add_argument("--reseed", action="store_true", help="drop and re-seed the database")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--courses", type=int, default=300)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=float, default=20, help="seconds per web scenario")
    parser.add_argument("--clients", type=int, default=1000, help="logged-in learners")
    parser.add_argument("--ingest-batches", type=int, default=120, help="per concurrency")
    # The Procfile's web settings (gunicorn.conf.py) unless told otherwise.
    web = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    parser.add_argument("--workers", type=int, default=web["workers"])
    parser.add_argument("--worker-class", default=web["worker_class"], choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=web["threads"], help="per worker (gthread)")
    parser.add_argument(
        "--celery-workers", type=int, default=2, help="worker processes for the warm-up's chunks"
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=REDIS_DB,
        help="the Redis database the benchmark's cache and broker use (emptied at each size)",
    )
    parser.add_argument("--weekly-limit", type=int, help="stop the weekly run after N learners")
    parser.add_argument("--path-iterations", type=int, default=200)
    parser.add_argument(
        "--profile-count", type=int, default=30, help="bench.profile items per code path"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["paths", "weekly", "web", "ingestion", "profile"],
    )
    parser.add_argument(
        "--scale",
        type=int,
        nargs="+",
        default=[1],
        help="sizes as multiples of the default data, each in its own database "
        "(--scale 1 10: every row at both sizes and a table side by side)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="*",
        default=[],
        choices=[name for name, *_ in WEB_SCENARIOS],
        help="only these web rows (and their floors); default: all",
    )
    return parser.parse_args(argv)


def redis_url_with_db(url: str, db: int) -> str:
    """``url`` (redis://, rediss:// or unix://) pointing at Redis database ``db``."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [item for item in parts.query.split("&") if item and not item.startswith("db=")]
        return f"unix://{parts.path}?" + "&".join([*query, f"db={db}"])
    return urlunsplit(parts._replace(path=f"/{db}"))


def bench_environment(database: str, redis_db: int = REDIS_DB) -> tuple[dict[str, str], str]:
    """The benchmark processes' environment, and the project database URL it is derived from.

    Production settings (DEBUG off), except the HTTPS redirect and secure cookies: the
    server is plain HTTP on loopback. Cache and broker in their own Redis database, so the
    benchmark's entries and messages never mix with the app's (or a worker of the app's).
    """
    env = prepare_environment(debug=False)
    base = env["DATABASE_URL"]
    env.update(
        DATABASE_URL=database_url(base, database),
        REDIS_URL=redis_url_with_db(env["REDIS_URL"], redis_db),
        DJANGO_SETTINGS_MODULE="skillstudio.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env, base


def database_sizes(url: str) -> dict:
    """The database's size, the events' (every partition, with indexes) and the rollups'."""
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        events = conn.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
            "WHERE inhparent = 'learning_learnerevent'::regclass"
        ).fetchone()[0]
        rollups = conn.execute(
            "SELECT pg_total_relation_size('learning_learneractivitybucket')"
        ).fetchone()[0]
        count = conn.execute("SELECT count(*) FROM learning_learnerevent").fetchone()[0]
    mb = 1024 * 1024
    total, events, rollups = int(total), int(events), int(rollups)
    return {
        "database_mb": round(total / mb, 1),
        "events_mb": round(events / mb, 1),
        "rollups_mb": round(rollups / mb, 1),
        "events": count,
        "database_mb_per_million_events": round(total / mb / (count / 1e6), 1) if count else None,
        "events_mb_per_million_events": round(events / mb / (count / 1e6), 1) if count else None,
    }


PROFILED = ("page", "api", "weekly")


def profile_costs(env: dict[str, str], database: str, count: int) -> dict:
    """bench.profile's CPU ms and queries per item (cold dashboards, one weekly learner)."""
    costs = {}
    for what in PROFILED:
        command = [sys.executable, "-m", "bench.profile", what, f"--count={count}"]
        done = subprocess.run(
            [*command, f"--database={database}"],
            env=env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(
            r"([\d.]+) ms wall, ([\d.]+) ms CPU, ([\d.]+) queries", done.stdout.strip()
        )
        if found:
            wall, cpu, queries = (float(x) for x in found.groups())
            costs[what] = {"wall_ms": wall, "cpu_ms": cpu, "queries": queries}
    return costs


def run_size(args: argparse.Namespace, scale: int) -> dict:
    """Every row at one size: the default data times ``scale``, in its own database."""
    database = args.database if scale == 1 else f"{args.database}_x{scale}"
    tmp = args.results / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env, base = bench_environment(database, args.redis_db)
    # Each size starts from an empty cache and broker: no entry, version or message of an
    # earlier run (or the other size: learner ids overlap) is read. Emptied at once, freed
    # in the background: a blocking flush of a 10x run's entries outlasted the socket timeout.
    redis.Redis.from_url(env["REDIS_URL"]).flushdb(asynchronous=True)
    size = {k: getattr(args, k) * scale for k in ("learners", "courses", "events", "answers")}
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database,
        "scale": scale,
        "size": size,
        "machine": machine(),
        "targets_spec": TARGETS,
    }
    log(f"size x{scale}: {size}")
    ensure_database(base, database, reseed=args.reseed)
    log("migrating")
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    results["seed"] = ensure_seed(env, size, database, args.results)
    vacuum_analyze(env["DATABASE_URL"])
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    results["db_size"] = database_sizes(env["DATABASE_URL"])

    if "paths" not in args.skip:
        log("learning-path generation")
        results["paths"] = workload(env, tmp, "paths", f"--count={args.path_iterations}")
    if "weekly" not in args.skip:
        log("weekly adjustment (one process, the chunk task's code path)")
        limit = [f"--limit={args.weekly_limit}"] if args.weekly_limit else []
        results["weekly"] = workload(env, tmp, "weekly", *limit)
        vacuum_analyze(env["DATABASE_URL"])
    if "profile" not in args.skip:
        log("per-request cost (bench.profile: cold page, cold API, one weekly learner)")
        results["profile"] = profile_costs(env, database, args.profile_count)

    results["web"] = []
    if not {"web", "ingestion"} <= set(args.skip):
        serve_and_load(env, args, results)

    floors = {(r["name"], r["concurrency"]): r["rps"] for r in results["web"]}
    for row in results["web"]:
        floor = next(f for n, _, _, f, _ in WEB_SCENARIOS if n == row["name"])
        row["floor"] = floor
        row["ratio_to_floor"] = (
            round(row["rps"] / floors[(floor, row["concurrency"])], 3)
            if floor and floors.get((floor, row["concurrency"]))
            else None
        )
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = evaluate(results)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=2, default=str)
    (args.results / f"run-{stamp}-x{scale}.json").write_text(text)
    (args.results / ("latest.json" if scale == 1 else f"latest-x{scale}.json")).write_text(text)
    print_report(results)
    return results


def scale_rows(runs: list[dict]) -> list[tuple[str, list]]:
    """Per-request cost and throughput figures side by side, one column per size."""
    rows: list[tuple[str, list]] = []

    def add(label: str, pick) -> None:
        values = []
        for run in runs:
            try:
                values.append(pick(run))
            except (KeyError, StopIteration, TypeError):
                values.append(None)
        if any(value is not None for value in values):
            rows.append((label, values))

    for what in PROFILED:
        add(f"{what}: CPU ms per item", lambda r, w=what: r["profile"][w]["cpu_ms"])
        add(f"{what}: queries per item", lambda r, w=what: r["profile"][w]["queries"])
    names = sorted({(w["name"], w["concurrency"]) for run in runs for w in run["web"]})
    for name, concurrency in names:

        def web(run, n=name, c=concurrency):
            return next(w for w in run["web"] if (w["name"], w["concurrency"]) == (n, c))

        add(f"{name} c={concurrency}: req/s", lambda r, f=web: f(r)["rps"])
        add(f"{name} c={concurrency}: p99 ms", lambda r, f=web: f(r)["p99_ms"])
        add(f"{name} c={concurrency}: ÷ floor", lambda r, f=web: f(r)["ratio_to_floor"])
    add(
        "ingestion events/s (best)", lambda r: max(a["events_per_s"] for a in r["ingestion"]["api"])
    )
    add("ingestion ÷ COPY (best)", lambda r: max(a["ratio_to_copy"] for a in r["ingestion"]["api"]))
    add("dashboard warm-up learners/s", lambda r: r["warm"]["learners_per_s"])
    add("dashboard warm-up s", lambda r: r["warm"]["seconds"])
    add("weekly learners/s", lambda r: r["weekly"]["learners_per_s"])
    add("path generation p50 ms", lambda r: r["paths"]["p50_ms"])
    add("seed s", lambda r: r["seed"]["seconds"])
    add("seed peak RSS MB", lambda r: r["seed"]["peak_rss_mb"])
    for key in ("database_mb", "events_mb", "rollups_mb", "database_mb_per_million_events",
                "events_mb_per_million_events"):  # fmt: skip
        add(key.replace("_", " "), lambda r, k=key: r["db_size"][k])
    add("load average at start (1 min)", lambda r: r["machine"]["load_average_start"][0])
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = [run_size(args, scale) for scale in args.scale]
    if len(runs) > 1:
        print("\n| figure | " + " | ".join(f"{run['scale']}x" for run in runs) + " |")
        print("|---|" + "---:|" * len(runs))
        for label, values in scale_rows(runs):
            cells = " | ".join("-" if value is None else f"{value}" for value in values)
            print(f"| {label} | {cells} |")
        text = json.dumps({"runs": runs, "table": scale_rows(runs)}, indent=2, default=str)
        (args.results / "latest-scales.json").write_text(text)
    print(f"\nJSON: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
