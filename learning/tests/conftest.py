from __future__ import annotations

import os

import pytest
from django.core.cache import cache

from skillstudio.testing import CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium for the browser tests.

    skillstudio.testing defines the same override, but as a `-p` plugin it registers
    before pytest-playwright, whose own fixture then wins; a conftest comes later.
    """
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


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


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Browser tests log in through the throttled form; start each with a clean count.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Argon2 at production cost takes ~0.3 s per hash and every factory user hashes one;
    # these tests are about pages, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
