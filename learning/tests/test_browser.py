"""The learner journey in a real Chromium against the live server (pytest -m browser).

Screenshots of the main pages land in test-artifacts/ (git-ignored), at desktop width
and at 390 px, so a person can look at them after a run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from assessments.models import Assessment, Question
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearnerSkillState, Recommendation
from insights.tests.factories import RecommendationFactory
from learning.models import LearnerEvent, LessonProgress
from learning.tests.follow_up import run_deferred_jobs

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _question(assessment: Assessment, order: int, prompt: str, skill) -> Question:
    question = QuestionFactory(
        assessment=assessment,
        skill=skill,
        order=order,
        prompt=prompt,
        explanation=f"Explanation for {prompt}",
    )
    ChoiceFactory(question=question, text="Right", is_correct=True, order=1)
    ChoiceFactory(question=question, text="Wrong", order=2)
    return question


@pytest.fixture
def content():
    """A small catalogue: one course on Python with two lessons, a diagnostic and a quiz."""
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(
        title="Python Basics",
        slug="python-basics",
        skills=[python],
        estimated_hours=6,
        description="Names, values and functions.",
    )
    module = ModuleFactory(course=course, title="First steps", order=1)
    first = LessonFactory(
        module=module,
        title="Variables",
        order=1,
        video_url="https://videos.skillstudio.test/variables.mp4",
        body="## Names\n\nA *name* points at a value.\n\n```python\nx = 1\n```",
        skills=[python],
    )
    second = LessonFactory(
        module=module, title="Functions", order=2, skills=[python], prerequisites=[first]
    )
    diagnostic = AssessmentFactory(title="Python diagnostic", kind=Assessment.Kind.DIAGNOSTIC)
    for order in range(1, 5):
        _question(diagnostic, order, f"Diagnostic question {order}", python)
    quiz = AssessmentFactory(title="Variables quiz", course=course, lesson=first)
    for order in range(1, 5):
        _question(quiz, order, f"Quiz question {order}", python)
    return {"course": course, "first": first, "second": second, "quiz": quiz}


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=ARTIFACTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=ARTIFACTS / f"{name}-390.png", full_page=True)
    # Nothing may force sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)


def _answer(page: Page, right: int) -> None:
    """Pick "Right" for the first `right` questions and "Wrong" for the rest, then submit."""
    fieldsets = page.locator("fieldset")
    for index in range(fieldsets.count()):
        fieldsets.nth(index).get_by_label("Right" if index < right else "Wrong").check()
    page.get_by_role("button", name="Submit answers").click()


def _log_in(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/learn/$"))


def test_whole_learner_journey(page: Page, live_server, content, console_errors):
    base = live_server.url
    page.set_viewport_size(DESKTOP)

    # Sign up.
    page.goto(f"{base}/")
    _shot(page, "home")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("Jo Journey")
    page.get_by_label("Email").fill("jo@example.com")
    page.get_by_label("Password").fill("a-long-unusual-passphrase")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Sign up").click()

    # Onboarding: goal skills, target level, weekly hours.
    expect(page.get_by_role("heading", name="What do you want to get good at?")).to_be_visible()
    _shot(page, "onboarding")
    page.get_by_label("Goal title").fill("Python developer")
    page.get_by_label("Python").select_option("8")
    page.get_by_label("Hours per week you can study").fill("3")
    page.get_by_role("button", name="Save goal and continue").click()

    # Diagnostic: half right.
    expect(page.get_by_role("heading", name="Python diagnostic")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    _shot(page, "diagnostic")
    _answer(page, right=2)
    expect(page.locator("#answer-counts")).to_have_text("2 of 4 answered correctly.")
    level_after_diagnostic = LearnerSkillState.objects.get(
        learner__email="jo@example.com", skill__slug="python"
    ).level
    row = page.locator("tbody tr", has_text="Python")
    expect(row).to_contain_text("2 of 4 answered correctly")
    expect(row).to_contain_text(f"→ {level_after_diagnostic}")
    # A diagnostic measures: by default it never reveals its answers (R-REVIEW).
    expect(page.get_by_text("Correct answers are not shown for this assessment.")).to_be_visible()
    expect(page.get_by_text("Explanation for Diagnostic question 3")).to_have_count(0)
    _shot(page, "diagnostic-result")

    # Goal and path.
    page.get_by_role("button", name="Build my learning path for “Python developer”").click()
    expect(page.get_by_role("heading", name="Your path to “Python developer”")).to_be_visible()
    expect(page.get_by_role("link", name="Python Basics")).to_be_visible()
    expect(page.get_by_text("Week 1\u20132")).to_be_visible()  # 6 h at 3 h/week
    _shot(page, "path")

    # Enroll and study the first lesson; the page reports a view to the events endpoint.
    page.get_by_role("link", name="Python Basics").click()
    page.get_by_role("button", name="Enroll in this course").click()
    expect(page.get_by_text("You are enrolled in “Python Basics”.")).to_be_visible()
    _shot(page, "course")
    with page.expect_response(lambda r: "/learning/events" in r.url) as sent:
        page.get_by_role("link", name="Continue: Variables").click()
    assert sent.value.ok
    assert LearnerEvent.objects.filter(
        learner__email="jo@example.com", event_type="lesson_viewed", lesson=content["first"]
    ).exists()
    expect(page.locator(".lesson-body code")).to_have_text("x = 1")
    # Opening the lesson recorded nothing; starting it is the learner's explicit act.
    assert not LessonProgress.objects.filter(lesson=content["first"]).exists()
    _shot(page, "lesson")
    page.get_by_role("button", name="Start this lesson").click()
    expect(page.locator(".badge.status-in_progress")).to_have_text("In progress")
    page.get_by_role("button", name="Mark as complete").click()
    # Seconds after opening a 15-minute lesson: the page asks whether it was skimmed.
    expect(page.get_by_role("heading", name="Done with “Variables” already?")).to_be_visible()
    _shot(page, "confirm-skim")
    page.get_by_role("button", name="Yes, mark as skimmed").click()
    expect(page.get_by_role("heading", name="Functions")).to_be_visible()
    progress = LessonProgress.objects.get(lesson=content["first"])
    assert (progress.status, progress.skimmed) == ("completed", True)

    # Quiz: all right, so the level rises.
    page.goto(f"{base}/assessments/{content['quiz'].pk}/")
    page.get_by_role("button", name="Start").click()
    _answer(page, right=4)
    expect(page.locator("dl.stats dd").first).to_have_text("100%")
    level_after_quiz = LearnerSkillState.objects.get(
        learner__email="jo@example.com", skill__slug="python"
    ).level
    assert level_after_quiz > level_after_diagnostic
    row = page.locator("tbody tr", has_text="Python")
    expect(row).to_contain_text("4 of 4 answered correctly")
    # Levels show with their state: "3 · attempted → 10 · mastered · 8 answers".
    expect(row).to_contain_text(f"{level_after_diagnostic} · ")
    expect(row).to_contain_text(f"→ {level_after_quiz} · ")
    _shot(page, "quiz-result")

    # The dashboard shows the new level and fresh recommendations, once a worker has run
    # the follow-ups the learner's writes deferred.
    assert run_deferred_jobs()
    page.get_by_role("link", name="Go to your dashboard").click()
    state = LearnerSkillState.objects.get(learner__email="jo@example.com", skill__slug="python")
    label = state.mastery_at(timezone.now()).label
    expect(
        page.get_by_text(
            f"Python: level {level_after_quiz} · {label} · {state.evidence_count} answers, target 8"
        )
    ).to_be_visible()
    active = Recommendation.objects.filter(learner__email="jo@example.com", status="active")
    assert active.exists()
    expect(page.locator(f"#rec-{active.first().pk}")).to_be_visible()
    _shot(page, "dashboard")

    page.get_by_role("link", name="Progress").click()
    expect(page.locator("svg.chart")).to_have_count(3)
    _shot(page, "progress")
    page.get_by_role("link", name="Catalog").click()
    _shot(page, "catalog")
    # Filters apply as you type or choose, through HTMX, and keep the URL shareable.
    page.evaluate("window.__noReload = true")
    page.get_by_label("Search").fill("zzz")
    # Nothing is about "zzz": a few nearest guesses, not the whole catalogue.
    expect(page.get_by_role("heading", name=re.compile(r"^\d lessons? for “zzz”"))).to_be_visible()
    page.get_by_label("Search").fill("")
    page.get_by_label("Difficulty").select_option("beginner")
    expect(page.get_by_role("heading", name="1 course")).to_be_visible()
    expect(page).to_have_url(re.compile(r"difficulty=beginner"))
    assert page.evaluate("window.__noReload") is True

    assert console_errors == []


def test_accepting_a_recommendation_swaps_the_card_in_place(
    page: Page, live_server, learner, content, console_errors
):
    rec = RecommendationFactory(
        learner=learner, lesson=content["first"], reason="Next in sequence: Module 1 - First steps"
    )
    _log_in(page, live_server, learner.email)
    card = page.locator(f"#rec-{rec.pk}")
    expect(card).to_contain_text("Next in sequence: Module 1 - First steps")
    # A full page load would drop this marker.
    page.evaluate("window.__noReload = true")

    card.get_by_role("button", name="Accept").click()

    expect(card).to_contain_text("Accepted")
    expect(card.get_by_role("link", name="Open the lesson")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.ACCEPTED
    assert console_errors == []


def test_log_in_with_the_keyboard_only(page: Page, live_server, learner):
    page.goto(f"{live_server.url}/accounts/login/")

    # The email field has autofocus; Tab moves to the password, Enter submits.
    page.keyboard.type(learner.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/learn/$"))
    # On any page the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_lesson_events_are_retried_after_a_failure_and_heartbeats_sent(
    page: Page, live_server, learner, content
):
    _log_in(page, live_server, learner.email)
    failures = {"left": 1}

    def flaky(route) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, body="down for a moment")
        else:
            route.continue_()

    page.route("**/api/v1/learning/events", flaky)
    page.clock.install()
    events_response = lambda r: "/learning/events" in r.url  # noqa: E731

    with page.expect_response(events_response) as first:
        page.goto(f"{live_server.url}{content['first'].get_absolute_url()}")
    assert first.value.status == 503
    with page.expect_response(events_response) as retry:
        page.clock.run_for(2_500)  # first retry after 2 s
    assert retry.value.ok
    with page.expect_response(events_response) as beat:
        page.clock.run_for(40_000)  # heartbeat at 30 s, sent by the 40 s flush
    assert beat.value.ok

    stored = LearnerEvent.objects.filter(learner=learner, lesson=content["first"])
    # The retried view is stored once; one heartbeat for 30 visible seconds.
    assert sorted(stored.values_list("event_type", flat=True)) == ["heartbeat", "lesson_viewed"]

    # Video play and pause are tracked; a pause sends the batch at once.
    with page.expect_response(events_response) as video:
        page.locator("video").dispatch_event("play")
        page.locator("video").dispatch_event("pause")
    assert video.value.ok
    assert sorted(
        stored.filter(event_type__startswith="video").values_list("event_type", flat=True)
    ) == ["video_pause", "video_play"]
