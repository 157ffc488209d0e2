"""The web process's gunicorn settings (the Procfile's `gunicorn skillstudio.wsgi` reads
./gunicorn.conf.py): the shape `bench.run` measures, which takes its defaults from here.

gthread workers measured faster than sync ones on 2 cores for every endpoint
(BENCHMARKS.md): 2 workers (one per core of the measured machine; set WEB_WORKERS to the
cores a machine really has: a container may see the host's), 4 threads each (one
PostgreSQL connection per thread, WEB_THREADS). gunicorn binds to $PORT when it is set.
Each worker tunes its garbage collector once the app is loaded (post_worker_init).
"""

import gc
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

# A collection holds the GIL, so it pauses every thread of the worker. With Python's
# defaults (a young collection every 700 allocations) the workers ran 35 full collections
# in bench.run's web rows at c = 8, of up to 260 ms; with these settings 5, of up to 114 ms,
# and 35% less time paused in all (BENCHMARKS.md "Round 2k", bench.run's collection record).
YOUNG_GENERATION_THRESHOLD = 10_000


def post_worker_init(worker):
    """Once the app is loaded: freeze what start-up allocated (modules, models, URL
    patterns, the views they import) so no collection traverses it again, and collect the
    young generation every 10,000 allocations, so that fewer objects of the requests in
    flight survive into the older generations, whose collections pause longest."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports every view before the freeze  # noqa: B018
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
