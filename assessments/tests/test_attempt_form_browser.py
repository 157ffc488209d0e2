"""The "Submit anyway?" step of a quiz at 390 px (Chromium): the warning is in sight when the
page comes back, and the button the learner clicked is the one that says "Submitting…"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "plain_static")]

IN_VIEW = """(el) => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight; }"""


def test_unanswered_warning_is_in_sight_and_the_clicked_button_is_relabelled(
    page: Page, live_server
):
    learner = LearnerFactory(email="alice@example.com")
    quiz = AssessmentFactory(title="Long quiz", passing_score=50, is_published=True)
    for order in range(1, 13):
        question = QuestionFactory(assessment=quiz, order=order, prompt=f"Question {order}?")
        ChoiceFactory(question=question, text="Right", is_correct=True)
        ChoiceFactory(question=question, text="Wrong")
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/learn/$"))

    page.goto(f"{base}/assessments/{quiz.pk}/")
    page.get_by_role("button", name=re.compile("^Start")).click()
    expect(page.locator("#attempt-form")).to_be_visible()
    page.get_by_role("button", name="Submit answers").click()

    warning = page.locator("#unanswered-warning")
    expect(warning).to_contain_text("12 of 12 questions unanswered")
    assert warning.evaluate(IN_VIEW), "the warning is out of sight"
    anyway = page.get_by_role("button", name="Submit anyway")
    expect(anyway).to_be_focused()

    # Keep the page (stop the navigation) to look at the labels after the click.
    page.evaluate(
        "document.getElementById('attempt-form')"
        ".addEventListener('submit', (e) => e.preventDefault())"
    )
    # The learner answers below and uses "Submit answers": that button, not the first one
    # of the form ("Submit anyway"), says "Submitting…".
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#attempt-form > button[type=submit]")).to_have_text("Submitting…")
    expect(page.locator("#attempt-form button[name=submit_anyway]")).to_have_text("Submit anyway")
