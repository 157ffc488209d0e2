"""Reads shared by the insights engine: skill levels, recent per-skill quiz scores, skips.

Every function here runs a fixed number of queries whatever the learner's history, so
the dashboard built on top of them stays bounded.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.exceptions
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, RowNumber

from accounts.models import LearnerProfile, User
from assessments.models import Answer, Assessment
from assessments.selectors import assessments_open_to_learners
from catalog.models import Course, Lesson, Skill
from insights.mastery import CONFIRMING, SkillMastery, describe, target_reached
from insights.models import DropoutRisk, InstructorMessage, LearnerSkillState, Recommendation
from insights.skills import BLANK_RESPONSE
from learning.locks import lesson_skills_not_shown_today, lock_facts, lock_graph
from learning.models import Enrollment
from skillstudio.data_versions import OTHER, learner_kind_versions

# Scores used for revision and struggling topics come from the learner's latest answers
# on each skill, so an old bad week stops counting once they have answered this many again.
RECENT_ANSWERS_PER_SKILL = 10
# A skipped recommendation is not suggested again for this long (R-REC).
SKIP_COOLDOWN = timedelta(days=14)

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class SkillLevel:
    slug: str
    name: str
    level: int
    mastery: float | None
    last_practiced_at: datetime | None
    # Evidence behind the level (0 for levels mirrored from the profile without a state row).
    answers: int = 0
    distinct_questions: int = 0
    correct_answers: int = 0

    def mastery_at(self, now: datetime) -> SkillMastery:
        """Level, named state and evidence at ``now`` (see insights.mastery)."""
        return describe(
            level=self.level,
            mastery=self.mastery,
            answers=self.answers,
            distinct_questions=self.distinct_questions,
            correct_answers=self.correct_answers,
            last_practiced_at=self.last_practiced_at,
            now=now,
        )


def shown_skills(levels: dict[str, SkillLevel], now: datetime) -> set[str]:
    """Slugs of the skills proficient or mastered at ``now`` (``insights.mastery``)."""
    return {slug for slug, level in levels.items() if level.mastery_at(now).state in CONFIRMING}


@dataclass(frozen=True)
class TargetToConfirm:
    """A goal target whose level is there but whose state does not confirm it."""

    slug: str
    name: str
    target_level: int
    mastery: SkillMastery


def skips_no_longer_shown(*, learner: User, items: list[dict], now: datetime) -> dict[int, str]:
    """Per path item (course id): the skills its skippable lessons rest on that are no
    longer proficient or mastered at ``now``, by name ("SQL"), by the rule the course
    outline's skip advice follows (``learning.locks.lesson_skippable``). A stored path
    keeps its skips until it is re-planned (a graded attempt, the weekly job, Regenerate),
    while forgetting over time goes on (walk14: "You can skip 2 lessons: you already showed
    what they teach" beside "SQL … last practised 65 days ago")."""
    lesson_course = {
        lesson["id"]: item["id"] for item in items for lesson in item.get("skip_lessons", [])
    }
    if not lesson_course:
        return {}
    graph = lock_graph(course_ids=set(lesson_course.values()), transitive=False)
    facts = lock_facts(learner=learner, now=now)
    faded: dict[int, set[str]] = defaultdict(set)
    for lesson_id, course_id in lesson_course.items():
        if lesson_id in graph.lessons:  # a lesson deleted since the path was planned: gone
            faded[course_id].update(lesson_skills_not_shown_today(lesson_id, graph, facts))
    return {course_id: ", ".join(sorted(names)) for course_id, names in faded.items() if names}


def targets_to_confirm(*, goal, now: datetime) -> list[TargetToConfirm]:
    """The goal's target skills at or above their target level whose state is below
    proficient (faded for want of practice, or on thin evidence): the goal counts them as
    not reached, so the path still plans for them (``insights.paths``), and a skill check
    settles them. Two queries."""
    levels = skill_levels_for(learners=[goal.learner])[goal.learner_id]
    found = []
    for target in goal.target_skills.select_related("skill").order_by("skill__name"):
        level = levels.get(target.skill.slug)
        if level is None or level.level < target.target_level:
            continue
        mastery = level.mastery_at(now)
        reached = target_reached(
            level=level.level, state=mastery.state, target_level=target.target_level
        )
        if mastery.is_assessed and not reached:
            found.append(
                TargetToConfirm(target.skill.slug, level.name, target.target_level, mastery)
            )
    return found


@dataclass(frozen=True)
class SkillScore:
    slug: str
    name: str
    answered: int
    correct: int
    percent: float
    last_answered_at: datetime
    # The newest of these answers given in a diagnostic, skill check or course challenge
    # (an adaptive measurement of the skill), and that assessment's kind; None / "" if none.
    measured_at: datetime | None = None
    measured_by: str = ""


def profile_of(learner: User) -> LearnerProfile | None:
    try:
        return learner.profile
    except LearnerProfile.DoesNotExist:
        return None


def learner_timezone(learner: User) -> ZoneInfo:
    """The learner's own zone; an unknown name falls back to UTC rather than failing a page."""
    profile = profile_of(learner)
    try:
        return ZoneInfo(profile.timezone) if profile and profile.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def skill_levels_for(*, learners: list[User]) -> dict[int, dict[str, SkillLevel]]:
    """Current level per skill slug for each learner: LearnerSkillState first, then the
    profile's mirror for the rest (one or two queries for any number of learners).

    The profile JSON can hold levels for skills without a state row (seeded or imported
    profiles); those get their display name from one extra query.
    """
    levels: dict[int, dict[str, SkillLevel]] = {learner.pk: {} for learner in learners}
    states = LearnerSkillState.objects.filter(learner_id__in=list(levels)).values_list(
        "learner_id",
        "skill__slug",
        "skill__name",
        "level",
        "mastery",
        "last_practiced_at",
        "evidence_count",
        "distinct_questions",
        "correct_count",
    )
    for learner_id, slug, name, level, mastery, practiced, answers, distinct, correct in states:
        levels[learner_id][slug] = SkillLevel(
            slug, name, level, mastery, practiced, answers, distinct, correct
        )
    mirrored: dict[int, dict[str, int]] = {}
    for learner in learners:
        profile = profile_of(learner)
        mirrored[learner.pk] = {
            slug: level
            for slug, level in (profile.skill_levels if profile else {}).items()
            if slug not in levels[learner.pk] and isinstance(level, int)
        }
    wanted = {slug for own in mirrored.values() for slug in own}
    if wanted:
        names = dict(Skill.objects.filter(slug__in=wanted).values_list("slug", "name"))
        for learner_id, own in mirrored.items():
            for slug, level in own.items():
                levels[learner_id][slug] = SkillLevel(
                    slug, names.get(slug, slug), level, None, None
                )
    return levels


def recent_skill_scores_for(
    *, learner_ids: list[int], per_skill: int = RECENT_ANSWERS_PER_SKILL
) -> dict[int, dict[str, SkillScore]]:
    """Percent correct over each skill's latest `per_skill` answers in submitted attempts,
    per learner, in one query. Questions left blank are no evidence (insights.skills).

    The window function keeps the row count bounded by learners x skills x per_skill, not
    by history.
    """
    ranked = (
        Answer.objects.filter(
            attempt__learner_id__in=learner_ids, attempt__submitted_at__isnull=False
        )
        .exclude(BLANK_RESPONSE)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("attempt__learner_id"), F("question__skill_id")],
                order_by=[F("answered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_skill)
        .values_list(
            "attempt__learner_id",
            "question__skill__slug",
            "question__skill__name",
            "is_correct",
            "answered_at",
            "attempt__assessment__kind",
        )
    )
    tally: dict[tuple[int, str], list] = defaultdict(lambda: ["", 0, 0, None, None, ""])
    for learner_id, slug, name, is_correct, answered_at, kind in ranked:
        row = tally[learner_id, slug]
        row[0] = name
        row[1] += 1
        row[2] += int(is_correct)
        row[3] = answered_at if row[3] is None else max(row[3], answered_at)
        if kind in Assessment.MEASURING_KINDS and (row[4] is None or answered_at > row[4]):
            row[4], row[5] = answered_at, kind
    scores: dict[int, dict[str, SkillScore]] = {learner_id: {} for learner_id in learner_ids}
    for (learner_id, slug), (name, answered, correct, last, measured, by) in tally.items():
        percent = round(100 * correct / answered, 1)
        scores[learner_id][slug] = SkillScore(
            slug, name, answered, correct, percent, last, measured, by
        )
    return scores


Skipped = set[tuple[str, int | None, int | None]]


def recently_skipped_for(*, learner_ids: list[int], now: datetime) -> dict[int, Skipped]:
    """Per learner, (kind, lesson_id, course_id) of recommendations skipped within the
    cooldown (one query)."""
    skipped: dict[int, Skipped] = {learner_id: set() for learner_id in learner_ids}
    for learner_id, kind, lesson_id, course_id in Recommendation.objects.filter(
        learner_id__in=learner_ids,
        status=Recommendation.Status.SKIPPED,
        acted_at__gte=now - SKIP_COOLDOWN,
    ).values_list("learner_id", "kind", "lesson_id", "course_id"):
        skipped[learner_id].add((kind, lesson_id, course_id))
    return skipped


def recommendations_open(queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
    """The recommendations of ``queryset`` whose link a learner can open now: their lesson,
    course or assessment is published (``Course.objects.published``,
    ``assessments_open_to_learners``), and so is the lesson or quiz a struggle support
    card's payload names (``Recommendation.get_absolute_url``).

    Applied where cards are read (dashboard, API), in the same query: content set back to
    draft after a card was written drops out at once, before the next refresh expires it.
    """
    # Correlated EXISTS, one index lookup per card, where `__in=<published ids>` made
    # PostgreSQL hash every published course and assessment for each read: a cost that
    # grew with the catalogue (BENCHMARKS round 2j).
    courses = Course.objects.published()
    named_lessons = Lesson.objects.filter(
        pk=OuterRef("named_id"), module__course__in=courses.values("pk")
    )
    named_assessments = assessments_open_to_learners().filter(pk=OuterRef("named_id"))
    return (
        queryset.filter(
            Q(lesson__isnull=True)
            | Exists(courses.filter(pk=OuterRef("lesson__module__course_id")))
        )
        .filter(Q(course__isnull=True) | Exists(courses.filter(pk=OuterRef("course_id"))))
        .filter(
            Q(assessment__isnull=True)
            | Exists(assessments_open_to_learners().filter(pk=OuterRef("assessment_id")))
        )
        .alias(
            named_kind=KT("payload__target__kind"),
            named_id=Cast(KT("payload__target__id"), BigIntegerField()),
        )
        .alias(
            named_open=Case(
                When(named_kind="lesson", then=Exists(named_lessons)),
                When(named_kind="assessment", then=Exists(named_assessments)),
                default=Value(True),
            )
        )
        .exclude(kind=Recommendation.Kind.SUPPORT, named_open=False)
    )


# What a card does not read of its target (it reads the title and the link): texts, search
# columns and embeddings, whose decoding cost more CPU than the rest of the read.
_CARD_TARGET_UNREAD = [
    f"{target}__{field}"
    for target, fields in {
        "lesson": ("body", "search_vector", "trigrams", "embedding"),
        "course": ("description", "search_vector", "trigrams", "embedding"),
        "assessment": ("description",),
    }.items()
    for field in fields
]


def with_card_targets(queryset: QuerySet[Recommendation]) -> QuerySet[Recommendation]:
    """The recommendations with what their cards read of their targets (title, link) in
    the same query: the dashboard's cards and the API's list."""
    return queryset.select_related("lesson", "course", "assessment").defer(*_CARD_TARGET_UNREAD)


@dataclass(frozen=True)
class HighRisk:
    """A high dropout risk on one of a learner's active enrollments (insights.ml.dropout)."""

    course_id: int
    course_title: str
    probability: float
    factors: list[str]  # plain-words factors, strongest first


def high_dropout_risks_for(*, learner_ids: list[int]) -> dict[int, list[HighRisk]]:
    """Per learner, the stored high dropout risks of their active enrollments (one query)."""
    risks: dict[int, list[HighRisk]] = {learner_id: [] for learner_id in learner_ids}
    for learner_id, course_id, title, probability, factors in (
        DropoutRisk.objects.filter(
            enrollment__learner_id__in=learner_ids,
            enrollment__status=Enrollment.Status.ACTIVE,
            # A course set back to draft is no longer one the learner can be supported in.
            enrollment__course__status=Course.Status.PUBLISHED,
            level=DropoutRisk.Level.HIGH,
        )
        .order_by("enrollment__learner_id", "-probability", "enrollment_id")
        .values_list(
            "enrollment__learner_id",
            "enrollment__course_id",
            "enrollment__course__title",
            "probability",
            "factors",
        )
    ):
        risks[learner_id].append(
            HighRisk(course_id, title, probability, [factor["text"] for factor in factors])
        )
    return risks


def struggling_learners(*, course: Course) -> list[dict]:
    """Learners actively enrolled in the course whose latest struggle check flagged them.

    Reads the struggle check `recommendations_refresh` stores on each profile
    (`LearnerProfile.struggle`), so an instructor's
    page costs one query however many learners the course has. Who may see a course's
    learners is decided by the caller (the course owner or staff).
    """
    rows = (
        LearnerProfile.objects.filter(
            user__enrollments__course=course,
            user__enrollments__status="active",
            struggle__is_struggling=True,
        )
        .order_by("user__full_name", "user__email")
        .values_list("user_id", "user__full_name", "user__email", "struggle")
    )
    return [
        {
            "learner_id": user_id,
            "name": full_name or email.split("@")[0],
            "reasons": struggle["reasons"],
            "checked_at": struggle["checked_at"],
        }
        for user_id, full_name, email, struggle in rows
    ]


# Unread messages are cached per learner data version: sending or reading one moves the
# version on (insights.services), so a warm dashboard costs no query for them.
MESSAGES_TTL = 600


@dataclass(frozen=True)
class MessageCard:
    """An instructor's message as the learner's dashboard shows it."""

    pk: int
    sender_name: str
    course_title: str
    body: str
    created_at: datetime
    read_at: datetime | None


def message_card(message: InstructorMessage) -> MessageCard:
    sender = message.sender
    return MessageCard(
        message.pk,
        (sender.full_name or sender.email) if sender else "Your instructor",
        message.course.title,
        message.body,
        message.created_at,
        message.read_at,
    )


# The dashboard shows this many unread messages, newest first.
UNREAD_SHOWN = 20


def _unread(learner_ids: list[int]) -> QuerySet[InstructorMessage]:
    return InstructorMessage.objects.filter(
        learner_id__in=learner_ids, read_at__isnull=True
    ).select_related("sender", "course")


def _unread_cards_for(learner_ids: list[int]) -> dict[int, list[MessageCard]]:
    """Each learner's newest unread messages (at most UNREAD_SHOWN), in one query."""
    cards: dict[int, list[MessageCard]] = {pk: [] for pk in learner_ids}
    newest = Window(
        RowNumber(), partition_by=F("learner_id"), order_by=[F("created_at").desc(), F("id").desc()]
    )
    for message in (
        _unread(learner_ids)
        .annotate(newest=newest)
        .filter(newest__lte=UNREAD_SHOWN)
        .order_by("learner_id", "-created_at", "-id")
    ):
        cards[message.learner_id].append(message_card(message))
    return cards


def _unread_cards(learner: User) -> list[MessageCard]:
    """One learner's: a plain LIMIT, which stops at the newest UNREAD_SHOWN."""
    unread = _unread([learner.pk]).order_by("-created_at", "-id")[:UNREAD_SHOWN]
    return [message_card(message) for message in unread]


def _messages_key(learner_id: int, kind_versions: dict[str, str]) -> str:
    return f"instructor-messages:{learner_id}:{kind_versions[OTHER]}"


def unread_message_entries(*, versions: dict[int, dict[str, str]]) -> dict[str, list]:
    """The unread-messages cache entries of these learners (one query), under the data
    versions read before it: the dashboard warm run stores them beside the dashboards, so
    the page's first read after a run costs no query. Store them for MESSAGES_TTL."""
    cards = _unread_cards_for(list(versions))
    return {_messages_key(pk, own): cards[pk] for pk, own in versions.items()}


def unread_instructor_messages(
    *, learner: User, kind_versions: dict[str, str] | None = None
) -> list[MessageCard]:
    """The learner's unread instructor messages, newest first (one query, none when cached).

    Like the dashboard cache: not read or filled inside a transaction, and Redis being
    unreachable only costs the query. Keyed on the learner's "other" data version (which
    carries the catalogue's, for the course titles): sending or reading a message moves
    every kind on, studying (events, lessons, quizzes) does not touch messages.
    ``kind_versions``: the learner's data versions when the caller has read them already
    (the dashboard page)."""
    if transaction.get_connection().in_atomic_block:
        return _unread_cards(learner)
    if kind_versions is None:
        versions = learner_kind_versions([learner.pk])
        if versions is None:
            return _unread_cards(learner)
        kind_versions = versions[learner.pk]
    key = _messages_key(learner.pk, kind_versions)
    try:
        cached = cache.get(key)
    except redis.exceptions.RedisError:
        return _unread_cards(learner)
    if cached is not None:
        return cached
    cards = _unread_cards(learner)
    with contextlib.suppress(redis.exceptions.RedisError):
        cache.set(key, cards, timeout=MESSAGES_TTL)
    return cards


def learner_messages(*, user: User) -> QuerySet[InstructorMessage]:
    """The instructor messages ``user`` may read and mark read: their own."""
    return InstructorMessage.objects.filter(learner=user)
