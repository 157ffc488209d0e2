"""Project-wide pytest fixtures, loaded as a plugin (`-p skillstudio.testing` in pytest.ini).

pytest.ini loads pytest-playwright (`-p playwright`) before this plugin so that the
overrides here win over its fixtures of the same name. Model imports stay inside
fixtures and functions: this module is imported before Django is set up.

Every app's tests can use what is here: users (`learner`, `instructor`, `admin_user`…),
API clients (`api`, `as_user`), a small complete API world (`build_world`), and for the
worker integration tests a throwaway Redis and real Celery workers (`workers`).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from skillstudio.devstack import BASE_DIR, _redis_binary

if TYPE_CHECKING:
    from assessments.models import Assessment, AssessmentAttempt, Question
    from catalog.models import Course, Lesson, Module, Skill
    from insights.models import DropoutRisk, LearningPathSnapshot, Recommendation
    from learning.models import Enrollment, LearningGoal, LessonProgress

# pytest-django's live_server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

WAIT_SECONDS = 30

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Tests that start processes (a browser, Celery workers) are slow by nature: `make quick`
# (pytest -m "not slow") leaves them out; `make test` and CI run them.
SLOW_BY_NATURE = ("browser", "worker")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: the mark must be on the item before `-m` deselects.
    for item in items:
        if any(item.get_closest_marker(name) for name in SLOW_BY_NATURE):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Drive Debian's Chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Argon2 at production cost takes ~0.3 s per hash and every factory user hashes
    # one; the tests are about behaviour, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in the Redis cache and must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_model_loader():
    """The process-wide model loader would otherwise serve a model cached by an earlier test
    (course recommendations consult it, so any test may)."""
    from insights.ml import registry

    registry.loader.clear()
    yield
    registry.loader.clear()


@pytest.fixture
def plain_static(settings) -> None:
    """Serve /static/ from the finders with unhashed names during browser tests.

    live_server's static handler looks files up through the finders, which know
    nothing of the manifest storage's hashed names (app.3f2a….css) used when DEBUG
    is off, so every stylesheet and script would be a 404.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def learner(db):
    from accounts.tests.factories import LearnerFactory

    return LearnerFactory(email="alice@example.com", full_name="Alice Learner")


@pytest.fixture
def other_learner(db):
    from accounts.tests.factories import LearnerFactory

    return LearnerFactory(email="bob@example.com", full_name="Bob Learner")


@pytest.fixture
def instructor(db):
    from accounts.tests.factories import InstructorFactory

    return InstructorFactory(email="ines@example.com", full_name="Ines Instructor")


@pytest.fixture
def other_instructor(db):
    from accounts.tests.factories import InstructorFactory

    return InstructorFactory(email="oscar@example.com", full_name="Oscar Instructor")


@pytest.fixture
def admin_user(db):
    from accounts.tests.factories import AdminFactory

    return AdminFactory(email="root@example.com", full_name="Ada Admin")


@pytest.fixture
def provider(settings):
    """The tutor's LLM provider, faked on a local HTTP server (catalog.tests.fake_provider);
    the settings point the tutor at it."""
    from catalog.tests.fake_provider import FakeProvider

    server = FakeProvider()
    settings.TUTOR_PROVIDER = "openai"
    settings.TUTOR_MODEL = "fake-model"
    settings.TUTOR_API_KEY = "sk-test"
    settings.TUTOR_BASE_URL = server.url
    settings.TUTOR_TIMEOUT_SECONDS = 2
    settings.TUTOR_RATE_LIMIT = "20/hour"
    yield server
    server.close()


# --- API clients -------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


# --- Worker integration: a throwaway Redis and real Celery workers ------------------
#
# Each test gets its own redis-server on a unix socket under tmp_path, so stopping it
# (broker outage) never touches the worktree's shared Redis and a developer's running
# worker never steals test messages. Workers are separate ``celery worker`` processes
# connected to the test database, which is why these tests use ``transactional_db``:
# the worker only sees committed rows.


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

    def queued(self, queue: str = "celery") -> list[dict]:
        """Task messages waiting in a Celery queue, oldest first: id, task name, kwargs."""
        messages = []
        for raw in reversed(self.client().lrange(queue, 0, -1)):  # LPUSHed: newest first
            message = json.loads(raw)
            _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
            headers = message["headers"]
            messages.append({"id": headers["id"], "task": headers["task"], "kwargs": kwargs})
        return messages

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
                "--queues", "celery,bulk",
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


# --- A small, complete world for API tests: one of every object, owned by known users --

PASSWORD = "correct-horse-battery"  # the user factories' password


@dataclass
class World:
    skill: Skill
    course: Course
    spare_course: Course
    draft_course: Course
    module: Module
    lesson: Lesson
    spare_module: Module
    spare_lesson: Lesson
    assessment: Assessment
    spare_assessment: Assessment
    question: Question
    goal: LearningGoal
    enrollment: Enrollment
    progress: LessonProgress
    attempt: AssessmentAttempt
    recommendation: Recommendation
    risk: DropoutRisk
    snapshot: LearningPathSnapshot
    refresh_token: str


def build_world(*, learner, instructor) -> World:
    """Courses and assessments owned by ``instructor``; goals, progress… by ``learner``."""
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from assessments.models import AssessmentAttempt
    from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
    from catalog.models import Course
    from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
    from insights.models import DropoutRisk
    from insights.paths import generate_learning_path
    from insights.tests.factories import RecommendationFactory
    from learning.tests.factories import (
        EnrollmentFactory,
        GoalSkillFactory,
        LearningGoalFactory,
        LessonProgressFactory,
    )

    skill = SkillFactory(slug="python", name="Python")
    course = CourseFactory(owner=instructor, title="Python Basics", skills=[skill])
    spare_course = CourseFactory(owner=instructor, title="Spare Course")
    draft_course = CourseFactory(owner=instructor, title="Draft", status=Course.Status.DRAFT)
    module = ModuleFactory(course=course, order=1, title="Getting started")
    lesson = LessonFactory(module=module, order=1, title="Variables", skills=[skill])
    # Nobody has studied the spare module yet, so its author may delete it.
    spare_module = ModuleFactory(course=course, order=2, title="Extras")
    spare_lesson = LessonFactory(module=spare_module, order=1, title="Trivia")
    assessment = AssessmentFactory(owner=instructor, course=course, title="Python quiz")
    spare_assessment = AssessmentFactory(owner=instructor, title="Spare quiz")
    question = QuestionFactory(assessment=assessment, skill=skill, order=1)
    ChoiceFactory(question=question, text="Yes", is_correct=True)
    ChoiceFactory(question=question, text="No")
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=skill, target_level=7)
    now = timezone.now()
    enrollment = EnrollmentFactory(learner=learner, course=course)
    return World(
        skill=skill,
        course=course,
        spare_course=spare_course,
        draft_course=draft_course,
        module=module,
        lesson=lesson,
        spare_module=spare_module,
        spare_lesson=spare_lesson,
        assessment=assessment,
        spare_assessment=spare_assessment,
        question=question,
        goal=goal,
        enrollment=enrollment,
        progress=LessonProgressFactory(learner=learner, lesson=lesson),
        attempt=AssessmentAttempt.objects.create(
            learner=learner, assessment=assessment, started_at=now
        ),
        recommendation=RecommendationFactory(learner=learner, lesson=lesson),
        risk=DropoutRisk.objects.create(
            enrollment=enrollment,
            probability=0.7,
            level=DropoutRisk.Level.HIGH,
            factors=[
                {"factor": "days_since_activity", "text": "no activity for 12 days", "weight": 0.8}
            ],
            features={"days_since_activity": 12.0},
            scored_at=now,
        ),
        snapshot=generate_learning_path(goal=goal, now=now),
        refresh_token=str(RefreshToken.for_user(learner)),
    )
