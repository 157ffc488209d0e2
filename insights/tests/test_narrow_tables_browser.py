"""Tables at 390 px (Chromium): no page scrolls sideways, and no column hides off-screen.

Tables marked ``.stack`` show each row as a card with every cell under its column's name;
the learners heatmap scrolls inside its region with the learner column pinned. Screenshots
land in test-artifacts/ for a look.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import InstructorFactory, LearnerFactory
from assessments.services import attempt_submit
from insights.recommendations import refresh_recommendations
from skillstudio.testing import build_world

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

# Per page: the page's own width, and each .stack table's width against its region's.
FITS = """() => ({
  page: document.documentElement.scrollWidth,
  viewport: document.documentElement.clientWidth,
  stacked: [...document.querySelectorAll('table.stack')].map(t => ({
    table: t.scrollWidth, region: t.closest('.table-wrap').clientWidth,
    label: getComputedStyle(t.querySelector('tbody td[data-label]'), '::before').content,
  })),
})"""


def _log_in(page: Page, base: str, email: str, landing: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(landing))


def _check(page: Page, url: str, name: str, stacked: int) -> None:
    page.goto(url)
    fits = page.evaluate(FITS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"narrow-{name}.png", full_page=True)
    assert fits["page"] <= fits["viewport"], f"{name}: the page scrolls sideways"
    assert len(fits["stacked"]) == stacked, name
    for table in fits["stacked"]:
        assert table["table"] <= table["region"], f"{name}: a stacked table overflows"
        # Each cell is labelled with its column's name (the header row is hidden).
        assert table["label"].endswith(': "'), f"{name}: {table['label']}"


def test_tables_are_readable_at_390_px(page: Page, live_server):
    learner = LearnerFactory(email="alice@example.com", full_name="Alice Learner")
    instructor = InstructorFactory(email="ines@example.com", full_name="Ines Instructor")
    world = build_world(learner=learner, instructor=instructor)
    right = world.question.choices.get(is_correct=True)
    attempt_submit(
        attempt=world.attempt,
        responses={world.question.pk: {"choices": [right.pk]}},
        now=timezone.now(),
    )
    refresh_recommendations(learner=learner, now=timezone.now())
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})

    _log_in(page, base, learner.email, r"/learn/$")
    _check(page, f"{base}/assessments/attempts/{world.attempt.pk}/", "attempt", stacked=1)
    expect(page.locator("table.stack td[data-label='Level before → after']")).to_be_visible()
    _check(page, f"{base}/insights/progress/", "progress", stacked=2)

    page.context.clear_cookies()
    _log_in(page, base, instructor.email, r"/teach/$")
    _check(page, f"{base}/teach/", "teach", stacked=1)
    course = world.course.pk
    _check(page, f"{base}/teach/courses/{course}/learners/{learner.pk}/", "learner", stacked=3)
    _check(page, f"{base}/teach/courses/{course}/learners/", "learners", stacked=0)
    # The heatmap scrolls inside its region, the learner column pinned at its left.
    name_cell = page.locator("table.heatmap tbody th[scope=row]").first
    assert name_cell.evaluate("th => getComputedStyle(th).position") == "sticky"
