"""The tutor's buttons in a real Chromium (pytest -m browser): HTMX posts the question and
swaps the answer in, and a 429 shows its message in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

BODY = """\
## Bound every wait

`async with asyncio.timeout(2):` gives up on a slow server after two seconds.
"""


def test_ask_the_tutor_then_hit_the_limit(page: Page, live_server, learner, provider, settings):
    settings.TUTOR_RATE_LIMIT = "1/hour"
    provider.reply("Wrap the call in asyncio.timeout [1].")
    course = CourseFactory(title="Async", slug="async")
    lesson = LessonFactory(
        module=ModuleFactory(course=course, order=1), order=1, title="Timeouts", body=BODY
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/learn/$"))

    page.goto(f"{live_server.url}{lesson.get_absolute_url()}")
    page.get_by_label("Your question").fill("how do I stop waiting on a slow server")
    page.get_by_role("button", name="Ask the tutor").click()

    answer = page.locator("#answer")
    expect(answer).to_contain_text("Wrap the call in asyncio.timeout [1].")
    expect(answer.get_by_role("link", name="Timeouts")).to_have_attribute(
        "href", lesson.get_absolute_url()
    )
    expect(page).to_have_url(re.compile(re.escape(lesson.get_absolute_url()) + "$"))
    assert provider.requests[0]["body"]["messages"][-1]["content"].endswith(
        "Question: how do I stop waiting on a slow server"
    )

    page.get_by_role("button", name="Ask the tutor").click()
    expect(answer).to_contain_text("limit of 1 question per hour")
    assert len(provider.requests) == 1
    assert errors == []
