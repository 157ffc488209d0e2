"""Fixtures for skillstudio's tests: API clients, and for the worker integration tests a
throwaway Redis and real Celery workers.

Each test gets its own redis-server on a unix socket under tmp_path, so
stopping it (broker outage) never touches the worktree's shared Redis and a
developer's running worker never steals test messages. Workers are separate
``celery worker`` processes connected to the test database, which is why
these tests use ``transactional_db``: the worker only sees committed rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from rest_framework.test import APIClient

from skillstudio.devstack import BASE_DIR, _redis_binary

WAIT_SECONDS = 30


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def wait_for(
    condition: Callable[[], object],
    *,
    what: str,
    timeout: float = WAIT_SECONDS,
    details: Callable[[], str] = str,
) -> None:
    """Poll until ``condition()`` is truthy; fail naming ``what`` (plus ``details()``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}\n{details()}")


@dataclass
class RedisServer:
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def celery_url(self) -> str:
        return f"redis+socket://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                _redis_binary(),
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=10, what="redis-server to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory=tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server: RedisServer, settings) -> RedisServer:
    """Point this process's Celery broker (and Redis cache URL) at the throwaway Redis."""
    settings.CELERY_BROKER_URL = redis_server.celery_url
    settings.REDIS_URL = redis_server.url
    return redis_server


def worker_database_url() -> str:
    """This process's DATABASE_URL with the test database's name in place of the real one."""
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@dataclass
class Workers:
    """Starts real `celery worker` processes against the test database and broker."""

    broker: RedisServer
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": self.broker.url,
            # A killed worker's unacknowledged message comes back within seconds.
            "CELERY_VISIBILITY_TIMEOUT": "1",
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        number = len(self.processes) + 1
        log = (self.log_dir / f"worker-{number}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                sys.executable, "-m", "celery", "-A", "skillstudio", "worker",
                "--pool", "solo", "--loglevel", "INFO", "--hostname", f"test{number}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        # The test is over: no need for a warm shutdown (seconds of waiting).
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def workers(transactional_db, broker: RedisServer, tmp_path: Path) -> Iterator[Workers]:
    # Requesting transactional_db first means the workers stop before the
    # database is flushed.
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    started = Workers(broker=broker, log_dir=log_dir)
    yield started
    started.stop_all()
