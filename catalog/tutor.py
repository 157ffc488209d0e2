"""Answers from a course's own lessons: retrieval, and grounded answers (issue 17, item 5).

A learner's question on a lesson page is answered with the passages of that
course's lessons that cover it, each linked to its lesson. Retrieval needs no
language model and nothing leaves the server: the question is embedded locally
(catalog.search's WordLlama) and compared with the passages.

With a provider configured (catalog.llm), ``tutor_answer`` also asks the model
for an answer grounded in those passages. What is sent is exactly: a fixed
instruction, the numbered passages (each with its lesson's title) and the
question; nothing about the learner (no name, no id, no progress). The model is
asked to cite passage numbers; citations of numbers it was not given are
dropped, and an answer citing none of them is not shown. Generated answers are
rate-limited per learner (``TUTOR_RATE_LIMIT``); any provider failure falls
back to the passages with a message saying why.

Passages are the sections of a lesson's Markdown (split at headings), ranked
by cosine similarity to the question plus a bonus for the question's words
they contain. Only lessons the learner can open count: a locked lesson's text
is not shown on its page, so it is not quoted here either.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import redis.exceptions
from django.conf import settings
from django.core.cache import cache

from catalog.llm import ProviderError, chat_complete
from catalog.models import Lesson
from catalog.search import embed_texts, plain_text, query_words
from learning.selectors import course_outline

PASSAGES_SHOWN = 3
MAX_PASSAGE_CHARS = 700
# Below this a passage is more likely noise than an answer.
MIN_SCORE = 0.2
# How much the share of the question's words found in a passage adds to its similarity.
WORD_BONUS = 0.5
# Words too common to say whether a passage is about the question.
_COMMON = (
    "a an and are as at be by can do does for from how i in is it my of on or the this "
    "to what when where which why with you your"
)
STOPWORDS = frozenset(_COMMON.split())
HEADING = re.compile(r"^(?=#{1,6} )", re.MULTILINE)


@dataclass(frozen=True)
class Passage:
    lesson: Lesson
    text: str
    score: float


def lesson_sections(body: str) -> list[str]:
    """A lesson's Markdown cut at its headings, each section kept whole up to a length."""
    sections = [part.strip() for part in HEADING.split(body) if part.strip()]
    return [
        section if len(section) <= MAX_PASSAGE_CHARS else section[:MAX_PASSAGE_CHARS] + " …"
        for section in sections
    ]


def course_passages(
    *, lesson: Lesson, learner, question: str, limit: int = PASSAGES_SHOWN
) -> list[Passage]:
    """The passages of ``lesson``'s course that best cover ``question`` (best first).

    Empty when the question has no words. A fixed number of queries: the
    course outline (modules, lessons, prerequisites, progress, enrollment).
    """
    words = [w for w in query_words(question) if w not in STOPWORDS]
    if not words:
        return []
    outline = course_outline(learner=learner, course=lesson.module.course)
    candidates = [
        (item.lesson, section)
        for module in outline.modules
        for item in module.lessons
        if not item.locked
        for section in lesson_sections(item.lesson.body)
    ]
    if not candidates:
        return []
    vectors = embed_texts(
        [" ".join(words)] + [f"{ls.title}. {plain_text(text)}" for ls, text in candidates]
    )
    similarity = vectors[1:] @ vectors[0]
    scored = []
    for (candidate, text), sim in zip(candidates, similarity, strict=True):
        found = set(query_words(f"{candidate.title} {text}"))
        share = sum(1 for w in words if w in found) / len(words)
        scored.append(Passage(candidate, text, float(sim) + WORD_BONUS * share))
    scored.sort(key=lambda p: -p.score)
    return [p for p in scored if p.score >= MIN_SCORE][:limit]


# ------------------------------------------------------------------ generated answers

logger = logging.getLogger(__name__)

# Passages a generated answer may draw on (more context than the retrieval-only list).
TUTOR_PASSAGES = 5
PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
CITATION = re.compile(r"\[(\d{1,2})\]")
ANSWER_INSTRUCTION = (
    "You are a tutor on a learning platform. Answer the learner's question using only "
    "the numbered course passages below. After each claim, cite the passage it comes "
    "from as [1], [2], ... If the passages do not answer the question, say so briefly "
    "instead of answering from elsewhere. Answer in at most 150 words, in plain text."
)


class TutorRateLimited(Exception):
    """The learner asked for more generated answers than ``TUTOR_RATE_LIMIT`` allows."""

    def __init__(self, *, limit: int, period: str, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"You have reached the tutor's limit of {limit} question{'s' if limit != 1 else ''} "
            f"per {period}; "
            f"try again in about {minutes} minute{'s' if minutes != 1 else ''}. "
            "“Find it in the lessons” still works."
        )


@dataclass(frozen=True)
class TutorAnswer:
    """A generated answer (``text``, with the passages it cites) or, when ``text`` is
    empty, the retrieved passages alone and ``problem``: why there is no answer."""

    passages: list[Passage]
    text: str = ""
    cited: list[tuple[int, Passage]] = field(default_factory=list)
    problem: str = ""

    @property
    def mode(self) -> str:
        return "generated" if self.text else "retrieval"

    @property
    def numbered(self) -> list[tuple[int, Passage]]:
        return list(enumerate(self.passages, start=1))


def tutor_rate_limit() -> tuple[int, str, int]:
    """``TUTOR_RATE_LIMIT`` as (count, period name, period seconds)."""
    count, _, period = settings.TUTOR_RATE_LIMIT.partition("/")
    return int(count), period, PERIOD_SECONDS[period]


def tutor_rate_take(*, learner_id: int, now: datetime) -> None:
    """Count one generated answer for the learner in the current fixed window, or raise
    TutorRateLimited. Fails open (logged) when Redis is unreachable, like the API throttles."""
    limit, period, seconds = tutor_rate_limit()
    stamp = int(now.timestamp())
    window = stamp // seconds
    key = f"tutor-rate:{learner_id}:{window}"
    try:
        cache.add(key, 0, timeout=seconds)
        used = cache.incr(key)
    except (redis.exceptions.RedisError, ValueError):
        logger.warning("Tutor rate limit unavailable (cache); allowing the question")
        return
    if used > limit:
        raise TutorRateLimited(
            limit=limit, period=period, retry_after=(window + 1) * seconds - stamp
        )


def tutor_prompt(*, passages: list[Passage], question: str) -> str:
    """The user message sent to the provider: the numbered passages and the question."""
    blocks = [
        f"[{number}] From the lesson “{passage.lesson.title}”:\n{passage.text}"
        for number, passage in enumerate(passages, start=1)
    ]
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def _cited(text: str, passages: list[Passage]) -> tuple[str, list[tuple[int, Passage]]]:
    """The answer without citations of unknown passages, and the known ones it cites."""
    cited: dict[int, Passage] = {}

    def keep(match: re.Match) -> str:
        number = int(match.group(1))
        if 1 <= number <= len(passages):
            cited.setdefault(number, passages[number - 1])
            return match.group(0)
        return ""

    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", CITATION.sub(keep, text)).strip()
    return cleaned, sorted(cited.items())


def tutor_answer(*, lesson: Lesson, learner, question: str, now: datetime) -> TutorAnswer:
    """An answer to ``question`` grounded in the passages of ``lesson``'s course that the
    learner can open. Raises TutorRateLimited; never raises for provider failures."""
    tutor_rate_take(learner_id=learner.pk, now=now)
    if not lesson.module.course.is_published:
        # An owner previewing a draft course: its text never goes to the provider.
        return TutorAnswer(passages=[], problem="The tutor answers on published courses only.")
    passages = course_passages(
        lesson=lesson, learner=learner, question=question, limit=TUTOR_PASSAGES
    )
    if not passages:
        return TutorAnswer(
            passages=[],
            problem="None of the lessons you can open covers that, so the tutor has "
            "nothing to answer from. Try other words, or ask your instructor.",
        )
    try:
        reply = chat_complete(
            system=ANSWER_INSTRUCTION, user=tutor_prompt(passages=passages, question=question)
        )
    except ProviderError as error:
        return TutorAnswer(passages=passages, problem=f"{error} These passages cover it:")
    text, cited = _cited(reply, passages)
    if not cited:
        return TutorAnswer(
            passages=passages,
            problem="The tutor's answer did not point to your course's passages, so it is "
            "not shown. These passages cover it:",
        )
    return TutorAnswer(passages=passages, text=text, cited=cited)
