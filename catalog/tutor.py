"""Answers from a course's own lessons: retrieval only (issue 17, item 5, first part).

A learner's question on a lesson page is answered with the passages of that
course's lessons that cover it, each linked to its lesson. No language model
is involved and nothing leaves the server: the question is embedded locally
(catalog.search's WordLlama) and compared with the passages. A generated
answer on top of these passages, when an LLM provider is configured, is not
built yet.

Passages are the sections of a lesson's Markdown (split at headings), ranked
by cosine similarity to the question plus a bonus for the question's words
they contain. Only lessons the learner can open count: a locked lesson's text
is not shown on its page, so it is not quoted here either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
