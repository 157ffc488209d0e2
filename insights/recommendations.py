"""Recommendations (R-REC): next lessons, spaced revision, courses, difficulty; stored and acted on.

Every suggestion carries a reason built from the learner's own numbers and names. Items the
learner skipped within `SKIP_COOLDOWN` are not suggested again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import LearnerProfile, User
from accounts.services import difficulty_changed_at
from catalog.models import DIFFICULTY_RANK, Course, Difficulty, Lesson, Module, Skill
from catalog.search import lessons_near_skill
from insights.bulk import JSONB, bulk_update_rows
from insights.mastery import answers_text
from insights.ml.cf import cf_course_suggestions
from insights.models import LearningPathSnapshot, Recommendation
from insights.rules import STRUGGLING_BELOW
from insights.selectors import (
    HighRisk,
    SkillLevel,
    SkillScore,
    Skipped,
    high_dropout_risks_for,
    learner_timezone,
    profile_of,
    recent_skill_scores_for,
    recently_skipped_for,
    recommendations_open,
    skill_levels_for,
)
from insights.struggle import (
    FALLING_ATTEMPTS,
    FALLING_WINDOW,
    DatedScore,
    StruggleResult,
    detect_struggle_for,
    latest_dated_scores_for,
    scores_of,
)
from learning import xapi
from learning.locks import (
    LockFacts,
    LockGraph,
    course_blockers,
    course_tested_out,
    first_step,
    lesson_open,
    lock_facts_for,
    lock_graph,
)
from learning.models import Enrollment, GoalSkill, LearningGoal, LessonProgress
from learning.selectors import (
    EnrollmentRow,
    PathSkip,
    enrollments_by_learner,
    path_skips_by_learner,
)
from skillstudio.data_versions import (
    KINDS,
    RECOMMENDATIONS,
    catalog_memo_version,
    learners_changed,
)
from skillstudio.memo import CatalogMemo

# Revision: a skill needs review below this mastery estimate, or, for a skill the model has
# no answers for, below the struggling score (rules.STRUGGLING_BELOW); see _weak_evidence.
REVISION_MASTERY = 0.5
# Revision candidates fetched per skill beyond the limit, for lessons that turn out locked.
REVISION_LOCKED_SLACK = 5
# Weak skills per learner that may fall back to the open lessons nearest in meaning when
# none of their own lessons is open (one vector search per distinct skill of the call,
# shared by its learners), and the lessons kept per such skill.
FALLBACK_SKILLS = 1
FALLBACK_LESSONS = 3
# ... and only lessons at least this similar to the skill (cosine similarity of the search
# embeddings, catalog.search): below it a "nearest" lesson is about something else and no
# fallback card is made. On the demo catalogue every pair at or above 0.3 practises the
# skill's subject (SQL -> "Indexes and EXPLAIN" 0.54, "Persisting data in PostgreSQL"
# 0.38; REST APIs -> "Talking to an API with fetch" 0.45; async -> the same 0.37), and 22
# of its 24 lessons reach it on their own skill; just below lie pairs that only share a
# neighbourhood (JavaScript -> "Semantic HTML" 0.295, REST APIs -> "Blocking calls" 0.28)
# and below those none that would help (SQL -> "Lists, dicts, sets and tuples" 0.24,
# Docker -> "Commits and history" 0.21, SQL -> "Semantic HTML" 0.18, the QA walk's card).
FALLBACK_MIN_SIMILARITY = 0.3
# Spaced revision: the longer since practice, the more a weak skill needs review; each week
# without practice adds the skill's need once more, up to four weeks.
SPACING_DAYS = 7
MAX_SPACING_DAYS = 28
# A lesson completed (or skimmed) this recently is not offered for revision: review comes
# later, and the learner who just finished it is not sent back to it.
REVISION_REST = timedelta(days=1)
# Difficulty: average of the latest quiz attempts within a window.
RECENT_ATTEMPTS = 5
RECENT_ATTEMPT_DAYS = 30
RECENT_ATTEMPT_WINDOW = timedelta(days=RECENT_ATTEMPT_DAYS)
HARDER_AT = Decimal(85)
EASIER_BELOW = Decimal(50)
# Stored recommendations are re-checked at least weekly; older ones expire.
RECOMMENDATION_TTL = timedelta(days=7)
# Card order on the dashboard: urgent help first, then what to do next.
KIND_SCORE = {
    Recommendation.Kind.SUPPORT: 1.0,
    Recommendation.Kind.NEXT_LESSON: 0.9,
    Recommendation.Kind.REVISION: 0.8,
    Recommendation.Kind.DIFFICULTY: 0.7,
    Recommendation.Kind.COURSE: 0.6,
}
ACTIONS = {
    "accepted": Recommendation.Status.ACCEPTED,
    "skipped": Recommendation.Status.SKIPPED,
    "ignored": Recommendation.Status.IGNORED,
}
LEVELS = [Difficulty.BEGINNER, Difficulty.INTERMEDIATE, Difficulty.ADVANCED]
# "Learners like you" course suggestions added after the goal-path ones.
LEARNERS_LIKE_YOU = 2


@dataclass(frozen=True)
class NextLesson:
    lesson_id: int
    title: str
    course_id: int
    course_title: str
    module_order: int
    estimated_minutes: int
    status: str
    reason: str
    blocked_lesson_id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RevisionItem:
    lesson_id: int
    title: str
    skill: str
    skill_name: str
    estimated_minutes: int
    recent_score: float | None
    mastery: float | None
    days_since_practice: int | None
    priority: float
    reason: str
    # The learner completed this lesson: the card is a review of it, not new study.
    lesson_completed: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CourseSuggestion:
    course_id: int
    title: str
    goal_id: int | None
    goal_title: str
    reason: str
    snapshot_id: int | None
    source: str = "goal_path"  # or "learners_like_you" (collaborative filtering)
    because_course_id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DifficultyAdvice:
    current: str
    recommended: str
    change: str  # "increase" | "decrease" | "keep"
    recent_average: float | None
    attempts: int
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def _lessons_done(course_id: int, graph: LockGraph, facts: LockFacts) -> str:
    lessons = graph.courses[course_id].lessons
    done = sum(1 for lesson_id in lessons if lesson_id in facts.completed_lessons)
    return f"{done} of {len(lessons)} lessons done"


def _minutes(minutes: int) -> str:
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def next_lessons_for(
    *,
    learner_ids: list[int],
    now: datetime,
    limit: int = 3,
    skipped: dict[int, Skipped] | None = None,
    facts: dict[int, LockFacts] | None = None,
    graphs: Callable[..., LockGraph] = lock_graph,
    enrollments: dict[int, list[EnrollmentRow]] | None = None,
    path_skips: dict[int, dict[int, PathSkip]] | None = None,
) -> dict[int, list[NextLesson]]:
    """Per learner and active enrollment, the first incomplete lesson in course order that
    the learner's path does not list to skip (while the skip's evidence still holds, as the
    course outline shows it). None in a course the learner tested out of while its skills
    still hold (``learning.locks.course_tested_out``): its page says it counts as done.

    Never a locked lesson (``learning.locks``): when that lesson is locked, the lesson
    that unlocks it comes instead, with a reason naming both; when nothing the learner
    can open unlocks it (only a skill check or a course challenge would), the course
    gets no card. Lessons already in progress come first. The catalogue is read once
    for all the learners' courses, through ``graphs`` (``learning.locks.LockGraphs``
    memoises it per catalogue version).
    """
    if skipped is None:
        skipped = recently_skipped_for(learner_ids=learner_ids, now=now)
    if enrollments is None:
        enrollments = enrollments_by_learner(learner_ids=learner_ids)
    # The active enrollments in published courses, in the order the learner enrolled.
    active = {
        learner_id: [
            row.course_id
            for row in enrollments[learner_id]
            if row.status == Enrollment.Status.ACTIVE and row.course_published
        ]
        for learner_id in learner_ids
    }
    courses = {course_id for own in active.values() for course_id in own}
    if not courses:
        return {learner_id: [] for learner_id in learner_ids}
    graph = graphs(course_ids=courses)
    learners_with_courses = [learner_id for learner_id, own in active.items() if own]
    if facts is None:
        facts = lock_facts_for(learner_ids=learners_with_courses, now=now)
    # Opened and not completed: the lessons in progress, from the rows the facts read.
    in_progress = {
        learner_id: own.opened_lessons - own.completed_lessons for learner_id, own in facts.items()
    }
    if path_skips is None:
        path_skips = path_skips_by_learner(learner_ids=learners_with_courses)
    return {
        learner_id: _next_lessons(
            active[learner_id],
            graph,
            facts.get(learner_id, LockFacts()),
            in_progress.get(learner_id, set()),
            skipped[learner_id],
            path_skips.get(learner_id, {}),
        )[:limit]
        for learner_id in learner_ids
    }


def _next_lessons(
    enrollments: list[int],
    graph: LockGraph,
    facts: LockFacts,
    in_progress: set[int],
    skipped: Skipped,
    path_skips: dict[int, PathSkip],
) -> list[NextLesson]:
    suggestions: list[NextLesson] = []
    chosen: set[int] = set()
    for course_id in enrollments:
        if course_tested_out(course_id, graph, facts):
            continue  # it counts as done, as its page says
        course = graph.courses[course_id]
        for lesson_id in course.lessons:
            if (
                lesson_id in facts.completed_lessons
                # Opened or not: the path says the learner may leave it, so does the card.
                or (
                    lesson_id in path_skips and path_skips[lesson_id].holds(lesson_id, graph, facts)
                )
                or (
                    Recommendation.Kind.NEXT_LESSON,
                    lesson_id,
                    None,
                )
                in skipped
            ):
                continue
            lesson = graph.lessons[lesson_id]
            step_id, blocker = first_step(lesson_id, graph, facts)
            if blocker is not None and step_id == lesson_id:
                break  # nothing the learner can open unlocks it: no card
            if (Recommendation.Kind.NEXT_LESSON, step_id, None) in skipped:
                continue  # what unlocks it is the lesson the learner just skipped
            target = graph.lessons[step_id]
            progress = _lessons_done(course_id, graph, facts)
            if blocker is not None:
                reason = (
                    f"Study “{target.title}” in {graph.courses[target.course_id].title} first "
                    f"({_minutes(target.estimated_minutes)}): it unlocks “{lesson.title}” in "
                    f"{course.title}, which builds on {blocker.title} — {course.title}: "
                    f"{progress}"
                )
            elif lesson_id in in_progress:
                reason = (
                    f"Continue “{lesson.title}” in {course.title} — {progress}, "
                    f"{_minutes(lesson.estimated_minutes)}"
                )
            else:
                reason = (
                    f"Next in {course.title}: “{lesson.title}” — {progress}, "
                    f"{_minutes(lesson.estimated_minutes)}"
                )
            if target.id not in chosen:
                chosen.add(target.id)
                suggestions.append(
                    NextLesson(
                        lesson_id=target.id,
                        title=target.title,
                        course_id=target.course_id,
                        course_title=graph.courses[target.course_id].title,
                        module_order=target.module_order,
                        estimated_minutes=target.estimated_minutes,
                        status=(
                            LessonProgress.Status.IN_PROGRESS
                            if target.id in in_progress
                            else LessonProgress.Status.NOT_STARTED
                        ),
                        reason=reason,
                        blocked_lesson_id=lesson_id if blocker else None,
                    )
                )
            break
    # Stable sort: in-progress lessons first, otherwise enrollment order.
    suggestions.sort(key=lambda s: s.status != LessonProgress.Status.IN_PROGRESS)
    return suggestions


def _weak_evidence(score: SkillScore | None, level: SkillLevel | None) -> str | None:
    """Which evidence says a skill is weak: "mastery", "score" or None (doing fine).

    The skill model's estimate decides when it has answers behind it: it weighs learning
    since the answers, so a skill studied after a poor diagnostic is not sent back to
    revision on those old answers. The recent score decides only for a skill the model has
    not seen answered.
    """
    if level is not None and level.mastery is not None and level.answers:
        return "mastery" if level.mastery < REVISION_MASTERY else None
    if score is not None and score.percent < STRUGGLING_BELOW:
        return "score"
    return None


def _last_measured(score: SkillScore | None, level: SkillLevel | None) -> datetime | None:
    """When the learner last answered on the skill (recent score or skill state)."""
    answered = score.last_answered_at if score else None
    practiced = level.last_practiced_at if level else None
    return max((moment for moment in (answered, practiced) if moment), default=None)


def _studied_since_measured(
    score: SkillScore | None, level: SkillLevel | None, studied_at: datetime | None
) -> bool:
    """The learner completed a lesson on the skill (not a skim) after the answers its weak
    estimate rests on: that estimate predates the study, so revision waits for new
    evidence (the course's quiz, a skill check) instead of sending the learner back to
    lessons they have just worked through."""
    measured = _last_measured(score, level)
    return studied_at is not None and measured is not None and studied_at > measured


def _revision_need(
    score: SkillScore | None, level: SkillLevel | None, now: datetime
) -> tuple[float, int | None] | None:
    """(priority, days since practice) for a weak skill, None for a skill doing fine."""
    weak = _weak_evidence(score, level)
    if weak is None:
        return None
    need = 1 - (level.mastery if weak == "mastery" else score.percent / 100)
    measured = _last_measured(score, level)
    days = max(0, (now - measured).days) if measured else None
    spacing = min(days if days is not None else MAX_SPACING_DAYS, MAX_SPACING_DAYS)
    return round(need * (1 + spacing / SPACING_DAYS), 4), days


@dataclass(frozen=True)
class _SkillLessons:
    """A skill's published lessons in revision order: (lesson id, title, estimated minutes,
    course id) rows, and each lesson's position among them."""

    rows: tuple[tuple[int, str, int, int], ...]
    position: dict[int, int]


# Each skill's lessons in revision order, per catalogue version: the order is the same for
# every learner, and ranking a skill's lessons costs in proportion to the catalogue (30 ms
# a skill at 3,000 courses, BENCHMARKS round 2j), so each process ranks a skill once per
# catalogue version instead of once per learner.
_SKILL_LESSONS = CatalogMemo(size=256, ttl=600.0)


def _skill_lessons(skill_ids: set[int]) -> dict[int, _SkillLessons]:
    """The published lessons of each skill in ``skill_ids``, easiest first, then in
    catalogue order (course title, module, lesson), in one query."""
    rank = " ".join(f"WHEN %(level{n})s THEN {n}" for n in sorted(DIFFICULTY_RANK.values()))
    sql = f"""
        SELECT lesson_skills.skill_id, lesson.id, lesson.title, lesson.estimated_minutes,
               module.course_id
        FROM {Lesson.skills.through._meta.db_table} lesson_skills
        JOIN {Lesson._meta.db_table} lesson ON lesson.id = lesson_skills.lesson_id
        JOIN {Module._meta.db_table} module ON module.id = lesson.module_id
        JOIN {Course._meta.db_table} course ON course.id = module.course_id
        WHERE course.status = %(published)s AND lesson_skills.skill_id = ANY(%(skills)s)
        ORDER BY lesson_skills.skill_id, CASE lesson.difficulty {rank} ELSE 0 END ASC,
                 course.title ASC, module."order" ASC, lesson."order" ASC, lesson.id ASC
    """  # noqa: S608 - table names from model metadata, values as parameters
    params = {
        "skills": sorted(skill_ids),
        "published": Course.Status.PUBLISHED,
        **{f"level{n}": str(level) for level, n in DIFFICULTY_RANK.items()},
    }
    rows: dict[int, list[tuple[int, str, int, int]]] = {pk: [] for pk in skill_ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for skill_id, *row in cursor:
            rows[skill_id].append(tuple(row))
    return {
        pk: _SkillLessons(
            rows=tuple(own), position={row[0]: index for index, row in enumerate(own)}
        )
        for pk, own in rows.items()
    }


def _revision_candidates(
    *, wanted: list[tuple[int, str]], per_skill: int, rested: datetime
) -> tuple[dict[tuple[int, str], list[dict]], dict[tuple[int, str], set[int]]]:
    """Per (learner, skill slug), the skill's first `per_skill` published lessons in that
    learner's preference order, and the lessons of the skill the learner completed after
    ``rested`` (left out of the first: they rest).

    Order: lessons the learner completed first (revision is a review), then the easiest,
    then catalogue order (course title, module, lesson). A lesson completed after
    ``rested`` (``REVISION_REST`` ago) is left out: the learner has just done it. One query
    for the skills and the learners' completed lessons of them, and the skills' lessons in
    order, memoised per catalogue version (``_SKILL_LESSONS``) by skill id (never reused,
    unlike a slug).
    """
    skill_ids: dict[str, int] = {}
    completions: list[tuple[int, str, int, bool]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT skill.id, skill.slug, progress.learner_id, progress.lesson_id,
                   COALESCE(progress.completed_at >= %(rested)s, FALSE)
            FROM {Skill._meta.db_table} skill
            LEFT JOIN ({Lesson.skills.through._meta.db_table} lesson_skills
                       JOIN {LessonProgress._meta.db_table} progress
                         ON progress.lesson_id = lesson_skills.lesson_id
                        AND progress.learner_id = ANY(%(learners)s)
                        AND progress.status = %(completed)s)
              ON lesson_skills.skill_id = skill.id
            WHERE skill.slug = ANY(%(slugs)s)
            """,  # noqa: S608 - table names from model metadata, values as parameters
            {
                "learners": sorted({learner_id for learner_id, _ in wanted}),
                "slugs": sorted({slug for _, slug in wanted}),
                "rested": rested,
                "completed": LessonProgress.Status.COMPLETED,
            },
        )
        for skill_id, slug, learner_id, lesson_id, just_done in cursor:
            skill_ids[slug] = skill_id
            if learner_id is not None:
                completions.append((learner_id, slug, lesson_id, just_done))
    version = catalog_memo_version()
    if version is None:
        lessons = _skill_lessons(set(skill_ids.values()))
    else:
        lessons = _SKILL_LESSONS.get_many(version, set(skill_ids.values()), _skill_lessons)
    no_lessons = _SkillLessons(rows=(), position={})
    by_slug = {slug: lessons[pk] for slug, pk in skill_ids.items()}
    done: dict[tuple[int, str], dict[int, bool]] = defaultdict(dict)
    for learner_id, slug, lesson_id, just_done in completions:
        # Only lessons of published courses count, as in the skill's own list.
        if lesson_id in by_slug[slug].position:
            done[learner_id, slug][lesson_id] = just_done
    candidates: dict[tuple[int, str], list[dict]] = {}
    fresh: dict[tuple[int, str], set[int]] = defaultdict(set)
    for pair in wanted:
        own, skill = done.get(pair, {}), by_slug.get(pair[1], no_lessons)
        fresh[pair] = {lesson_id for lesson_id, just_done in own.items() if just_done}
        reviews = sorted(
            (lesson_id for lesson_id, just_done in own.items() if not just_done),
            key=skill.position.__getitem__,
        )
        chosen = [(skill.rows[skill.position[lesson_id]], True) for lesson_id in reviews]
        for row in skill.rows:
            if len(chosen) >= per_skill:
                break
            if row[0] not in own:
                chosen.append((row, False))
        candidates[pair] = [
            {
                "lesson_id": lesson_id,
                "lesson__title": title,
                "lesson__estimated_minutes": minutes,
                "course_id": course_id,
                # For the card's label only ("Review" a lesson done, else "Study").
                "completed": completed,
            }
            for (lesson_id, title, minutes, course_id), completed in chosen[:per_skill]
        ]
    return candidates, fresh


def revision_lessons_for(
    *,
    learners: list[User],
    now: datetime,
    limit: int = 5,
    scores: dict[int, dict[str, SkillScore]] | None = None,
    levels: dict[int, dict[str, SkillLevel]] | None = None,
    skipped: dict[int, Skipped] | None = None,
    facts: dict[int, LockFacts] | None = None,
    graphs: Callable[..., LockGraph] = lock_graph,
    goal_skills: dict[int, set[str]] | None = None,
) -> dict[int, list[RevisionItem]]:
    """Lessons to review for weak skills, most urgent first (spaced revision), per learner.

    Priority = (1 - strength) x (1 + days since practice / 7), strength being the mastery
    estimate (or, for a skill the model has no answers for, the recent quiz score; see
    ``_weak_evidence``), days capped at 28. Only skills the learner studied (answered a
    question on, or completed a lesson teaching it) or that are in one of their active
    goals, and only lessons they can open now (``learning.locks``); a skill studied in
    lessons none of whose lessons is open falls back to the open lessons nearest in
    meaning (``catalog.search.lessons_near_skill``), if any is at least
    ``FALLBACK_MIN_SIMILARITY`` similar to the skill. A lesson the
    learner already completed is preferred (it is a review), then the easiest one.
    """
    ids = [learner.pk for learner in learners]
    scores = recent_skill_scores_for(learner_ids=ids) if scores is None else scores
    levels = skill_levels_for(learners=learners) if levels is None else levels
    skipped = recently_skipped_for(learner_ids=ids, now=now) if skipped is None else skipped
    studied, taught = studied_or_goal_skills_for(
        learner_ids=ids, scores=scores, levels=levels, goal_skills=goal_skills
    )
    needs: dict[int, dict[str, tuple[float, int | None]]] = {}
    for learner_id in ids:
        own_scores, own_levels = scores[learner_id], levels[learner_id]
        needs[learner_id] = {}
        for slug in sorted((set(own_scores) | set(own_levels)) & studied[learner_id]):
            need = _revision_need(own_scores.get(slug), own_levels.get(slug), now)
            if need and not _studied_since_measured(
                own_scores.get(slug), own_levels.get(slug), taught[learner_id].get(slug)
            ):
                needs[learner_id][slug] = need
    wanted = [(learner_id, slug) for learner_id in ids for slug in needs[learner_id]]
    if not wanted:
        return {learner_id: [] for learner_id in ids}
    # A skill's choice is its first open lesson in preference order that is neither taken
    # by a more urgent skill (at most limit - 1) nor recently skipped; a few more per skill
    # leave room for locked ones: the database ranks the catalogue instead of shipping all
    # of it here.
    per_skill = (
        limit
        + REVISION_LOCKED_SLACK
        + max(
            sum(1 for kind, _, _ in skipped[learner_id] if kind == Recommendation.Kind.REVISION)
            for learner_id in ids
        )
    )
    candidates, fresh = _revision_candidates(
        wanted=wanted, per_skill=per_skill, rested=now - REVISION_REST
    )
    graph = graphs(
        course_ids={row["course_id"] for rows in candidates.values() for row in rows},
        transitive=False,
    )
    if facts is None:
        facts = lock_facts_for(learner_ids=[learner_id for learner_id, _ in wanted], now=now)
    own_open: dict[int, dict[str, list[dict]]] = {}
    lacking: dict[int, list[str]] = {}
    for learner_id in ids:
        own_open[learner_id] = {}
        for slug in needs[learner_id]:
            own_open[learner_id][slug] = [
                row
                for row in candidates[learner_id, slug]
                if lesson_open(row["lesson_id"], graph, facts[learner_id])
            ]
        # The most urgent skills with no open lesson of their own, for the fallback: only
        # skills the learner studied in lessons (a review of nearby material); a skill
        # never studied waits for its own lessons, which the next-lesson cards open, and
        # one whose lesson the learner has just completed rests (REVISION_REST).
        lacking[learner_id] = sorted(
            (
                slug
                for slug, rows in own_open[learner_id].items()
                if not rows and slug in taught[learner_id] and not fresh[learner_id, slug]
            ),
            key=lambda slug, own=needs[learner_id]: (-own[slug][0], slug),
        )[:FALLBACK_SKILLS]
    near = _lessons_near({s for own in lacking.values() for s in own}, limit=per_skill)
    near_graph = graphs(
        course_ids={row["course_id"] for rows in near.values() for row in rows}, transitive=False
    )
    result = {}
    for learner_id in ids:
        own = own_open[learner_id]
        just_done = {
            lesson_id
            for (who, _), lessons in fresh.items()
            if who == learner_id
            for lesson_id in lessons
        }
        for slug in lacking[learner_id]:
            own[slug] = [
                row
                for row in near.get(slug, [])
                if lesson_open(row["lesson_id"], near_graph, facts[learner_id])
                and row["lesson_id"] not in just_done
            ][:FALLBACK_LESSONS]
        result[learner_id] = _revision_items(
            needs[learner_id],
            own,
            scores[learner_id],
            levels[learner_id],
            skipped[learner_id],
            limit,
            taught[learner_id],
        )
    return result


# Per learner and skill, the last completion of one of its lessons that was not a skim
# (what ``_studied_since_measured`` reads) and the first and last completions within the
# rest (what keeps its lessons out of revision): ``revision_rests_for``.
_RESTING_SQL = """
    SELECT progress.learner_id, skill.slug,
           MAX(progress.completed_at) FILTER (WHERE NOT progress.skimmed),
           MIN(progress.completed_at) FILTER (WHERE progress.completed_at >= %(rested)s),
           MAX(progress.completed_at) FILTER (WHERE progress.completed_at >= %(rested)s)
      FROM learning_lessonprogress AS progress
      JOIN catalog_lesson_skills AS lesson_skills ON lesson_skills.lesson_id = progress.lesson_id
      JOIN catalog_skill AS skill ON skill.id = lesson_skills.skill_id
     WHERE progress.learner_id = ANY(%(ids)s) AND progress.status = %(completed)s
       AND skill.slug = ANY(%(slugs)s)
     GROUP BY 1, 2
"""


def _day_word(moment: datetime, *, today, zone) -> str:
    day = moment.astimezone(zone).date()
    words = {0: "today", 1: "tomorrow", -1: "yesterday"}
    return words.get((day - today).days, f"on {day:%-d %b}")


def _rest_text() -> str:
    hours = int(REVISION_REST.total_seconds() // 3600)
    if hours % 24:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return "a day" if days == 1 else f"{days} days"


def revision_rests_for(
    *,
    learners: list[User],
    now: datetime,
    scores: dict[int, dict[str, SkillScore]],
    levels: dict[int, dict[str, SkillLevel]],
) -> dict[int, list[str]]:
    """Why weak skills have no revision lesson now, per learner, by skill name: the two
    waits of ``revision_lessons_for``, read from the same rules and constants. A skill
    studied in a lesson after the answers its weak estimate rests on waits for new answers
    (``_studied_since_measured``); one whose lessons the learner completed within
    ``REVISION_REST`` waits for that rest to pass. For an empty "Revise" panel, so it says
    why; it chooses nothing. One query, none when no skill is weak."""
    weak = {
        learner.pk: {
            slug
            for slug in set(scores[learner.pk]) | set(levels[learner.pk])
            if _weak_evidence(scores[learner.pk].get(slug), levels[learner.pk].get(slug))
        }
        for learner in learners
    }
    rests: dict[int, list[str]] = {learner.pk: [] for learner in learners}
    if not any(weak.values()):
        return rests
    completions: dict[tuple[int, str], tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            _RESTING_SQL,
            {
                "ids": [learner_id for learner_id, own in weak.items() if own],
                "slugs": sorted(set().union(*weak.values())),
                "completed": LessonProgress.Status.COMPLETED,
                "rested": now - REVISION_REST,
            },
        )
        for learner_id, slug, *moments in cursor.fetchall():
            completions[learner_id, slug] = tuple(moments)
    for learner in learners:
        zone = learner_timezone(learner)
        today = now.astimezone(zone).date()
        # Skills waiting for the same reason on the same days are named together.
        waiting: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for slug in sorted(weak[learner.pk]):
            score, level = scores[learner.pk].get(slug), levels[learner.pk].get(slug)
            studied_at, first_fresh, last_fresh = completions.get((learner.pk, slug), (None,) * 3)
            name = (score or level).name
            if _studied_since_measured(score, level, studied_at):
                waiting["held", _day_word(studied_at, today=today, zone=zone), ""].append(name)
            elif first_fresh is not None:
                studied = _day_word(last_fresh, today=today, zone=zone)
                back = _day_word(first_fresh + REVISION_REST, today=today, zone=zone)
                waiting["rest", studied, back].append(name)
        for (why, studied, back), names in sorted(waiting.items(), key=lambda kv: kv[1]):
            one = len(names) == 1
            it, its = ("it", "its") if one else ("them", "their")
            named = " and ".join(sorted(names, key=str.lower))
            if why == "held":
                rests[learner.pk].append(
                    f"{named}: you studied {it} {studied}, after your last answers on {it}; "
                    f"{its} review waits for a quiz or skill check to measure {it} again"
                )
            else:
                rests[learner.pk].append(
                    f"{named}: you studied {its} lessons {studied}; review comes back {back} "
                    f"(a lesson rests {_rest_text()} after you complete it)"
                )
    return rests


def _lessons_near(slugs: set[str], *, limit: int) -> dict[str, list[dict]]:
    """Per skill slug, the published lessons nearest in meaning to the skill
    (``catalog.search.lessons_near_skill``, the search behind ``lessons_like_skill``),
    shared by every learner of the call: one query for the skills and one per skill,
    however many learners; the caller checks each learner's locks."""
    if not slugs:
        return {}
    return {
        skill.slug: [
            {
                "lesson_id": lesson.pk,
                "lesson__title": lesson.title,
                "lesson__estimated_minutes": lesson.estimated_minutes,
                "course_id": lesson.module.course_id,
                # Not a lesson on the skill: the reason must say so.
                "near": True,
            }
            for lesson in lessons_near_skill(
                skill=skill, limit=limit, min_similarity=FALLBACK_MIN_SIMILARITY
            )
        ]
        for skill in Skill.objects.filter(slug__in=slugs).order_by("slug")
    }


# Per learner, the skills of the lessons they completed, each with the last completion that
# was not a skim. Written out: it runs on every dashboard read after a lesson action, and the
# ORM's build of it cost several times the query.
_TAUGHT_SQL = """
    SELECT progress.learner_id, skill.slug,
           MAX(progress.completed_at) FILTER (WHERE NOT progress.skimmed)
      FROM learning_lessonprogress AS progress
      JOIN catalog_lesson_skills AS lesson_skills ON lesson_skills.lesson_id = progress.lesson_id
      JOIN catalog_skill AS skill ON skill.id = lesson_skills.skill_id
     WHERE progress.learner_id = ANY(%(ids)s) AND progress.status = %(completed)s
     GROUP BY 1, 2
"""


def studied_or_goal_skills_for(
    *,
    learner_ids: list[int],
    scores: dict[int, dict[str, SkillScore]],
    levels: dict[int, dict[str, SkillLevel]],
    goal_skills: dict[int, set[str]] | None = None,
) -> tuple[dict[int, set[str]], dict[int, dict[str, datetime | None]]]:
    """Per learner, the skill slugs revision may be about: answered (a recent score or a
    state with evidence), taught by a completed lesson, or in an active goal; and, second,
    those taught by a completed lesson, each with when the learner last completed one of
    its lessons without skimming (None when only skimmed) (two queries; one when the
    skills of each learner's active goals, ``goal_skills``, are given)."""
    studied: dict[int, set[str]] = {
        learner_id: set(scores[learner_id])
        | {slug for slug, level in levels[learner_id].items() if level.answers > 0}
        for learner_id in learner_ids
    }
    taught: dict[int, dict[str, datetime | None]] = {learner_id: {} for learner_id in learner_ids}
    with connection.cursor() as cursor:
        cursor.execute(
            _TAUGHT_SQL,
            {"ids": list(learner_ids), "completed": LessonProgress.Status.COMPLETED},
        )
        for learner_id, slug, studied_at in cursor.fetchall():
            studied[learner_id].add(slug)
            taught[learner_id][slug] = studied_at
    if goal_skills is None:
        goal_skills = {learner_id: set() for learner_id in learner_ids}
        for learner_id, slug in GoalSkill.objects.filter(
            goal__learner_id__in=learner_ids, goal__status=LearningGoal.Status.ACTIVE
        ).values_list("goal__learner_id", "skill__slug"):
            goal_skills[learner_id].add(slug)
    for learner_id in learner_ids:
        studied[learner_id] |= goal_skills[learner_id]
    return studied, taught


def _revision_items(
    needs: dict[str, tuple[float, int | None]],
    candidates: dict[str, list[dict]],
    scores: dict[str, SkillScore],
    levels: dict[str, SkillLevel],
    skipped: Skipped,
    limit: int,
    taught: set[str],
) -> list[RevisionItem]:
    """The cards' items; "Review" for a skill the learner studied in a lesson, "Study" for
    one they have only answered questions on (a diagnostic, a quiz taken cold)."""
    items: list[RevisionItem] = []
    used: set[int] = set()
    for slug, (priority, days) in sorted(needs.items(), key=lambda kv: (-kv[1][0], kv[0])):
        row = next(
            (
                row
                for row in candidates[slug]
                if row["lesson_id"] not in used
                and (Recommendation.Kind.REVISION, row["lesson_id"], None) not in skipped
            ),
            None,
        )
        if row is None:
            continue
        used.add(row["lesson_id"])
        score, level = scores.get(slug), levels.get(slug)
        name = (score or level).name
        lesson = f"“{row['lesson__title']}”"
        verb = "Review" if slug in taught else "Study"
        if row.get("near"):
            what = (
                f"{verb} {name}: none of its own lessons is open to you now, and {lesson} "
                "is the nearest in subject"
            )
        else:
            what = f"{verb} {name} with {lesson}"
        if _weak_evidence(score, level) == "score":
            reason = (
                f"{what} — {score.percent:g}% correct on your last {answers_text(score.answered)}"
            )
        else:
            reason = (
                f"{what} — mastery estimate "
                f"{100 * level.mastery:.0f}% on {answers_text(level.answers)}"
            )
        if days:
            reason += f", last practised {days} day{'s' if days != 1 else ''} ago"
        reason += f"; {_minutes(row['lesson__estimated_minutes'])}"
        items.append(
            RevisionItem(
                lesson_id=row["lesson_id"],
                title=row["lesson__title"],
                skill=slug,
                skill_name=name,
                estimated_minutes=row["lesson__estimated_minutes"],
                recent_score=score.percent if score else None,
                mastery=level.mastery if level else None,
                days_since_practice=days,
                priority=priority,
                reason=reason,
                lesson_completed=bool(row.get("completed")),
            )
        )
        if len(items) == limit:
            break
    return items


def revisions_beside(
    revisions: list[RevisionItem], next_lessons: list[NextLesson]
) -> list[tuple[int, RevisionItem]]:
    """The revision items shown beside these next lessons, each with its urgency rank among
    all of them: a lesson that is a next lesson is not also offered for revision (one
    suggestion per lesson, on the cards and on the dashboard's "Revise" panel alike). Which
    skills need revision, and with which lesson, is ``revision_lessons_for``'s rule; this
    only leaves out what is already shown as "Next"."""
    next_ids = {item.lesson_id for item in next_lessons}
    return [(rank, item) for rank, item in enumerate(revisions) if item.lesson_id not in next_ids]


def course_recommendations_for(
    *,
    learner_ids: list[int],
    now: datetime,
    limit: int = 3,
    skipped: dict[int, Skipped] | None = None,
    facts: dict[int, LockFacts] | None = None,
) -> dict[int, list[CourseSuggestion]]:
    """Per learner, courses from the active paths of active goals not enrolled in yet."""
    if skipped is None:
        skipped = recently_skipped_for(learner_ids=learner_ids, now=now)
    snapshots: dict[int, list[tuple]] = {learner_id: [] for learner_id in learner_ids}
    for learner_id, *row in (
        LearningPathSnapshot.objects.filter(
            learner_id__in=learner_ids, is_active=True, goal__status=LearningGoal.Status.ACTIVE
        )
        .order_by("learner_id", "goal__created_at", "goal_id")
        .values_list("learner_id", "id", "goal_id", "goal__title", "items")
    ):
        snapshots[learner_id].append(row)
    # Every enrollment, dropped ones too: collaborative filtering learns from all of them.
    taken: dict[int, dict[int, str]] = {learner_id: {} for learner_id in learner_ids}
    for learner_id, course_id, status in Enrollment.objects.filter(
        learner_id__in=learner_ids
    ).values_list("learner_id", "course_id", "status"):
        taken[learner_id][course_id] = status
    suggestions: dict[int, list[CourseSuggestion]] = {}
    seen: dict[int, set[int]] = {}
    for learner_id in learner_ids:
        enrolled = {
            c
            for c, status in taken[learner_id].items()
            if status in (Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED)
        }
        own: list[CourseSuggestion] = []
        seen[learner_id] = set()
        for snapshot_id, goal_id, goal_title, items in snapshots[learner_id]:
            for item in items:
                course_id = item["id"]
                if (
                    course_id in enrolled
                    or course_id in seen[learner_id]
                    or (Recommendation.Kind.COURSE, None, course_id) in skipped[learner_id]
                ):
                    continue
                seen[learner_id].add(course_id)
                own.append(
                    CourseSuggestion(
                        course_id, item["title"], goal_id, goal_title, item["reason"], snapshot_id
                    )
                )
        suggestions[learner_id] = own[:limit]
    similar = _learners_like_you(taken=taken, suggested=seen, skipped=skipped)
    for learner_id in learner_ids:
        suggestions[learner_id] += similar.get(learner_id, [])
    return _unlocked_courses(suggestions, taken=taken, skipped=skipped, now=now, facts=facts)


def _open_course(course_id: int, graph: LockGraph, facts: LockFacts) -> int | None:
    """The course to take so that ``course_id`` opens: itself when open, else the first
    open course down its unmet prerequisites; None when none is open."""
    stack, seen = [course_id], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        blockers = course_blockers(current, graph, facts)
        if not blockers:
            return current
        stack.extend(b.id for b in reversed(blockers))
    return None


def _unlocked_courses(
    suggestions: dict[int, list[CourseSuggestion]],
    *,
    taken: dict[int, dict[int, str]],
    skipped: dict[int, Skipped],
    now: datetime,
    facts: dict[int, LockFacts] | None,
) -> dict[int, list[CourseSuggestion]]:
    """Never a locked course (``learning.locks``): a locked suggestion gives way to the
    prerequisite course that opens it, with the reason; one that nothing open unlocks
    is dropped."""
    wanted = {s.course_id for own in suggestions.values() for s in own}
    if not wanted:
        return suggestions
    graph = lock_graph(course_ids=wanted)
    if facts is None:
        facts = lock_facts_for(learner_ids=list(suggestions), now=now)
    result: dict[int, list[CourseSuggestion]] = {}
    for learner_id, own in suggestions.items():
        kept: list[CourseSuggestion] = []
        used: set[int] = set()
        for item in own:
            target = _open_course(item.course_id, graph, facts[learner_id])
            if target == item.course_id and target not in used:
                used.add(target)
                kept.append(item)
                continue
            if (
                target is None
                or target in used
                or taken[learner_id].get(target)
                in (Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED)
                or (Recommendation.Kind.COURSE, None, target) in skipped[learner_id]
            ):
                continue
            used.add(target)
            title = graph.courses[target].title
            kept.append(
                replace(
                    item,
                    course_id=target,
                    title=title,
                    reason=(
                        f"Take “{title}” first: it opens {item.title}, which builds on it "
                        f"({item.reason})"
                        if item.reason
                        else f"Take “{title}” first: it opens {item.title}, which builds on it"
                    ),
                )
            )
        result[learner_id] = kept
    return result


def _learners_like_you(
    *,
    taken: dict[int, dict[int, str]],
    suggested: dict[int, set[int]],
    skipped: dict[int, Skipped],
) -> dict[int, list[CourseSuggestion]]:
    """Collaborative-filtering courses per learner from the active model's artifact (no query)."""
    found = cf_course_suggestions(
        learner_courses={learner_id: set(own) for learner_id, own in taken.items()},
        completed={
            learner_id: {c for c, s in own.items() if s == Enrollment.Status.COMPLETED}
            for learner_id, own in taken.items()
        },
        exclude={
            learner_id: suggested[learner_id]
            | {c for kind, _, c in skipped[learner_id] if kind == Recommendation.Kind.COURSE}
            for learner_id in taken
        },
        limit=LEARNERS_LIKE_YOU,
    )
    return {
        learner_id: [
            CourseSuggestion(
                s.course_id,
                s.title,
                None,
                "",
                s.reason,
                None,
                source="learners_like_you",
                because_course_id=s.because_course_id,
            )
            for s in own
        ]
        for learner_id, own in found.items()
    }


def latest_quiz_scores_for(*, learner_ids: list[int], now: datetime) -> dict[int, list[DatedScore]]:
    """The latest quiz scores that the difficulty advice and the falling-scores signal
    both read, with their times, for several learners in one query."""
    return latest_dated_scores_for(
        learner_ids=learner_ids,
        now=now,
        count=max(RECENT_ATTEMPTS, FALLING_ATTEMPTS),
        window=RECENT_ATTEMPT_WINDOW,
    )


def struggles_for(
    *, learner_ids: list[int], now: datetime, latest: dict[int, list[DatedScore]]
) -> dict[int, StruggleResult]:
    """detect_struggle_for, reusing `latest_quiz_scores_for` when the two windows agree."""
    shared = None
    if RECENT_ATTEMPT_WINDOW == FALLING_WINDOW:
        shared = {learner_id: scores_of(own) for learner_id, own in latest.items()}
    return detect_struggle_for(learner_ids=learner_ids, now=now, latest_scores=shared)


def difficulty_advice_for(
    *,
    learners: list[User],
    now: datetime,
    latest_scores: dict[int, list[DatedScore]] | None = None,
) -> dict[int, DifficultyAdvice]:
    """Harder at a recent average of 85% or more, easier below 50%, else keep; per learner.

    Only quizzes submitted since the learner's level last changed count: scores earned at
    the previous level say nothing about the current one. `latest_scores` may come from
    the caller (`latest_quiz_scores_for`, same `now`).
    """
    if latest_scores is None:
        latest_scores = latest_dated_scores_for(
            learner_ids=[learner.pk for learner in learners],
            now=now,
            count=RECENT_ATTEMPTS,
            window=RECENT_ATTEMPT_WINDOW,
        )
    return {
        learner.pk: _difficulty(learner, latest_scores[learner.pk], now) for learner in learners
    }


def _difficulty(learner: User, latest: list[DatedScore], now: datetime) -> DifficultyAdvice:
    profile = profile_of(learner)
    current = profile.current_difficulty if profile else Difficulty.BEGINNER
    changed_at = difficulty_changed_at(profile)
    counted = [entry for entry in latest if changed_at is None or entry.submitted_at > changed_at][
        :RECENT_ATTEMPTS
    ]
    scores = [entry.score for entry in counted]
    if not scores:
        if changed_at is not None and changed_at > now - RECENT_ATTEMPT_WINDOW:
            day = changed_at.astimezone(learner_timezone(learner)).date().isoformat()
            reason = f"Moved to {current} on {day} - waiting for quiz results at this level"
        else:
            reason = (
                f"No quiz results in the last {RECENT_ATTEMPT_DAYS} days - "
                f"keeping the {current} level"
            )
        return DifficultyAdvice(current, current, "keep", None, 0, reason)
    average = round(sum(scores, Decimal(0)) / len(scores), 1)
    shown = f"{float(average):g}%"
    index = LEVELS.index(current) if current in LEVELS else 0
    new, change = current, "keep"
    if average >= HARDER_AT and index == len(LEVELS) - 1:
        reason = f"Excellent performance ({shown}) - you are already at the advanced level"
    elif average >= HARDER_AT:
        new, change = LEVELS[index + 1], "increase"
        reason = f"Excellent performance ({shown}) - increasing challenge to {new}"
    elif average < EASIER_BELOW and index == 0:
        reason = f"Recent quiz average is {shown} - stay with beginner content, review the basics"
    elif average < EASIER_BELOW:
        new, change = LEVELS[index - 1], "decrease"
        reason = f"Recent quiz average is {shown} - easing to {new} content to rebuild confidence"
    else:
        reason = f"Recent quiz average is {shown} - keeping the {current} level"
    # Which quizzes, where, and how each went: the learner can check the figure (QA walk,
    # issue 13: the card named none of them).
    reason += f" ({_quizzes_named(counted)})"
    return DifficultyAdvice(current, new, change, float(average), len(scores), reason)


def _quizzes_named(counted: list[DatedScore]) -> str:
    """E.g. "your last 2 quizzes: “Joins quiz” (Inner joins, SQL and PostgreSQL) 40%,
    “Loops quiz” (Python Fundamentals) 58%", the latest first."""
    if len(counted) == 1:
        return f"your last quiz: {counted[0].named}"
    return f"your last {len(counted)} quizzes: {', '.join(entry.named for entry in counted)}"


@dataclass
class _Wanted:
    reason: str
    score: float
    payload: dict = field(default_factory=dict)
    source_snapshot_id: int | None = None


RecKey = tuple[str, int | None, int | None, int | None]


def support_reason(*, course_title: str, factors: list[str]) -> str:
    """The support card's text for a high dropout risk, naming its strongest factor."""
    detail = factors[0] if factors else "you have not been around much lately"
    return (
        f"Keep going with {course_title}: {detail}. A short session this week helps you "
        "catch up — and your instructor is there if something is in the way."
    )


def wanted_recommendations_for(
    *,
    learners: list[User],
    now: datetime,
    struggles: dict[int, StruggleResult],
    risks: Mapping[int, list[HighRisk]],
    advice: dict[int, DifficultyAdvice] | None = None,
    scores: dict[int, dict[str, SkillScore]] | None = None,
    levels: dict[int, dict[str, SkillLevel]] | None = None,
) -> dict[int, dict[RecKey, _Wanted]]:
    """The recommendations each learner should have now, by target (a fixed number of
    queries for any number of learners; the caller may hand in blocks it already has)."""
    ids = [learner.pk for learner in learners]
    skipped = recently_skipped_for(learner_ids=ids, now=now)
    if advice is None:
        advice = difficulty_advice_for(learners=learners, now=now)
    # The lock rule's facts, read once for next lessons, revision and courses.
    facts = lock_facts_for(learner_ids=ids, now=now)
    lessons = next_lessons_for(learner_ids=ids, now=now, skipped=skipped, facts=facts)
    revisions = revision_lessons_for(
        learners=learners, now=now, scores=scores, levels=levels, skipped=skipped, facts=facts
    )
    courses = course_recommendations_for(learner_ids=ids, now=now, skipped=skipped, facts=facts)
    kind = Recommendation.Kind
    everyone: dict[int, dict[RecKey, _Wanted]] = {}
    for learner_id in ids:
        wanted: dict[RecKey, _Wanted] = {}
        struggle = struggles[learner_id]
        if struggle.is_struggling:
            wanted[(kind.SUPPORT, None, None, None)] = _Wanted(
                "We noticed: " + "; ".join(struggle.reasons),
                KIND_SCORE[kind.SUPPORT],
                {
                    "reasons": struggle.reasons,
                    "signals": struggle.signals,
                    # The lesson or quiz the card links to (Recommendation.url).
                    "target": struggle.target,
                },
            )
        # A high dropout risk keeps its course's support card for as long as the risk
        # stays high, whoever refreshes; scored by the risk itself.
        for risk in risks.get(learner_id, []):
            wanted[(kind.SUPPORT, None, risk.course_id, None)] = _Wanted(
                support_reason(course_title=risk.course_title, factors=risk.factors),
                risk.probability,
                {"factors": risk.factors},
            )
        for rank, item in enumerate(lessons[learner_id]):
            wanted[(kind.NEXT_LESSON, item.lesson_id, None, None)] = _Wanted(
                item.reason, KIND_SCORE[kind.NEXT_LESSON] - rank / 100, item.as_dict()
            )
        for rank, item in revisions_beside(revisions[learner_id], lessons[learner_id]):
            wanted[(kind.REVISION, item.lesson_id, None, None)] = _Wanted(
                item.reason, KIND_SCORE[kind.REVISION] - rank / 100, item.as_dict()
            )
        own_advice = advice[learner_id]
        if own_advice.change != "keep" and (kind.DIFFICULTY, None, None) not in skipped[learner_id]:
            wanted[(kind.DIFFICULTY, None, None, None)] = _Wanted(
                own_advice.reason, KIND_SCORE[kind.DIFFICULTY], own_advice.as_dict()
            )
        for rank, item in enumerate(courses[learner_id]):
            wanted[(kind.COURSE, None, item.course_id, None)] = _Wanted(
                item.reason, KIND_SCORE[kind.COURSE] - rank / 100, item.as_dict(), item.snapshot_id
            )
        everyone[learner_id] = wanted
    return everyone


def struggle_metric(struggle: StruggleResult, now: datetime) -> dict:
    """The struggle check as kept on the profile, so instructors see who struggles."""
    return {**asdict(struggle), "checked_at": now.isoformat()}


@dataclass
class Refreshed:
    """What one learner's refresh did: recommendations still active afterwards, those
    created (by target), and those expired (no longer wanted, or past their expiry)."""

    active: int = 0
    created: list[RecKey] = field(default_factory=list)
    expired: int = 0


# The columns a refresh rewrites on a still-wanted recommendation, with their types.
STORED_FIELDS = {
    "reason": "text",
    "score": "float8",
    "payload": JSONB,
    "source_snapshot_id": "bigint",
    "expires_at": "timestamptz",
    "updated_at": "timestamptz",
}


def _store(*, wanted: dict[int, dict[RecKey, _Wanted]], now: datetime) -> dict[int, Refreshed]:
    """Bring these learners' active recommendations in line with `wanted`, in four queries.

    Still-wanted ones are updated in place (one active row per target, as the constraint
    requires), new ones created, the rest marked expired; so are rows past their expiry
    (a new row then takes the target's place).
    """
    done = {learner_id: Refreshed() for learner_id in wanted}
    active = Recommendation.objects.select_for_update().filter(
        learner_id__in=list(wanted), status=Recommendation.Status.ACTIVE
    )
    existing = {}
    stale = []
    for row in active:
        key = (row.kind, row.lesson_id, row.course_id, row.assessment_id)
        if key in wanted[row.learner_id] and (row.expires_at is None or row.expires_at > now):
            existing[(row.learner_id, *key)] = row
        else:
            stale.append(row.pk)
            done[row.learner_id].expired += 1
    if stale:
        Recommendation.objects.filter(pk__in=stale).update(
            status=Recommendation.Status.EXPIRED, updated_at=now
        )
    changed, new = [], []
    # auto_now is not applied by a bulk update: stamp the rows as save() would.
    updated_at = timezone.now()
    for learner_id, own in wanted.items():
        done[learner_id].active = len(own)
        for key, want in own.items():
            fields = {
                "reason": want.reason,
                "score": want.score,
                "payload": want.payload,
                "source_snapshot_id": want.source_snapshot_id,
                "expires_at": now + RECOMMENDATION_TTL,
            }
            row = existing.get((learner_id, *key))
            if row is not None:
                for name, value in fields.items():
                    setattr(row, name, value)
                row.updated_at = updated_at
                changed.append(row)
            else:
                done[learner_id].created.append(key)
                kind, lesson_id, course_id, assessment_id = key
                new.append(
                    Recommendation(
                        learner_id=learner_id,
                        kind=kind,
                        lesson_id=lesson_id,
                        course_id=course_id,
                        assessment_id=assessment_id,
                        created_at=now,
                        **fields,
                    )
                )
    bulk_update_rows(Recommendation, changed, STORED_FIELDS)
    Recommendation.objects.bulk_create(new)
    return done


@dataclass(frozen=True)
class RefreshFacts:
    """Blocks a caller that already read them for the same learners and `now` hands to
    `recommendations_refresh` (the weekly run), so they are not read twice."""

    latest: dict[int, list[DatedScore]]
    struggles: dict[int, StruggleResult]
    scores: dict[int, dict[str, SkillScore]]
    levels: dict[int, dict[str, SkillLevel]]


def recommendations_refresh(
    *,
    learner_ids: Sequence[int],
    now: datetime,
    risk: Mapping[int, list[HighRisk]] | None = None,
    locked: list[User] | None = None,
    facts: RefreshFacts | None = None,
    profile_columns: Mapping[str, str] | None = None,
) -> dict[int, Refreshed]:
    """The one writer of recommendations (acting on one aside: `recommendation_act`).

    Brings the learners' active recommendations in line with their current data: still
    wanted ones are updated in place, new ones created, the rest and any past their expiry
    marked expired. Records each learner's struggle check and `recommendations_refreshed_at`
    on the profile. A fixed number of queries for any number of learners.

    - `risk`: the high dropout risks per learner (course support cards). The nightly
      scoring passes what it has just scored; otherwise the stored risks are read, so a
      support card survives any refresh while its risk stays high.
    - `locked`: the caller's transaction already holds these learners' profile locks and
      passes them with their (fresh, possibly changed) profiles attached (the weekly run);
      otherwise the profiles are locked here, which serialises concurrent refreshes of a
      learner (quiz submit vs the weekly job).
    - `facts`: blocks the caller has already read for these learners and `now`.
    - `profile_columns`: other columns of the `locked` profiles the caller changed
      (name -> PostgreSQL type, as `bulk_update_rows` takes them), written in the same
      UPDATE as the refresh's own.

    Learners without a profile are left out of the result.
    """
    # No savepoint inside a caller's transaction: a failure there fails the caller's unit.
    with transaction.atomic(savepoint=False):
        if locked is None:
            profiles = (
                LearnerProfile.objects.select_for_update(of=("self",))
                .filter(user_id__in=list(learner_ids))
                .select_related("user")
                .order_by("user_id")
            )
            learners = []
            for profile in profiles:
                learner = profile.user
                learner.profile = profile  # the advice below reads the locked, fresh row
                learners.append(learner)
        else:
            learners = locked
        if not learners:
            return {}
        ids = [learner.pk for learner in learners]
        if facts is None:
            latest = latest_quiz_scores_for(learner_ids=ids, now=now)
            struggles = struggles_for(learner_ids=ids, now=now, latest=latest)
            scores = levels = None
        else:
            latest, struggles = facts.latest, facts.struggles
            scores, levels = facts.scores, facts.levels
        if risk is None:
            risk = high_dropout_risks_for(learner_ids=ids)
        wanted = wanted_recommendations_for(
            learners=learners,
            now=now,
            struggles=struggles,
            risks=risk,
            advice=difficulty_advice_for(learners=learners, now=now, latest_scores=latest),
            scores=scores,
            levels=levels,
        )
        done = _store(wanted=wanted, now=now)
        updated_at = timezone.now()  # auto_now is not applied by a bulk update
        for learner in learners:
            learner.profile.struggle = struggle_metric(struggles[learner.pk], now)
            learner.profile.recommendations_refreshed_at = now
            learner.profile.updated_at = updated_at
        bulk_update_rows(
            LearnerProfile,
            [learner.profile for learner in learners],
            {
                **(profile_columns or {}),
                "struggle": JSONB,
                "recommendations_refreshed_at": "timestamptz",
                "updated_at": "timestamptz",
            },
        )
        # Recommendation rows (the profile's struggle and refresh time are shown nowhere
        # the kinds are read); a caller's own profile columns may be anything.
        learners_changed(ids, kinds=KINDS if profile_columns else [RECOMMENDATIONS])
    return done


def refresh_recommendations(*, learner: User, now: datetime) -> list[Recommendation]:
    """`recommendations_refresh` for one learner; returns their active recommendations,
    best first."""
    recommendations_refresh(learner_ids=[learner.pk], now=now)
    return list(
        Recommendation.objects.filter(learner=learner, status=Recommendation.Status.ACTIVE)
        .select_related("lesson", "course", "assessment")
        .order_by("-score", "id")
    )


def recommendations_retire_for_lesson(*, learner: User, lesson: Lesson, now: datetime) -> int:
    """Expire the learner's active cards that send them to ``lesson``, once they completed
    (or skimmed) it; returns how many.

    Called by the completion itself, in its transaction: the refresh it defers would drop
    these cards too (a completed lesson is no next lesson, and it rests from revision for
    REVISION_REST), but until that job has run a card stored before the completion kept
    offering the lesson just done (QA walk, issue 13). The refresh writes the new set.
    """
    retired = Recommendation.objects.filter(
        learner=learner, lesson=lesson, status=Recommendation.Status.ACTIVE
    ).update(status=Recommendation.Status.EXPIRED, updated_at=now)
    if retired:
        learners_changed([learner.pk], kinds=[RECOMMENDATIONS])
    return retired


class RecommendationUnavailable(ValueError):
    """What a card links to was taken down after the card was made: it cannot be accepted."""


def recommendation_act(
    *, recommendation: Recommendation, action: str, now: datetime
) -> Recommendation:
    """Record accepted / skipped / ignored. Repeating the same action is a no-op.

    A card whose content was taken down since it was made (``recommendations_open``; a
    page open from before) cannot be accepted: the learner would land on a 404.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action '{action}': use one of {', '.join(ACTIONS)}.")
    with transaction.atomic():
        row = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if row.status == ACTIONS[action]:
            return row
        if row.status != Recommendation.Status.ACTIVE:
            raise ValueError(f"This recommendation is already {row.status}; it cannot be {action}.")
        if (
            action == "accepted"
            and not recommendations_open(Recommendation.objects.filter(pk=row.pk)).exists()
        ):
            raise RecommendationUnavailable(
                "What this suggestion links to is no longer available: it was unpublished "
                "after the suggestion was made. Your dashboard has fresh suggestions."
            )
        row.status = ACTIONS[action]
        row.acted_at = now
        row.save(update_fields=["status", "acted_at", "updated_at"])
        learners_changed([row.learner_id], kinds=[RECOMMENDATIONS])
        xapi.xapi_queue(learner_id=row.learner_id, recommendation_ids=[row.pk])
    return row
