"""`make run` stops its processes together: one signal each at once, one overall wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from skillstudio.devstack import PLAIN_HTTP_SETTINGS, Managed, served_over_plain_http, stop_all

# A process that says it is ready once its signal handling is in place, then waits.
GRACEFUL = "import time; print('ready', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)
# Forks a server-like process that is not our child (as pg_ctl and redis --daemonize do)
# and prints its pid.
DAEMON = (
    "import os, sys, time\n"
    "if os.fork():\n"
    "    sys.exit(0)\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def spawn() -> Iterator:
    started: list[psutil.Process] = []

    def start(code: str) -> psutil.Popen:
        child = psutil.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert child.stdout.readline().strip() == "ready"
        started.append(child)
        return child

    def start_daemon() -> psutil.Process:
        parent = subprocess.Popen(  # noqa: S603 - our own interpreter, a constant script
            [sys.executable, "-c", DAEMON], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        daemon = psutil.Process(int(parent.stdout.readline()))
        parent.wait(timeout=10)
        parent.stdout.close()
        started.append(daemon)
        return daemon

    start.daemon = start_daemon
    yield start
    for process in started:  # whatever a failing test left behind
        if process.is_running():
            process.kill()


def test_stubborn_processes_are_waited_for_together_then_killed(spawn):
    stubborn = [Managed(f"stubborn-{n}", spawn(STUBBORN)) for n in range(3)]
    graceful = Managed("web", spawn(GRACEFUL), signal.SIGINT)

    began = time.monotonic()
    killed = stop_all([*stubborn, graceful], timeout=1.0)
    elapsed = time.monotonic() - began

    # One overall second, not one second per process in turn (3 s and more).
    assert elapsed < 2.5
    assert killed == ["stubborn-0", "stubborn-1", "stubborn-2"]
    assert not any(item.process.is_running() for item in [*stubborn, graceful])
    # The graceful one stopped on its signal (SIGINT: KeyboardInterrupt), before the kill.
    assert graceful.process.wait(timeout=1) != -signal.SIGKILL


def test_servers_started_as_daemons_stop_with_the_children(spawn):
    daemon = spawn.daemon()
    children = [Managed(name, spawn(GRACEFUL)) for name in ("web", "worker", "beat")]

    began = time.monotonic()
    killed = stop_all(children, [Managed("redis", daemon)], timeout=5.0)

    assert killed == []
    assert time.monotonic() - began < 2.5
    assert not daemon.is_running()
    assert all(item.process.returncode == -signal.SIGTERM for item in children)


def test_processes_already_gone_are_no_error(spawn):
    child = spawn(GRACEFUL)
    child.kill()
    child.wait(timeout=5)

    assert stop_all([Managed("web", child)], timeout=1.0) == []


def test_servers_are_signalled_once_their_clients_have_stopped(spawn, tmp_path):
    # A client that takes a moment to stop (beat saving its schedule), then the server.
    record = tmp_path / "order"
    writes = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    time.sleep({delay})\n"
        "    open({path!r}, 'a').write('{name}\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    client = spawn(writes.format(delay=0.3, path=str(record), name="client"))
    server = spawn(writes.format(delay=0, path=str(record), name="server"))

    killed = stop_all([Managed("beat", client)], [Managed("postgres", server)], timeout=5.0)

    assert killed == []
    assert record.read_text().split() == ["client", "server"]


SETTINGS_AS_READ = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.STORAGES['staticfiles']['BACKEND'])"
)


def _settings_in(env: dict[str, str]) -> str:
    env = {**env, "DJANGO_SETTINGS_MODULE": "skillstudio.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter, a constant script
        [sys.executable, "-c", SETTINGS_AS_READ], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_make_run_serves_production_settings_over_plain_http():
    """QA walk (issue 13): under `make run` a missing lesson showed Django's technical 404
    with the URL list. The app now runs with DEBUG off (the site's error pages, WhiteNoise's
    collected files) and only the https-only settings relaxed, so logging in over
    http://127.0.0.1 works; the test suite runs on the same settings."""
    base = {k: v for k, v in os.environ.items() if k not in PLAIN_HTTP_SETTINGS}
    base.pop("DEBUG", None)

    served = served_over_plain_http(base)

    assert _settings_in(served) == (
        "False False False False whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    # Without the relaxation the same settings would redirect http to https.
    assert _settings_in({**base, "DEBUG": "false"}).startswith("False True True True")


def test_a_developer_can_still_ask_make_run_for_debug_pages():
    served = served_over_plain_http({**os.environ, "DEBUG": "true"})

    assert _settings_in(served).startswith("True False False False")
