"""The Procfile's web process and the benchmark serve with the same gunicorn settings."""

from __future__ import annotations

import runpy

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from bench.run import BASE_DIR, parse_args


def procfile_web_settings(monkeypatch) -> dict:
    """What gunicorn loads for the Procfile's `gunicorn skillstudio.wsgi`, run from the
    repository root as every process manager does."""
    monkeypatch.chdir(BASE_DIR)
    monkeypatch.setattr("sys.argv", ["gunicorn", "skillstudio.wsgi"])
    cfg = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg
    return {"worker_class": cfg.worker_class_str, "workers": cfg.workers, "threads": cfg.threads}


def test_the_procfile_web_process_runs_threaded_workers(monkeypatch):
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    web = procfile_web_settings(monkeypatch)
    # Not gunicorn's defaults (one sync worker): what BENCHMARKS.md measured.
    assert web == {"worker_class": "gthread", "workers": 2, "threads": 4}

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


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_size_stops_gunicorn_with_the_reason(monkeypatch, value):
    monkeypatch.setenv("WEB_WORKERS", value)
    with pytest.raises(SystemExit, match="WEB_WORKERS must be a whole number of at least 1"):
        runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
