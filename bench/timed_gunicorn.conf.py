"""bench.run's gunicorn settings: the web process's own (gunicorn.conf.py at the repository
root) and a record of each worker's garbage collections, which pause all of its threads.

Each worker keeps (start time, generation, pause ms) per collection and writes them as JSON
to $BENCH_GC_DIR/gc-<pid>.json when it exits; bench.run attributes them to the rows it
measured. The record is one tuple per collection: it does not change what is measured.
"""

import gc
import json
import os
import runpy
import time
from pathlib import Path

_web = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({name: value for name, value in _web.items() if not name.startswith("_")})

_collections: list[tuple[float, int, float]] = []
_started: list[float] = []  # the running collection's (epoch, perf_counter)


def _record(phase: str, info: dict) -> None:
    if phase == "start":
        _started[:] = [time.time(), time.perf_counter()]
    elif _started:
        pause_ms = (time.perf_counter() - _started[1]) * 1000
        _collections.append((_started[0], info["generation"], round(pause_ms, 2)))


def post_worker_init(worker):
    _web["post_worker_init"](worker)
    gc.callbacks.append(_record)


def worker_exit(server, worker):
    path = Path(os.environ["BENCH_GC_DIR"], f"gc-{os.getpid()}.json")
    path.write_text(json.dumps(_collections))
