"""An instructor acts on an at-risk learner and the learner sees the message (Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.tests.factories import InstructorFactory, LearnerFactory
from insights.models import InstructorMessage, RiskReview
from skillstudio.testing import build_world

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]


def _log_in(page: Page, base: str, email: str, landing: str = r"/learn/$") -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(landing))


def test_instructor_messages_an_at_risk_learner_who_reads_it(page: Page, live_server):
    learner = LearnerFactory(email="alice@example.com", full_name="Alice Learner")
    instructor = InstructorFactory(email="ines@example.com", full_name="Ines Instructor")
    world = build_world(learner=learner, instructor=instructor)
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    _log_in(page, base, instructor.email, landing=r"/teach/$")
    page.goto(f"{base}/teach/courses/{world.course.pk}/at-risk/")
    card = page.locator(f"#risk-{world.enrollment.pk}")
    expect(card).to_contain_text("no activity for 12 days")
    card.get_by_label("Message to Alice Learner").fill("Shall we plan this week together?")
    card.get_by_role("button", name="Send message").click()
    # HTMX swapped the card in place: the notice and the recorded action are in it.
    expect(card).to_contain_text("Message sent")
    expect(card).to_contain_text("messaged the learner by Ines Instructor")
    card.get_by_role("button", name="Not useful").click()
    expect(card).to_contain_text("not useful by Ines Instructor")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "teach-at-risk.png", full_page=True)
    page.goto(f"{base}/teach/courses/{world.course.pk}/learners/")
    page.screenshot(path=ARTIFACTS / "teach-learners.png", full_page=True)
    assert sorted(RiskReview.objects.values_list("action", flat=True)) == [
        "messaged",
        "not_useful",
    ]

    page.context.clear_cookies()
    _log_in(page, base, learner.email)
    messages = page.locator("#instructor-messages")
    expect(messages).to_contain_text("Shall we plan this week together?")
    expect(messages).to_contain_text("Ines Instructor")
    page.screenshot(path=ARTIFACTS / "dashboard-message.png", full_page=True)
    messages.get_by_role("button", name="Mark as read").click()
    expect(messages).to_contain_text("Read")
    assert InstructorMessage.objects.get().read_at is not None
    assert errors == []
