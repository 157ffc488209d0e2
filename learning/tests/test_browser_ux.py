"""Keyboard, history and e-mail flows in a real Chromium (pytest -m browser)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import LearnerProfile
from catalog.models import Difficulty
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.tests.factories import RecommendationFactory
from learning.tests.factories import LearnerEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _log_in(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/learn/$"))


def test_focus_moves_to_the_updated_card_after_accept_by_keyboard(
    page: Page, live_server, learner, console_errors
):
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(title="Python Basics", skills=[python])
    lesson = LessonFactory(module=ModuleFactory(course=course), title="Variables")
    rec = RecommendationFactory(learner=learner, lesson=lesson, reason="Next in sequence")
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server, learner.email)

    # The button names its item for a screen reader.
    accept = page.get_by_role("button", name="Accept: Variables", exact=True)
    expect(page.get_by_role("button", name="Skip: Variables", exact=True)).to_be_visible()
    accept.focus()
    page.keyboard.press("Enter")

    status = page.locator(f"#rec-{rec.pk} [role=status]")
    expect(status).to_contain_text("Accepted")
    expect(status).to_be_focused()
    # Tab continues inside the card, not from the top of the page.
    page.keyboard.press("Tab")
    card = page.locator(f"#rec-{rec.pk}")
    expect(card.get_by_role("link", name="Open the lesson")).to_be_focused()
    assert console_errors == []


def test_back_after_filtering_restores_results_and_filters_together(
    page: Page, live_server, console_errors
):
    python = SkillFactory(slug="python", name="Python")
    sql = SkillFactory(slug="sql", name="SQL")
    CourseFactory(title="Python Basics", skills=[python], difficulty=Difficulty.BEGINNER)
    CourseFactory(title="Advanced Python", skills=[python], difficulty=Difficulty.ADVANCED)
    CourseFactory(title="SQL Basics", skills=[sql], difficulty=Difficulty.BEGINNER)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/catalog/")
    expect(page.get_by_role("heading", name="3 courses")).to_be_visible()

    page.get_by_label("Difficulty").select_option("beginner")
    expect(page.get_by_role("heading", name="2 courses")).to_be_visible()
    expect(page).to_have_url(re.compile(r"difficulty=beginner"))
    page.get_by_label("Skill").select_option("python")
    expect(page.get_by_role("heading", name="1 course")).to_be_visible()
    expect(page).to_have_url(re.compile(r"skill=python"))
    # Taking the snapshot for Back leaves the live controls as the learner set them.
    expect(page.get_by_label("Skill")).to_have_value("python")
    expect(page.get_by_label("Difficulty")).to_have_value("beginner")

    page.go_back()

    expect(page.get_by_role("heading", name="2 courses")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"skill=python"))
    expect(page.get_by_label("Difficulty")).to_have_value("beginner")
    expect(page.get_by_label("Skill")).to_have_value("")

    # A shared link shows the same state.
    page.goto(f"{live_server.url}/catalog/?difficulty=beginner&skill=python")
    expect(page.get_by_role("heading", name="1 course")).to_be_visible()
    expect(page.get_by_label("Skill")).to_have_value("python")
    assert console_errors == []


def test_password_reset_by_email(page: Page, live_server, learner, console_errors):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(learner.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_label("New password:", exact=True).fill("a-brand-new-passphrase")
    page.get_by_label("New password confirmation").fill("a-brand-new-passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

    page.get_by_role("link", name="Log in").last.click()
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label("Password").fill("a-brand-new-passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/learn/$"))
    assert console_errors == []


def test_progress_charts_fit_a_phone(page: Page, live_server, learner, console_errors):
    LearnerEventFactory(learner=learner, occurred_at=timezone.now() - timedelta(minutes=1))
    _log_in(page, live_server, learner.email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/insights/progress/")

    # Today's bar (the only one) and its date label are on screen, not scrolled away.
    bar = page.locator("svg.chart rect.bar").last
    box = bar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    label = page.locator("svg.chart text[text-anchor=end]").last.bounding_box()
    assert label is not None and label["x"] + label["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert console_errors == []


def test_sign_up_preselects_the_browsers_time_zone(browser, live_server):
    context = browser.new_context(timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/signup/")

        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
        # Onboarding never asks again.
        page.get_by_label("Email").fill("tomo@example.com")
        page.get_by_label("Password").fill("a-long-unusual-passphrase")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading", name="What do you want to get good at?")).to_be_visible()
        expect(page.get_by_label("Time zone")).to_have_count(0)
    finally:
        context.close()

    assert LearnerProfile.objects.get(user__email="tomo@example.com").timezone == "Asia/Tokyo"


def test_instructor_lands_on_teach_and_a_learner_reads_locks_and_skips(
    page: Page, live_server, learner, instructor, console_errors
):
    """After login an instructor is on /teach/; on a course page a learner reads one
    sentence per lock with the way to unlock it, and the lessons their path skips."""
    from insights.services import learning_path_generate
    from insights.tests.factories import LearnerSkillStateFactory
    from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(instructor.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/teach/$"))
    page.context.clear_cookies()

    python = SkillFactory(slug="python", name="Python")
    flask = SkillFactory(slug="flask", name="Flask")
    sql = SkillFactory(slug="sql", name="SQL")
    basics = CourseFactory(title="SQL Basics", skills=[sql])
    LessonFactory(module=ModuleFactory(course=basics), title="SELECT")
    reports = CourseFactory(title="SQL Reports", skills=[sql], prerequisites=[basics])
    LessonFactory(module=ModuleFactory(course=reports), title="GROUP BY")
    web = CourseFactory(title="Flask Web Apps", skills=[flask, python])
    module = ModuleFactory(course=web, order=1)
    LessonFactory(module=module, order=1, title="Python refresher", skills=[python])
    routes = LessonFactory(module=module, order=2, title="Routes", skills=[flask])
    LessonFactory(
        module=module, order=3, title="Python helpers", skills=[python], prerequisites=[routes]
    )
    now = timezone.now()
    LearnerSkillStateFactory(
        learner=learner,
        skill=python,
        mastery=0.85,
        level=9,
        evidence_count=6,
        correct_count=5,
        distinct_questions=5,
        last_practiced_at=now - timedelta(days=1),
    )
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=flask, target_level=7)
    learning_path_generate(goal=goal, now=now)
    _log_in(page, live_server, learner.email)

    page.goto(f"{live_server.url}{reports.get_absolute_url()}")
    lock = page.locator("section[aria-labelledby=locked-heading] li")
    expect(lock).to_have_text(
        "Builds on the course SQL Basics: complete it first, or show you are proficient in "
        "SQL with its course challenge."
    )
    expect(lock.get_by_role("link", name="SQL Basics")).to_be_visible()
    expect(lock.get_by_role("button", name="its course challenge")).to_be_visible()

    page.goto(f"{live_server.url}{web.get_absolute_url()}")
    outline = page.locator("ol.outline")
    expect(outline.get_by_text("You can skip this: Python proficient on 6 answers.")).to_have_count(
        2
    )
    helpers = outline.locator("li", has_text="Python helpers")
    expect(helpers).to_contain_text("Locked")
    expect(helpers).to_contain_text(
        "Builds on the lesson Routes: complete it first, or show you are proficient in Flask "
        "with a skill check."
    )
    outline.get_by_role("link", name="Python refresher").click()
    expect(page.get_by_role("heading", name="Python refresher")).to_be_visible()
    expect(page.get_by_text("You can skip this: Python proficient on 6 answers.")).to_be_visible()
    assert console_errors == []
