"""The Procfile's web process and the benchmark serve with the same gunicorn settings."""

from __future__ import annotations

import runpy
import subprocess
import sys
from types import SimpleNamespace

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from bench.run import BASE_DIR, collection_pauses, parse_args


def procfile_web_config(monkeypatch, *options: str):
    """What gunicorn loads for the Procfile's `gunicorn skillstudio.wsgi` (plus any
    command-line ``options``), run from the repository root as every process manager does."""
    monkeypatch.chdir(BASE_DIR)
    monkeypatch.setattr("sys.argv", ["gunicorn", *options, "skillstudio.wsgi"])
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg


def procfile_web_settings(monkeypatch) -> dict:
    cfg = procfile_web_config(monkeypatch)
    return {"worker_class": cfg.worker_class_str, "workers": cfg.workers, "threads": cfg.threads}


def test_the_procfile_web_process_runs_threaded_workers(monkeypatch):
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    web = procfile_web_settings(monkeypatch)
    # Not gunicorn's defaults (one sync worker): what BENCHMARKS.md measured.
    assert web == {"worker_class": "gthread", "workers": 2, "threads": 2}

    args = parse_args([])
    assert (args.worker_class, args.workers, args.threads) == (
        web["worker_class"],
        web["workers"],
        web["threads"],
    )


@pytest.mark.parametrize(("workers", "threads"), [("3", "2"), ("1", "8")])
def test_the_environment_sizes_the_web_process(monkeypatch, workers, threads):
    monkeypatch.setenv("WEB_WORKERS", workers)
    monkeypatch.setenv("WEB_THREADS", threads)
    web = procfile_web_settings(monkeypatch)
    assert (web["workers"], web["threads"]) == (int(workers), int(threads))
    assert (parse_args([]).workers, parse_args([]).threads) == (int(workers), int(threads))


@pytest.mark.parametrize("hook", ["on_starting", "on_reload"])
@pytest.mark.parametrize(
    ("environment", "options", "threads"),
    [({}, (), 2), ({"WEB_THREADS": "3"}, (), 3), ({}, ("--threads", "5"), 5)],
)
def test_a_worker_takes_only_as_many_connections_as_it_has_threads(
    monkeypatch, environment, options, threads, hook
):
    """So the kernel hands each new connection to a worker with a thread free, however the
    threads were set (bench.run passes --threads), and no response keeps its connection:
    a kept-alive one would stay with its worker however busy that worker got."""
    monkeypatch.delenv("WEB_THREADS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    cfg = procfile_web_config(monkeypatch, *options)
    assert cfg.worker_connections == 1000  # gunicorn's default, until the server starts
    runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))[hook](SimpleNamespace(cfg=cfg))
    assert (cfg.threads, cfg.worker_connections, cfg.keepalive) == (threads, threads, 0)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_size_stops_gunicorn_with_the_reason(monkeypatch, value):
    monkeypatch.setenv("WEB_WORKERS", value)
    with pytest.raises(SystemExit, match="WEB_WORKERS must be a whole number of at least 1"):
        runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("config_file", "recorded"),
    [("gunicorn.conf.py", False), ("bench/timed_gunicorn.conf.py", True)],
)
def test_each_web_worker_freezes_its_start_up_heap_and_collects_the_young_less_often(
    config_file, recorded
):
    """The Procfile's hook, and the benchmark's, which runs it and then records each
    collection. In a child process: the hook changes the interpreter's collector for good."""
    hook = (
        "import gc, os, runpy, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'skillstudio.settings')\n"
        "django.setup()\n"
        f"conf = runpy.run_path({config_file!r})\n"
        "conf['post_worker_init'](None)\n"
        "gc.collect()\n"
        "print(gc.get_threshold()[0], gc.get_freeze_count() > 10_000,"
        # a view module, imported with the URL patterns before the freeze, and a task
        # module, imported for defer()'s registry check instead of by a first write
        " 'learning.views' in sys.modules, 'insights.tasks' in sys.modules,"
        " bool(conf.get('_collections')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook], cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10000", "True", "True", "True", str(recorded)]


def test_the_benchmark_serves_with_the_web_process_settings():
    product = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    timed = runpy.run_path(str(BASE_DIR / "bench" / "timed_gunicorn.conf.py"))
    for name in ("worker_class", "workers", "threads", "keepalive", "timeout"):
        assert timed[name] == product[name]
    for hook in ("on_starting", "on_reload"):
        assert timed[hook].__code__ == product[hook].__code__


def test_collections_are_attributed_to_the_rows_they_paused():
    workers = [
        [[100.0, 0, 2.5], [105.0, 2, 180.0], [130.0, 1, 9.0]],
        [[104.0, 0, 3.0], [131.0, 2, 95.0]],
    ]
    assert collection_pauses(workers, 100.0, 120.0) == {
        "collections": 3,
        "full_collections": 1,
        "longest_pause_ms": 180.0,
        "paused_ms": 185.5,
    }
    assert collection_pauses(workers, 120.0, 140.0)["longest_pause_ms"] == 95.0
    assert collection_pauses(workers, 140.0, 150.0) == {
        "collections": 0,
        "full_collections": 0,
        "longest_pause_ms": 0.0,
        "paused_ms": 0.0,
    }
    assert collection_pauses([workers[1]])["paused_ms"] == 98.0
