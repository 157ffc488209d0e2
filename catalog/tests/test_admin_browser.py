"""Authoring helpers in a real Chromium (pytest -m browser): preview and publish buttons.

The admin runs under the strict CSP (no inline script or style): a violation would show
as a console error, which these tests refuse.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(msg) -> None:
        # Failed loads are checked by their responses below (the admin links no favicon,
        # so Chromium's own /favicon.ico probe is a 404 that is nobody's error).
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _signed_in(page: Page, live_server, client, user) -> None:
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_markdown_preview_and_publish_button(
    page: Page, live_server, client, instructor, console_errors
):
    course = CourseFactory(owner=instructor, title="Shell basics", status=Course.Status.DRAFT)
    lesson = LessonFactory(module=ModuleFactory(course=course, order=1), order=1, body="")
    _signed_in(page, live_server, client, instructor)

    page.goto(f"{live_server.url}/admin/catalog/lesson/{lesson.pk}/change/")
    page.locator("textarea[name=body]").fill("## Pipes\n\nJoin **commands** with `|`.")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator(".markdown-preview")
    expect(preview.locator("h2")).to_have_text("Pipes")
    expect(preview.locator("strong")).to_have_text("commands")
    expect(page.get_by_role("button", name="Hide preview")).to_be_visible()

    page.goto(f"{live_server.url}/admin/catalog/course/{course.pk}/change/")
    page.get_by_role("button", name="Publish").click()

    expect(page.locator(".messagelist")).to_have_text(
        "“Shell basics” is published: learners can see it."
    )
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    assert console_errors == []
