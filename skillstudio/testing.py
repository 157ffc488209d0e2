"""Project-wide pytest fixtures, loaded as a plugin (`-p skillstudio.testing` in pytest.ini).

pytest.ini loads pytest-playwright (`-p playwright`) before this plugin so that the
overrides here win over its fixtures of the same name. Model imports stay inside
fixtures: this module is imported before Django is set up.
"""

from __future__ import annotations

import os

import pytest

# pytest-django's live_server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


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
