from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assessments.grading import grade_responses, normalize_text, score_percent
from assessments.models import Question
from assessments.selectors import questions_with_key
from assessments.tests.factories import (
    AssessmentFactory,
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
    ShortTextQuestionFactory,
)


@pytest.fixture
def quiz():
    assessment = AssessmentFactory()
    single = QuestionFactory(assessment=assessment, order=1, points=2)
    s_right = ChoiceFactory(question=single, is_correct=True)
    s_wrong = ChoiceFactory(question=single)
    multi = QuestionFactory(assessment=assessment, order=2, kind=Question.Kind.MULTIPLE_CHOICE)
    m = [ChoiceFactory(question=multi, is_correct=c) for c in (True, True, False)]
    tf = QuestionFactory(assessment=assessment, order=3, kind=Question.Kind.TRUE_FALSE)
    tf_true = ChoiceFactory(question=tf, text="True", is_correct=True)
    numeric = NumericQuestionFactory(assessment=assessment, order=4)  # 3.14 ± 0.01
    text = ShortTextQuestionFactory(assessment=assessment, order=5, accepted_answers=["Django ORM"])
    return {
        "assessment": assessment,
        "single": (single, s_right, s_wrong),
        "multi": (multi, m),
        "tf": (tf, tf_true),
        "numeric": numeric,
        "text": text,
    }


def grade(quiz, responses):
    return grade_responses(
        questions=questions_with_key(assessment=quiz["assessment"]), responses=responses
    )


@pytest.mark.django_db
def test_each_kind_is_graded_by_its_rule(quiz):
    single, s_right, _ = quiz["single"]
    multi, m = quiz["multi"]
    tf, tf_true = quiz["tf"]

    graded = grade(
        quiz,
        {
            str(single.pk): {"choices": [s_right.pk], "seconds_spent": 12},
            multi.pk: {"choices": [m[0].pk]},  # only one of two right answers: wrong
            tf.pk: {"choices": [tf_true.pk]},
            quiz["numeric"].pk: {"value": "3.149"},
            quiz["text"].pk: {"text": "  django   orm "},
        },
    )

    by_q = {g.question.pk: g for g in graded}
    assert [by_q[q.pk].is_correct for q in (single, multi, tf, quiz["numeric"], quiz["text"])] == [
        True,
        False,
        True,
        True,
        True,
    ]
    assert by_q[single.pk].seconds_spent == 12
    assert by_q[single.pk].points_awarded == Decimal(2)
    # 2 + 0 + 1 + 1 + 1 of 6 points
    assert score_percent(graded) == Decimal("83.33")


@pytest.mark.django_db
def test_numeric_outside_tolerance_and_unanswered_are_wrong(quiz):
    multi, m = quiz["multi"]
    graded = grade(
        quiz, {quiz["numeric"].pk: {"value": 3.2}, multi.pk: {"choices": [m[0].pk, m[1].pk]}}
    )

    by_q = {g.question.pk: g for g in graded}
    assert by_q[quiz["numeric"].pk].is_correct is False
    assert by_q[multi.pk].is_correct is True
    assert by_q[quiz["text"].pk].is_correct is False
    assert score_percent(graded) == Decimal("16.67")  # 1 of 6 points


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "response", "message"),
    [
        ("single", {"choices": []}, "at least one choice"),
        ("single", {"choices": ["a"]}, "choice ids"),
        ("single", {"choices": [10**9]}, "do not belong"),
        ("numeric", {"value": "pi"}, "not a number"),
        ("numeric", {"value": "NaN"}, "finite"),
        ("text", {"text": 5}, "text answer"),
        ("text", {"text": "dj\x00ango"}, "NUL"),
        ("text", "django", "must be an object"),
    ],
)
def test_malformed_responses_are_validation_errors(quiz, key, response, message):
    question = quiz[key][0] if isinstance(quiz[key], tuple) else quiz[key]

    with pytest.raises(ValidationError, match=message):
        grade(quiz, {question.pk: response})


@pytest.mark.django_db
def test_two_choices_on_single_choice_and_unknown_question_are_rejected(quiz):
    single, s_right, s_wrong = quiz["single"]
    with pytest.raises(ValidationError, match="exactly one"):
        grade(quiz, {single.pk: {"choices": [s_right.pk, s_wrong.pk]}})
    with pytest.raises(ValidationError, match="not part of this assessment"):
        grade(quiz, {QuestionFactory().pk: {"choices": [1]}})
    with pytest.raises(ValidationError, match="not a question id"):
        grade(quiz, {"abc": {"choices": [1]}})


def test_normalize_text_ignores_case_and_spacing():
    assert normalize_text("  Hello \n  WORLD ") == "hello world"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("picks", "points"),
    [
        ((0, 1), Decimal("3")),  # both right: full points, correct
        ((0,), Decimal("1.50")),  # one of two right: half
        ((0, 2), Decimal("0.00")),  # one right, one wrong: they cancel
        ((0, 1, 2), Decimal("1.50")),  # everything picked: one wrong pick takes a share back
        ((2,), Decimal("0.00")),  # only wrong: never below zero
    ],
)
def test_partial_credit_for_multiple_choice_is_an_authored_option(picks, points):
    assessment = AssessmentFactory()
    multi = QuestionFactory(
        assessment=assessment, kind=Question.Kind.MULTIPLE_CHOICE, points=3, partial_credit=True
    )
    choices = [ChoiceFactory(question=multi, is_correct=c) for c in (True, True, False)]

    (graded,) = grade_responses(
        questions=questions_with_key(assessment=assessment),
        responses={multi.pk: {"choices": [choices[i].pk for i in picks]}},
    )

    assert graded.points_awarded == points
    # Only an exact set is correct evidence for the skill model.
    assert graded.is_correct is (picks == (0, 1))


@pytest.mark.django_db
def test_without_partial_credit_multiple_choice_is_all_or_nothing():
    assessment = AssessmentFactory()
    multi = QuestionFactory(assessment=assessment, kind=Question.Kind.MULTIPLE_CHOICE, points=3)
    right = ChoiceFactory(question=multi, is_correct=True)
    ChoiceFactory(question=multi, is_correct=True)

    (graded,) = grade_responses(
        questions=questions_with_key(assessment=assessment),
        responses={multi.pk: {"choices": [right.pk]}},
    )

    assert graded.points_awarded == 0
    assert score_percent([graded]) == 0
