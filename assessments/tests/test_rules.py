from __future__ import annotations

from decimal import Decimal

import pytest

from assessments.rules import answer_key_problems, choice_problems


@pytest.mark.parametrize(
    ("kind", "flags", "expected"),
    [
        ("single_choice", [True, False, False], []),
        ("multiple_choice", [True, True, False], []),
        ("true_false", [False, True], []),
        ("numeric", [], []),
        ("single_choice", [True], ["A single choice question needs at least two choices."]),
        (
            "true_false",
            [True, False, False],
            ["A true / false question needs exactly two choices (it has 3)."],
        ),
        (
            "short_text",
            [True, False],
            ["A short text question is graded without choices: remove its 2 choice(s)."],
        ),
    ],
)
def test_choice_problems(kind, flags, expected):
    assert choice_problems(kind=kind, correct_flags=flags) == expected


def test_answer_key_problems():
    assert (
        answer_key_problems(kind="numeric", numeric_answer=Decimal("0"), accepted_answers=[]) == {}
    )
    assert answer_key_problems(kind="short_text", numeric_answer=None, accepted_answers=["x"]) == {}
    assert list(
        answer_key_problems(kind="short_text", numeric_answer=None, accepted_answers=["", " "])
    ) == ["accepted_answers"]
    assert list(answer_key_problems(kind="numeric", numeric_answer=None, accepted_answers=[])) == [
        "numeric_answer"
    ]
