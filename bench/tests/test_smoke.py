"""Smoke tests: every bench entry point runs end to end on tiny data.

They assert that each command works and reports what it measured, not how fast anything
is: their job is that a renamed function or a changed command line breaks a test instead
of the next benchmark run. `bench.run` seeds and measures its own small database
(`skillstudio_bench_smoke`, dropped afterwards); the `bench.profile` and `bench.report`
tests reuse that database and result.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from bench.run import BASE_DIR, WEB_SCENARIOS, bench_environment

pytestmark = pytest.mark.slow

DATABASE = "skillstudio_bench_smoke"
TINY = [
    "--learners=6", "--courses=2", "--events=300", "--answers=40", "--clients=4",
    "--concurrency", "2", "--duration=0.3", "--ingest-batches=2", "--path-iterations=3",
    "--profile-count=2",
]  # fmt: skip


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m <args>` from the project root; fails the test with its output on error."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    command = " ".join(args)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@dataclass
class BenchRun:
    results: Path
    stdout: str

    def latest(self) -> dict:
        return json.loads((self.results / "latest.json").read_text())


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchRun]:
    results = tmp_path_factory.mktemp("bench-results")
    done = run("bench.run", f"--database={DATABASE}", "--reseed", f"--results={results}", *TINY)
    yield BenchRun(results=results, stdout=done.stdout)
    base = bench_environment(DATABASE)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def test_bench_run_measures_every_scenario_and_checks_the_targets(bench_run):
    latest = bench_run.latest()

    assert {row["name"] for row in latest["web"]} == {name for name, *_ in WEB_SCENARIOS}
    assert all(row["requests"] > 0 and row["errors"] == 0 for row in latest["web"]), latest["web"]
    assert latest["ingestion"]["api"][0]["errors"] == 0
    assert latest["ingestion"]["copy"]["events"] == 2 * 500
    assert latest["weekly"]["learners"] > 0
    assert latest["paths"]["p50_ms"] > 0
    assert latest["warm"]["stored"] > 0
    assert latest["size"]["learners"] == 6
    assert {c["target"] for c in latest["targets"]} >= {"weekly learners/s", "seed peak RSS MB"}
    assert "targets:" in bench_run.stdout
    # Each web worker's garbage collections (bench/timed_gunicorn.conf.py), and every web
    # row's share of them.
    assert len(latest["web_worker_gc"]) == 2
    assert sum(worker["collections"] for worker in latest["web_worker_gc"]) > 0
    assert all(row["gc"]["collections"] >= row["gc"]["full_collections"] for row in latest["web"])
    assert "garbage collections:" in bench_run.stdout
    # The mixed rows count the lessons completed and the cards those completions retired.
    mixed = [row for row in latest["web"] if row.get("writes")]
    assert mixed and all(
        isinstance(row["completions"], int) and isinstance(row["cards_retired"], int)
        for row in mixed
    ), mixed
    assert "lessons completed (of" in bench_run.stdout
    # Each mixed row studies what the rows before it left: no lesson is completed twice.
    for row, following in itertools.pairwise(mixed):
        assert following["lessons_to_study"] == row["lessons_to_study"] - row["completions"]
    assert all("cards_retired" not in row for row in latest["web"] if not row.get("writes"))
    # The run's own files, not the developer's bench/results.
    assert (bench_run.results / "seed-skillstudio_bench_smoke.json").exists()


def test_bench_report_renders_the_run_as_markdown(bench_run):
    markdown = run("bench.report", str(bench_run.results / "latest.json")).stdout

    assert "| endpoint | concurrency | req/s |" in markdown
    for name, *_ in WEB_SCENARIOS:
        assert f"| {name} `" in markdown
    assert "6 learners, 2 courses" in markdown


@pytest.mark.parametrize(
    "options",
    [
        ["page"],
        ["page", "--cache=warm"],
        ["api"],
        ["floor", "--cprofile"],
        ["ingest"],
        ["warm"],
        ["weekly"],
        ["follow-up", "--count=5"],
    ],
    ids=lambda options: "-".join(o.lstrip("-") for o in options),
)
def test_bench_profile_measures_one_code_path(bench_run, options):
    what = options[0]
    # The default count first, so an option's own --count wins.
    out = run("bench.profile", "--count=2", f"--database={DATABASE}", *options).stdout

    assert out.startswith(f"{what}")
    assert " items, " in out and "queries per item" in out
    if "--cprofile" in options:
        assert "function calls" in out  # cProfile's listing follows the summary


def test_bench_profile_rejects_an_unknown_code_path():
    done = subprocess.run(
        [sys.executable, "-m", "bench.profile", "nothing"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 2
    assert "invalid choice: 'nothing'" in done.stderr
