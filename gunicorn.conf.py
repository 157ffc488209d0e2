"""The web process's gunicorn settings (the Procfile's `gunicorn skillstudio.wsgi` reads
./gunicorn.conf.py): the shape `bench.run` measures, which takes its defaults from here.

gthread workers measured faster than sync ones on 2 cores for every endpoint
(BENCHMARKS.md): 2 workers (one per core of the measured machine; set WEB_WORKERS to the
cores a machine really has: a container may see the host's), 4 threads each (one
PostgreSQL connection per thread, WEB_THREADS). gunicorn binds to $PORT when it is set.
"""

import os


def _count(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.")
    return int(value)


worker_class = "gthread"
workers = _count("WEB_WORKERS", 2)
threads = _count("WEB_THREADS", 4)
# A dashboard computed from scratch at 10x data takes well under a second; 120 s leaves a
# slow export or upload room before the arbiter kills its worker.
timeout = 120
