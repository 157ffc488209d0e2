"""The web process's gunicorn settings (the Procfile's `gunicorn skillstudio.wsgi` reads
./gunicorn.conf.py): the shape `bench.run` measures, which takes its defaults from here.

gthread workers measured faster than sync ones on 2 cores for every endpoint
(BENCHMARKS.md): 2 workers (one per core of the measured machine; set WEB_WORKERS to the
cores a machine really has: a container may see the host's), 2 threads each (one
PostgreSQL connection per thread, WEB_THREADS): with 4, the mixed workload's page after a
write waited longer at p99, its threads queueing for their worker's interpreter lock
(BENCHMARKS.md, "Round 2m"). gunicorn binds to $PORT when it is set. Each worker takes
only as many connections as it has threads (on_starting), and tunes its garbage collector
once the app is loaded (post_worker_init).
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
threads = _count("WEB_THREADS", 2)
# No keep-alive: a worker holds no more connections than it has threads (on_starting).
keepalive = 0
# A dashboard computed from scratch at 10x data takes well under a second; 120 s leaves a
# slow export or upload room before the arbiter kills its worker.
timeout = 120

# A collection holds the GIL, so it pauses every thread of the worker. With Python's
# defaults (a young collection every 700 allocations) the workers ran 35 full collections
# in bench.run's web rows at c = 8, of up to 260 ms; with these settings 5, of up to 114 ms,
# and 35% less time paused in all (BENCHMARKS.md "Round 2k", bench.run's collection record).
YOUNG_GENERATION_THRESHOLD = 10_000


def on_starting(server):
    """A worker takes a connection only when one of its threads is free (as many
    connections as threads, whatever set them: this file, WEB_THREADS or --threads), so
    the kernel hands the next one to a worker that can serve it at once. With keep-alive a
    client's connection stayed with the worker that first took it: in bench.run's mixed
    rows all 8 clients once landed on one worker while the other idled. Keep-alive belongs
    to the proxy in front, which opens a connection per request to gunicorn (README,
    "Production shape")."""
    server.cfg.set("worker_connections", server.cfg.threads)


# A reload (SIGHUP) reads this file again, resetting the limit, before it spawns new workers.
on_reload = on_starting


def post_worker_init(worker):
    """Once the app is loaded: import what requests would import on first use, then
    freeze what start-up allocated (modules, models, URL patterns, the views they import)
    so no collection traverses it again, and collect the young generation every 10,000
    allocations, so that fewer objects of the requests in flight survive into the older
    generations, whose collections pause longest.

    The task modules are imported here, not by a learner's first write: ``defer`` checks
    the task name against Celery's registry, whose modules import the models' libraries
    (scikit-learn, SciPy), 1.7 s on the measured machine."""
    from django.urls import get_resolver

    from skillstudio.jobs import registered_task_names

    get_resolver().url_patterns  # imports every view before the freeze  # noqa: B018
    registered_task_names()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
