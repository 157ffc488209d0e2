"""What the quiz pages say matches what happens (QA walk, issue 13)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.services import attempt_answer, course_challenge_start
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import CourseFactory, SkillFactory
from insights.progress import breakdown_rows

pytestmark = pytest.mark.django_db


def _form(client, learner, quiz) -> str:
    question = QuestionFactory(assessment=quiz, order=1)
    ChoiceFactory(question=question, is_correct=True)
    client.force_login(learner)
    return client.post(reverse("assessments:start", args=[quiz.pk]), follow=True).content.decode()


def test_quiz_help_says_blanks_score_zero_and_are_no_evidence(client, learner):
    html = _form(client, learner, AssessmentFactory(max_attempts=None))

    assert "count as wrong" not in html
    assert "submit once" not in html
    assert "scores zero in this quiz's score but is no evidence about your skills" in html
    assert "you may take it again." in html


def test_quiz_help_names_the_retake_rules(client, learner):
    quiz = AssessmentFactory(max_attempts=2, min_minutes_between_attempts=30)

    html = _form(client, learner, quiz)

    assert "this quiz allows 2 attempts in all, 30 minutes apart." in html


def test_course_challenge_result_heading_has_one_colon(client, learner):
    skill = SkillFactory(name="Python")
    course = CourseFactory(title="Python Fundamentals", skills=[skill])
    question = QuestionFactory(assessment=AssessmentFactory(), skill=skill, order=1)
    ChoiceFactory(question=question, is_correct=True)
    attempt = course_challenge_start(learner=learner, course=course, now=timezone.now())
    for _ in range(5):  # one question in the bank: the challenge ends after it
        if attempt.is_submitted:
            break
        attempt = attempt_answer(
            attempt=attempt,
            question_id=attempt.current_question_id,
            response={"choices": [question.choices.get().pk]},
            now=timezone.now(),
        )
    attempt.refresh_from_db()
    assert attempt.is_submitted
    client.force_login(learner)

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "<h1>Your result · Course challenge: Python Fundamentals</h1>" in html
    assert ": your result" not in html


@pytest.mark.parametrize(
    ("state", "distinct", "asks"),
    [
        ("attempted", 1, True),
        ("familiar", 2, True),
        ("attempted", 3, False),  # a low level measured on 3 questions: nothing to confirm
        ("familiar", 4, False),
        ("attempted", None, True),  # breakdowns stored before the count existed
        ("proficient", 1, False),
    ],
)
def test_skill_check_to_confirm_only_while_the_evidence_is_thin(state, distinct, asks):
    entry = {"skill": "Python", "level_after": 3, "state_after": state, "answers": 4}
    if distinct is not None:
        entry["distinct_questions"] = distinct

    (row,) = breakdown_rows(breakdown={"python": entry})

    assert row.needs_confirmation is asks
