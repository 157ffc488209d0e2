"""`make run` stops its processes together: one signal each at once, one overall wait."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from skillstudio.devstack import Managed, stop_all

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
