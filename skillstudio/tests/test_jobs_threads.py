"""The task registry check in defer() under concurrent first calls (gunicorn gthread)."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

SCRIPT = """
import threading
import django
django.setup()
from skillstudio.jobs import LEARNER_FOLLOW_UP, registered_task_names
seen = []
threads = [
    threading.Thread(target=lambda: seen.append(LEARNER_FOLLOW_UP in registered_task_names()))
    for _ in range(8)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(seen.count(True), len(seen))
"""


def test_every_thread_of_a_fresh_process_sees_the_registered_tasks():
    done = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert done.stdout.split() == ["8", "8"]
