"""Accessibility audit: axe-core on every main page, at 1280 and 390 px, as an anonymous
visitor, a new learner and the demo learner (pytest -m browser).

Zero serious or critical violations of WCAG 2.0/2.1/2.2 A and AA rules. axe-core is a
vendored test asset (skillstudio/tests/assets), injected by the test, never fetched.
The WCAG 2.2 criteria axe cannot check are reviewed by hand (README, "Accessibility").
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from assessments.models import Assessment, AssessmentAttempt
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson
from learning.models import Enrollment, LearningGoal
from skillstudio.devstack import DEMO_ACCOUNTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

AXE = Path(__file__).parent / "assets" / "axe-core-4.14.1" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    # The pages' Content-Security-Policy rightly refuses inline scripts; the audit's own
    # injected script is not part of the page under test.
    return {**browser_context_args, "bypass_csp": True}


def _audit(page: Page, url: str) -> list[str]:
    problems = []
    for width_name, size in WIDTHS.items():
        page.set_viewport_size(size)
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        for violation in result["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(
                    f"{url} @ {width_name}: {violation['id']} ({violation['impact']}): "
                    f"{violation['help']} {json.dumps(targets)}"
                )
    return problems


def _log_in(page: Page, base: str, email: str, password: str, landing: str = "/learn/") -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{landing}")


@pytest.fixture
def demo_world():
    seed_demo(now=timezone.now() - timedelta(minutes=1))
    accounts = {role: (email, password) for role, email, password in DEMO_ACCOUNTS}
    return accounts


def _public_pages(base: str) -> list[str]:
    course = Course.objects.filter(status=Course.Status.PUBLISHED).order_by("pk").first()
    lesson = Lesson.objects.filter(module__course=course).order_by("module__order", "order").first()
    return [
        f"{base}/",
        f"{base}/catalog/",
        f"{base}/catalog/?q=python",
        f"{base}{course.get_absolute_url()}",
        f"{base}/learn/lessons/{lesson.pk}/",
    ]


def test_anonymous_pages_have_no_serious_violations(page: Page, live_server, demo_world):
    base = live_server.url
    pages = [
        *_public_pages(base)[:4],
        f"{base}/accounts/login/",
        f"{base}/accounts/signup/",
        f"{base}/accounts/password/reset/",
        f"{base}/accounts/password/reset/sent/",
    ]

    problems = [problem for url in pages for problem in _audit(page, url)]

    assert problems == [], "\n".join(problems)


def test_new_learner_pages_have_no_serious_violations(page: Page, live_server, demo_world):
    base = live_server.url
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Your name").fill("Nia New")
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_label("Password").fill("a-long-unusual-passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/learn/onboarding/")
    pages = [
        f"{base}/learn/",
        f"{base}/learn/onboarding/",
        f"{base}/accounts/",
        f"{base}/accounts/password/",
        f"{base}/insights/paths/",
        f"{base}/insights/progress/",
        *_public_pages(base)[1:],
    ]

    problems = [problem for url in pages for problem in _audit(page, url)]

    assert problems == [], "\n".join(problems)


def test_demo_learner_pages_have_no_serious_violations(page: Page, live_server, demo_world):
    base = live_server.url
    email, password = demo_world["learner"]
    _log_in(page, base, email, password)
    goal = LearningGoal.objects.filter(learner__email=email).order_by("pk").first()
    attempt = (
        AssessmentAttempt.objects.filter(learner__email=email, submitted_at__isnull=False)
        .order_by("-submitted_at")
        .first()
    )
    quiz = Assessment.objects.filter(kind=Assessment.Kind.QUIZ, is_published=True).first()
    pages = [
        f"{base}/learn/",
        f"{base}/accounts/",
        f"{base}/insights/paths/",
        f"{base}/insights/progress/",
        f"{base}/learn/goals/new/",
        *_public_pages(base)[1:],
    ]
    if goal:
        pages += [f"{base}/insights/paths/{goal.pk}/", f"{base}/learn/goals/{goal.pk}/edit/"]
    if attempt:
        pages.append(f"{base}/assessments/attempts/{attempt.pk}/")
    if quiz:
        pages.append(f"{base}/assessments/{quiz.pk}/")

    problems = [problem for url in pages for problem in _audit(page, url)]

    assert problems == [], "\n".join(problems)


def test_instructor_pages_have_no_serious_violations(page: Page, live_server, demo_world):
    """The authoring pages an instructor uses today (the admin site); the instructor
    insight pages of the same wave join this list when they land."""
    base = live_server.url
    email, password = demo_world["instructor"]
    page.goto(f"{base}/admin/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")
    course = Course.objects.filter(owner__email=email).order_by("pk").first()
    pages = [
        f"{base}/admin/",
        f"{base}/admin/catalog/course/",
        f"{base}/admin/assessments/question/",
    ]
    if course:
        pages.append(f"{base}/admin/catalog/course/{course.pk}/change/")

    problems = [problem for url in pages for problem in _audit(page, url)]

    assert problems == [], "\n".join(problems)


def test_instructor_insight_pages_have_no_serious_violations(page: Page, live_server, demo_world):
    """The instructor's own pages (/teach/): courses, overview, learners, at-risk list, a
    learner's detail and item analysis."""
    base = live_server.url
    email, password = demo_world["instructor"]
    _log_in(page, base, email, password, landing="/teach/")
    course = Course.objects.filter(owner__email=email).order_by("pk").first()
    quiz = Assessment.objects.filter(course=course).order_by("pk").first()
    enrollment = Enrollment.objects.filter(course=course).order_by("pk").first()
    pages = [
        f"{base}/teach/",
        f"{base}/teach/courses/{course.pk}/",
        f"{base}/teach/courses/{course.pk}/learners/",
        f"{base}/teach/courses/{course.pk}/at-risk/",
    ]
    if enrollment:
        pages.append(f"{base}/teach/courses/{course.pk}/learners/{enrollment.learner_id}/")
    if quiz:
        pages.append(f"{base}/teach/assessments/{quiz.pk}/item-analysis/")

    problems = [problem for url in pages for problem in _audit(page, url)]

    assert problems == [], "\n".join(problems)
