"""Question import from Moodle GIFT and Aiken text, and GIFT export.

The parsers are plain functions from text to :class:`ParsedQuestion` rows plus
:class:`LineProblem` s (every problem, each with its line number); they never touch the
database. ``assessments.services.questions_import`` stores what they return through
``question_create``, so an imported question obeys the same answer-key rules as one
typed in the admin or sent to the API, and nothing is stored when anything is wrong.

GIFT (https://docs.moodle.org/en/GIFT_format), as Moodle writes and reads it:

- ``// comment`` lines; blank lines separate questions; ``$CATEGORY: a/b/skill-slug``;
- ``::title::`` and a ``[markdown]`` / ``[html]`` / ``[plain]`` / ``[moodle]`` text format;
- escapes ``\\~ \\= \\# \\{ \\} \\: \\\\`` and ``\\n`` (a new line);
- ``{T}`` / ``{FALSE}`` true / false; ``{=right ~wrong}`` single choice;
  ``{~%50%a ~%50%b ~%-100%c}`` multiple choice; ``{=answer =other}`` short text;
  ``{#3.14:0.01}``, ``{#1..5}``, ``{#=3:0 =%50%3:1}`` numeric; text after the block
  (Moodle's "missing word") becomes a blank ``_____`` in the prompt;
- ``#feedback`` after an answer and ``####general feedback``: the general feedback,
  or else the correct answers' feedback, becomes the question's explanation.

Matching, essay and description items have no counterpart here and are reported as
problems. Aiken is single choice only: a question line, options ``A.`` / ``A)``, then
``ANSWER: X``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from assessments.grading import number_as_typed
from assessments.models import Choice, Question

FORMATS = ("gift", "aiken")
MAX_CHOICE_LENGTH = Choice._meta.get_field("text").max_length
# The answer key's decimal type: max_digits=14, decimal_places=4.
MAX_NUMBER = Decimal("1e10")
MAX_PLACES = 4

# GIFT escapes become private-use characters while parsing, so a plain str.find never
# mistakes an escaped "{" for syntax. None of them is a new line: line numbers survive.
_ESCAPES = {
    "\\\\": "\ue006",
    "\\~": "\ue000",
    "\\=": "\ue001",
    "\\#": "\ue002",
    "\\{": "\ue003",
    "\\}": "\ue004",
    "\\:": "\ue005",
    "\\n": "\ue007",
}
_UNESCAPE = {
    "\ue006": "\\",
    "\ue000": "~",
    "\ue001": "=",
    "\ue002": "#",
    "\ue003": "{",
    "\ue004": "}",
    "\ue005": ":",
    "\ue007": "\n",
}
_ESCAPE_PATTERN = re.compile(r"\\[\\~=#{}:n]")
_TEXT_FORMAT = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]\s*", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


@dataclass
class ParsedQuestion:
    """One question as read from the file, in the shapes ``question_create`` takes."""

    line: int
    kind: str
    prompt: str
    choices: list[dict] = field(default_factory=list)
    numeric_answer: Decimal | None = None
    numeric_tolerance: Decimal = Decimal("0")
    accepted_answers: list[str] = field(default_factory=list)
    explanation: str = ""
    title: str = ""
    category: str = ""

    def fields(self) -> dict:
        """Keyword arguments for ``question_create`` (skill and order apart)."""
        return {
            "kind": self.kind,
            "prompt": self.prompt,
            "explanation": self.explanation,
            "numeric_answer": self.numeric_answer,
            "numeric_tolerance": self.numeric_tolerance,
            "accepted_answers": self.accepted_answers,
        }


@dataclass
class ParseResult:
    questions: list[ParsedQuestion]
    problems: list[LineProblem]


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def guess_format(text: str) -> str:
    """ "aiken" for text with ANSWER: lines and no GIFT answer block, else "gift"."""
    if re.search(r"^\s*ANSWER\s*:", text, re.MULTILINE) and "{" not in text:
        return "aiken"
    return "gift"


def parse(text: str, fmt: str) -> ParseResult:
    if fmt == "gift":
        return parse_gift(text)
    if fmt == "aiken":
        return parse_aiken(text)
    raise ValueError(f"Unknown question format {fmt!r}; use one of {', '.join(FORMATS)}.")


# ------------------------------------------------------------------------------ GIFT


def _escape(text: str) -> str:
    return _ESCAPE_PATTERN.sub(lambda m: _ESCAPES[m.group(0)], text)


def _unescape(text: str) -> str:
    return "".join(_UNESCAPE.get(char, char) for char in text)


def _clean(text: str) -> str:
    """Visible text: escapes resolved, runs of blanks within lines kept, ends trimmed."""
    return _unescape(text).strip()


def _blocks(text: str) -> Iterable[list[tuple[int, str]]]:
    """Groups of (line number, line) separated by blank lines; comments dropped."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("//"):
            continue
        if not line.strip():
            if block:
                yield block
            block = []
            continue
        block.append((number, line))
    if block:
        yield block


def parse_gift(text: str) -> ParseResult:
    questions, problems = [], []
    category = ""
    for block in _blocks(text.lstrip("\ufeff")):
        first = block[0][1]
        if first.strip().upper().startswith("$CATEGORY:"):
            category = first.strip()[len("$CATEGORY:") :].strip()
            block = block[1:]
            if not block:
                continue
        try:
            question = _gift_question(block)
        except _Problem as problem:
            problems.append(LineProblem(problem.line, problem.message))
            continue
        question.category = category
        questions.append(question)
    if not questions and not problems:
        problems.append(LineProblem(1, "No questions found."))
    return ParseResult(questions, problems)


def _gift_question(block: list[tuple[int, str]]) -> ParsedQuestion:
    start = block[0][0]
    source = _escape("\n".join(line for _number, line in block))
    line_numbers = [number for number, _line in block]

    def line_at(offset: int) -> int:
        return line_numbers[source.count("\n", 0, offset)]

    title = ""
    body = source.lstrip()
    offset = len(source) - len(body)
    if body.startswith("::"):
        end = body.find("::", 2)
        if end < 0:
            raise _Problem(start, "The title opened with :: is never closed with ::.")
        title = _clean(body[2:end])
        offset += end + 2
    opening = source.find("{", offset)
    if opening < 0:
        raise _Problem(
            start,
            "No answer block {…}: descriptions and essays cannot be imported "
            "(escape a literal brace as \\{).",
        )
    closing = source.find("}", opening)
    if closing < 0:
        raise _Problem(line_at(opening), "The answer block opened here is never closed with }.")
    if "{" in source[opening + 1 : closing]:
        raise _Problem(line_at(opening), "An answer block cannot contain another {.")
    if "{" in source[closing + 1 :] or "}" in source[closing + 1 :]:
        raise _Problem(
            line_at(closing + 1), "Only one answer block per question (escape braces as \\{ \\})."
        )
    before = _TEXT_FORMAT.sub("", source[offset:opening], count=1)
    after = source[closing + 1 :]
    prompt = _clean(before)
    if _clean(after):
        # Moodle's "missing word" question: the answer goes where the block was.
        prompt = f"{prompt} _____ {_clean(after)}".strip()
    if not prompt:
        raise _Problem(start, "The question has no text.")
    question = _gift_answers(
        source[opening + 1 : closing], line=line_at(opening), line_at=line_at, base=opening + 1
    )
    question.line, question.prompt, question.title = start, prompt, title
    return question


def _gift_answers(content: str, *, line: int, line_at, base: int) -> ParsedQuestion:
    explanation = ""
    general = content.find("####")
    if general >= 0:
        explanation = _clean(content[general + 4 :])
        content = content[:general]
    stripped = content.strip()
    if not stripped:
        raise _Problem(line, "An empty answer block {} is an essay, which cannot be imported.")
    head, *feedback = stripped.split("#")
    if head.strip().upper() in _TRUE_FALSE:
        truth = _TRUE_FALSE[head.strip().upper()]
        if len(feedback) > 2:
            raise _Problem(line, "A true / false answer takes at most two #feedback parts.")
        right = _clean(feedback[1]) if len(feedback) == 2 else ""
        return ParsedQuestion(
            line=line,
            kind=Question.Kind.TRUE_FALSE,
            prompt="",
            choices=[
                {"text": "True", "is_correct": truth},
                {"text": "False", "is_correct": not truth},
            ],
            explanation=explanation or right,
        )
    if stripped.startswith("#"):
        return _gift_numeric(stripped[1:], line=line, explanation=explanation)
    return _gift_choices(content, line=line, line_at=line_at, base=base, explanation=explanation)


def _number(text: str, *, line: int, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _Problem(line, f"{what} “{_clean(text)}” is not a number.") from None
    if not value.is_finite() or abs(value) >= MAX_NUMBER:
        raise _Problem(line, f"{what} “{_clean(text)}” is out of range (below 10 000 000 000).")
    if -value.as_tuple().exponent > MAX_PLACES:
        raise _Problem(line, f"{what} “{_clean(text)}” has more than {MAX_PLACES} decimal places.")
    return value


def _gift_numeric(content: str, *, line: int, explanation: str) -> ParsedQuestion:
    answers = [part for part in re.split(r"=", content) if part.strip()]
    if not answers:
        raise _Problem(line, "A numeric answer block needs a number after #.")
    chosen, feedback = None, ""
    for answer in answers:
        text, _sep, note = answer.partition("#")
        weight = _WEIGHT.match(text)
        if weight:
            text = text[weight.end() :]
        if weight is None or Decimal(weight.group(1)) == 100:
            chosen, feedback = text, note
            break
    if chosen is None:
        raise _Problem(line, "No numeric answer is worth full marks (=%100% or no weight).")
    if ".." in chosen:
        low_text, _sep, high_text = chosen.partition("..")
        low = _number(low_text, line=line, what="The lower bound")
        high = _number(high_text, line=line, what="The upper bound")
        if low > high:
            raise _Problem(
                line, f"The range {number_as_typed(low)}..{number_as_typed(high)} is empty."
            )
        answer, tolerance = (low + high) / 2, (high - low) / 2
    else:
        value_text, _sep, tolerance_text = chosen.partition(":")
        answer = _number(value_text, line=line, what="The answer")
        tolerance = (
            _number(tolerance_text, line=line, what="The tolerance")
            if tolerance_text.strip()
            else Decimal("0")
        )
        if tolerance < 0:
            raise _Problem(line, "The tolerance cannot be negative.")
    return ParsedQuestion(
        line=line,
        kind=Question.Kind.NUMERIC,
        prompt="",
        numeric_answer=answer,
        numeric_tolerance=tolerance,
        explanation=explanation or _clean(feedback),
    )


def _gift_choices(
    content: str, *, line: int, line_at, base: int, explanation: str
) -> ParsedQuestion:
    lead = re.match(r"\s*", content).end()
    if content[lead] not in "=~":
        raise _Problem(
            line_at(base + lead),
            "Each answer starts with = (right) or ~ (wrong); escape a literal = or ~ as \\= \\~.",
        )
    tokens = [
        (match.group(1), match.group(2), match.start())
        for match in re.finditer(r"([=~])([^=~]*)", content)
    ]
    answers = []
    for operator, text, position in tokens:
        where = line_at(base + position)
        text, _sep, note = text.partition("#")
        if operator == "=" and "->" in text:
            raise _Problem(where, "Matching questions (a -> b) cannot be imported.")
        weight = _WEIGHT.match(text)
        if weight:
            text = text[weight.end() :]
        shown = _clean(text)
        if not shown:
            raise _Problem(where, "An answer is empty.")
        if len(shown) > MAX_CHOICE_LENGTH:
            raise _Problem(where, f"An answer is longer than {MAX_CHOICE_LENGTH} characters.")
        percent = Decimal(weight.group(1)) if weight else Decimal(100 if operator == "=" else 0)
        answers.append((operator, shown, percent, _clean(note)))
    operators = {operator for operator, *_rest in answers}
    if operators == {"="}:
        accepted = [text for _op, text, percent, _note in answers if percent == 100]
        if not accepted:
            raise _Problem(line, "No accepted answer is worth full marks (=%100% or no weight).")
        return ParsedQuestion(
            line=line,
            kind=Question.Kind.SHORT_TEXT,
            prompt="",
            accepted_answers=accepted,
            explanation=explanation or _first_note(answers),
        )
    correct = [percent > 0 for _op, _text, percent, _note in answers]
    single = sum(1 for op, *_rest in answers if op == "=") == 1 and sum(correct) == 1
    if len(answers) < 2:
        raise _Problem(line, "A choice question needs at least two answers.")
    if not any(correct):
        raise _Problem(line, "No answer is marked right (= or a positive ~%n% weight).")
    return ParsedQuestion(
        line=line,
        kind=Question.Kind.SINGLE_CHOICE if single else Question.Kind.MULTIPLE_CHOICE,
        prompt="",
        choices=[
            {"text": text, "is_correct": is_correct}
            for (_op, text, _percent, _note), is_correct in zip(answers, correct, strict=True)
        ],
        explanation=explanation or _first_note(answers),
    )


def _first_note(answers: list[tuple[str, str, Decimal, str]]) -> str:
    """The feedback of the first correct answer that has one."""
    return next((note for _op, _text, percent, note in answers if percent > 0 and note), "")


# ------------------------------------------------------------------------------ Aiken

_AIKEN_OPTION = re.compile(r"^\s*([A-Z])\s*[.)]\s+(.*\S)\s*$")
_AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*(\S*)\s*$", re.IGNORECASE)


def parse_aiken(text: str) -> ParseResult:
    questions, problems = [], []
    lines = list(enumerate(text.lstrip("\ufeff").splitlines(), start=1))
    index = 0
    while index < len(lines):
        number, line = lines[index]
        if not line.strip():
            index += 1
            continue
        # A question: its text, its options, then ANSWER.
        start, prompt_lines, options = number, [], []
        problem: LineProblem | None = None
        answer_letter = None
        while index < len(lines):
            number, line = lines[index]
            index += 1
            if answer := _AIKEN_ANSWER.match(line):
                answer_letter = answer.group(1).upper()
                answer_line = number
                break
            option = _AIKEN_OPTION.match(line)
            if option and prompt_lines:
                letter = option.group(1)
                expected = chr(ord("A") + len(options))
                if letter != expected and problem is None:
                    problem = LineProblem(number, f"Option {letter} should be {expected}.")
                if len(option.group(2)) > MAX_CHOICE_LENGTH and problem is None:
                    problem = LineProblem(
                        number, f"An option is longer than {MAX_CHOICE_LENGTH} characters."
                    )
                options.append((letter, option.group(2)))
            elif not line.strip():
                continue  # Moodle skips blank lines inside a question too.
            elif options:
                if problem is None:
                    problem = LineProblem(
                        number, "Expected an option like “C. text” or the ANSWER: line."
                    )
            else:
                prompt_lines.append(line.strip())
        if answer_letter is None:
            problems.append(LineProblem(start, "The question has no ANSWER: line."))
            break
        if problem is not None:
            problems.append(problem)
            continue
        if not prompt_lines:
            problems.append(LineProblem(start, "The question has no text."))
            continue
        if len(options) < 2:
            problems.append(LineProblem(start, "An Aiken question needs at least two options."))
            continue
        letters = [letter for letter, _text in options]
        if answer_letter not in letters:
            problems.append(
                LineProblem(
                    answer_line,
                    f"ANSWER: {answer_letter or '(empty)'} is not one of the options "
                    f"{', '.join(letters)}.",
                )
            )
            continue
        questions.append(
            ParsedQuestion(
                line=start,
                kind=Question.Kind.SINGLE_CHOICE,
                prompt="\n".join(prompt_lines),
                choices=[
                    {"text": text, "is_correct": letter == answer_letter}
                    for letter, text in options
                ],
            )
        )
    if not questions and not problems:
        problems.append(LineProblem(1, "No questions found."))
    return ParseResult(questions, problems)


# ------------------------------------------------------------------------------ export


def _gift_escape(text: str) -> str:
    escaped = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        escaped = escaped.replace(char, "\\" + char)
    return escaped.replace("\n", "\\n")


def questions_to_gift(questions: Iterable[Question]) -> str:
    """GIFT text for ``questions`` (choices prefetched), readable by Moodle and parse_gift."""
    parts = []
    for question in questions:
        prompt = _gift_escape(question.prompt)
        explanation = f" ####{_gift_escape(question.explanation)}" if question.explanation else ""
        choices = list(question.choices.all()) if question.has_choices else []
        if question.kind == Question.Kind.TRUE_FALSE:
            truth = next((c.text.strip().lower() == "true" for c in choices if c.is_correct), True)
            answer = "TRUE" if truth else "FALSE"
        elif question.kind == Question.Kind.NUMERIC:
            answer = f"#{number_as_typed(question.numeric_answer)}"
            if question.numeric_tolerance:
                answer += f":{number_as_typed(question.numeric_tolerance)}"
        elif question.kind == Question.Kind.SHORT_TEXT:
            answer = " ".join(f"={_gift_escape(a)}" for a in question.accepted_answers)
        elif question.kind == Question.Kind.MULTIPLE_CHOICE:
            right = sum(1 for c in choices if c.is_correct) or 1
            share = number_as_typed((Decimal(100) / right).quantize(Decimal("0.00001")))
            answer = " ".join(
                f"~%{share if c.is_correct else '-100'}%{_gift_escape(c.text)}" for c in choices
            )
        else:
            answer = " ".join(
                f"{'=' if c.is_correct else '~'}{_gift_escape(c.text)}" for c in choices
            )
        parts.append(f"::Q{question.order}:: {prompt} {{{answer}{explanation}}}")
    return "\n\n".join(parts) + "\n"
