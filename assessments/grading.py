"""Server-side grading of answers, one rule per question kind.

Response shapes (what a client sends per question):

- single_choice, true_false: ``{"choices": [choice_id]}`` (exactly one)
- multiple_choice: ``{"choices": [choice_id, ...]}`` (correct iff the set equals the key;
  with the question's ``partial_credit`` on, a partly right set earns a share of the
  points: (right picks - wrong picks) / right choices, never below zero — see
  ``points_for``. Only an exact set counts as correct evidence for the skill model.)
- numeric: ``{"value": 3.14}`` or ``{"value": "3.14"}`` (correct within the tolerance)
- short_text: ``{"text": "Django"}`` (case- and whitespace-insensitive)

Any response may carry ``"seconds_spent": n``; any other key (one meant for
another kind of question, say) is refused, so nothing unbounded is stored. A
response that does not fit its question raises ValidationError naming the
question; it never grades as wrong silently, so a client bug is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from assessments.models import Question

MAX_SECONDS_SPENT = 24 * 3600
MAX_TEXT_LENGTH = 1000
MAX_CHOICES = 50
# A numeric answer must fit the answer key's decimal type (max_digits=14, decimal_places=4).
MAX_NUMERIC_ABS = Decimal("1e10")
MAX_NUMERIC_TEXT = 40
# Question ids are bigints: plain ASCII digits, at most 18 of them.
QUESTION_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Graded:
    question: Question
    response: dict
    is_correct: bool
    points_awarded: Decimal
    seconds_spent: int


def number_as_typed(value: Decimal) -> str:
    """A stored decimal as an author typed it: 30 (not "30.0000" or "3E+1"), 0.25, -1.5."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def normalize_text(text: str) -> str:
    """Case- and whitespace-insensitive form: 'Hello   World ' == 'hello world'."""
    return " ".join(text.split()).casefold()


def _response_key(question: Question) -> str:
    if question.has_choices:
        return "choices"
    return "value" if question.kind == Question.Kind.NUMERIC else "text"


def _check_keys(question: Question, response: dict) -> None:
    extra = set(response) - {_response_key(question), "seconds_spent"}
    if extra:
        names = ", ".join(sorted(str(key)[:20] for key in extra)[:5])
        raise ValueError(
            f"unexpected key(s) {names} for a {question.get_kind_display().lower()} question"
        )


def _choice_ids(question: Question, response: dict) -> set[int]:
    raw = response.get("choices")
    if not isinstance(raw, list) or not raw:
        raise ValueError("pick at least one choice ({'choices': [id, ...]})")
    if len(raw) > MAX_CHOICES:
        raise ValueError(f"pick at most {MAX_CHOICES} choices")
    if any(isinstance(c, bool) or not isinstance(c, int) for c in raw):
        raise ValueError("choices must be choice ids (integers)")
    picked = set(raw)
    valid = {choice.pk for choice in question.choices.all()}
    if not picked <= valid:
        raise ValueError(f"choice(s) {sorted(picked - valid)} do not belong to this question")
    if question.kind != Question.Kind.MULTIPLE_CHOICE and len(picked) != 1:
        raise ValueError("pick exactly one choice")
    return picked


def _numeric_value(response: dict) -> Decimal:
    raw = response.get("value")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("give a number ({'value': 3.14})")
    if isinstance(raw, int) and abs(raw) >= MAX_NUMERIC_ABS:
        raise ValueError(f"the number must be smaller than {MAX_NUMERIC_ABS:,.0f} in size")
    text = str(raw).strip()
    # Decimal() also reads non-ASCII digits ("٣"); answers are plain ASCII numbers.
    if len(text) > MAX_NUMERIC_TEXT or not text.isascii():
        raise ValueError("give a plain number, e.g. 3.14")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text[:40]} is not a number") from None
    if not value.is_finite():
        raise ValueError("the number must be finite")
    if abs(value) >= MAX_NUMERIC_ABS:
        raise ValueError(f"the number must be smaller than {MAX_NUMERIC_ABS:,.0f} in size")
    return value


def _text(response: dict) -> str:
    raw = response.get("text")
    if not isinstance(raw, str):
        raise ValueError("give a text answer ({'text': '...'})")
    if len(raw) > MAX_TEXT_LENGTH:
        raise ValueError(f"keep the answer under {MAX_TEXT_LENGTH} characters")
    if "\x00" in raw:
        # Stored in JSONB, which cannot hold NUL characters.
        raise ValueError("the answer must not contain NUL characters")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the answer must be valid Unicode text (no lone surrogates)") from None
    return raw


def _seconds(response: dict) -> int:
    raw = response.get("seconds_spent", 0)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_SECONDS_SPENT:
        raise ValueError(f"seconds_spent must be a whole number from 0 to {MAX_SECONDS_SPENT}")
    return raw


def is_correct(question: Question, response: dict) -> bool:
    """Grade one response; raises ValueError (with a reason) when it is malformed."""
    _check_keys(question, response)
    if question.has_choices:
        picked = _choice_ids(question, response)
        correct = {choice.pk for choice in question.choices.all() if choice.is_correct}
        return picked == correct
    if question.kind == Question.Kind.NUMERIC:
        value = _numeric_value(response)
        return abs(value - question.numeric_answer) <= question.numeric_tolerance
    if question.kind == Question.Kind.SHORT_TEXT:
        given = normalize_text(_text(response))
        return any(
            given == normalize_text(str(answer)) for answer in question.accepted_answers or []
        )
    raise ValueError(f"unsupported question kind {question.kind!r}")


def points_for(question: Question, response: dict, *, correct: bool) -> Decimal:
    """Points a graded response earns (to the cent), partial credit included.

    Partial credit applies only to multiple choice questions authored with it: each
    right pick earns a share of the points, each wrong pick takes one back, so picking
    every choice earns nothing.
    """
    points = Decimal(question.points)
    if correct:
        return points
    if not (question.partial_credit and question.kind == Question.Kind.MULTIPLE_CHOICE):
        return Decimal(0)
    key = {choice.pk for choice in question.choices.all() if choice.is_correct}
    picked = set(response.get("choices") or [])
    if not key:
        return Decimal(0)
    share = Decimal(max(0, len(picked & key) - len(picked - key))) / len(key)
    return (points * share).quantize(Decimal("0.01"))


def _question_id(key) -> int | None:
    """The question id a response key names, or None when it cannot be one."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key if 0 < key < 2**63 else None
    if isinstance(key, str) and QUESTION_ID.fullmatch(key):
        return int(key)
    return None


def grade_responses(*, questions: Iterable[Question], responses: dict) -> list[Graded]:
    """Grade every question of an assessment; an unanswered question scores zero.

    ``questions`` must have their choices prefetched. Raises ValidationError
    (one message per bad question) for unknown question ids or malformed responses.
    """
    if not isinstance(responses, dict):
        raise ValidationError({"responses": "Send an object mapping question ids to answers."})
    by_id = {question.pk: question for question in questions}
    if len(responses) > len(by_id):
        raise ValidationError(
            {"responses": f"Send at most one answer per question ({len(by_id)} questions)."}
        )
    given: dict[int, dict] = {}
    errors: dict[str, str] = {}
    for key, response in responses.items():
        question_id = _question_id(key)
        if question_id is None:
            raise ValidationError(
                {"responses": f"{str(key)[:40]} is not a question id (use its number)."}
            )
        if question_id not in by_id:
            errors[str(key)] = f"Question {question_id} is not part of this assessment."
        elif not isinstance(response, dict):
            errors[str(key)] = "Each answer must be an object."
        else:
            given[question_id] = response

    graded: list[Graded] = []
    for question_id, question in by_id.items():
        response = given.get(question_id)
        if response is None:
            graded.append(Graded(question, {}, False, Decimal(0), 0))
            continue
        try:
            correct = is_correct(question, response)
            seconds = _seconds(response)
        except ValueError as exc:
            errors[str(question_id)] = f"Question {question.order}: {exc}."
            continue
        # Keep only the graded part: clients may send extra keys we must not store.
        key = _response_key(question)
        stored = {key: response[key]}
        points = points_for(question, stored, correct=correct)
        graded.append(Graded(question, stored, correct, points, seconds))
    if errors:
        raise ValidationError({"responses": [f"{k}: {v}" for k, v in sorted(errors.items())]})
    return graded


def score_percent(graded: list[Graded]) -> Decimal:
    """Points awarded over points available, as a percentage with two decimals."""
    total = sum((Decimal(g.question.points) for g in graded), Decimal(0))
    if not total:
        return Decimal(0)
    awarded = sum((g.points_awarded for g in graded), Decimal(0))
    return (awarded * 100 / total).quantize(Decimal("0.01"))
