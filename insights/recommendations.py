"""Recommendations (R-REC): next lessons, spaced revision, courses, difficulty; stored and acted on.

Every suggestion carries a reason built from the learner's own numbers and names. Items the
learner skipped within `SKIP_COOLDOWN` are not suggested again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When, Window
from django.db.models.functions import RowNumber

from accounts.models import LearnerProfile, User
from assessments.models import AssessmentAttempt
from catalog.models import DIFFICULTY_RANK, Course, Difficulty, Lesson
from insights.ml.cf import cf_course_suggestions
from insights.models import LearningPathSnapshot, Recommendation
from insights.selectors import (
    SkillLevel,
    SkillScore,
    profile_of,
    recent_skill_scores,
    recently_skipped,
    skill_levels,
)
from insights.struggle import StruggleResult, detect_struggle
from learning.models import Enrollment, LearningGoal, LessonProgress
from skillstudio.data_versions import learners_changed

# Revision: a skill needs review below this recent quiz score or this mastery estimate.
REVISION_SCORE = 60
REVISION_MASTERY = 0.5
# Spaced revision: the longer since practice, the more a weak skill needs review; each week
# without practice adds the skill's need once more, up to four weeks.
SPACING_DAYS = 7
MAX_SPACING_DAYS = 28
# Difficulty: average of the latest quiz attempts within a window.
RECENT_ATTEMPTS = 5
RECENT_ATTEMPT_DAYS = 30
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


def _module_label(order: int, title: str) -> str:
    return f"Module {order} - {title}"


def _lesson_prerequisites(lesson_ids: set[int], info: dict[int, dict]) -> dict[int, list[int]]:
    """Prerequisite lists for the lessons and, transitively, for their prerequisites.

    One query per level of the prerequisite chain (a property of the catalogue, not of the
    learner's history); lessons met along the way are added to `info`.
    """
    graph: dict[int, list[int]] = {}
    frontier = set(lesson_ids)
    while frontier:
        for lesson_id in frontier:
            graph[lesson_id] = []
        rows = (
            Lesson.prerequisites.through.objects.filter(from_lesson_id__in=frontier)
            .order_by(
                "to_lesson__module__course_id", "to_lesson__module__order", "to_lesson__order"
            )
            .values_list(
                "from_lesson_id",
                "to_lesson_id",
                "to_lesson__title",
                "to_lesson__module__order",
                "to_lesson__module__course_id",
                "to_lesson__module__course__title",
                "to_lesson__estimated_minutes",
            )
        )
        found = set()
        for source, target, title, module_order, course_id, course_title, minutes in rows:
            graph[source].append(target)
            info.setdefault(
                target,
                {
                    "id": target,
                    "title": title,
                    "module__order": module_order,
                    "module__course_id": course_id,
                    "module__course__title": course_title,
                    "estimated_minutes": minutes,
                },
            )
            found.add(target)
        frontier = found - set(graph)
    return graph


def _blocker(
    lesson_id: int, graph: dict[int, list[int]], completed: set[int], seen: set[int]
) -> int | None:
    """The prerequisite to study first: the deepest incomplete one whose own are met."""
    for required in graph.get(lesson_id, []):
        if required in completed or required in seen:
            continue
        seen.add(required)
        deeper = _blocker(required, graph, completed, seen)
        return required if deeper is None else deeper
    return None


def next_lessons(
    *,
    learner: User,
    now: datetime,
    limit: int = 3,
    skipped: set[tuple[str, int | None, int | None]] | None = None,
) -> list[NextLesson]:
    """Per active enrollment, the first incomplete lesson in course order.

    When that lesson's prerequisites are not met, the blocking prerequisite comes instead,
    with a reason naming both. Lessons already in progress come first.
    """
    if skipped is None:
        skipped = recently_skipped(learner=learner, now=now)
    enrollments = list(
        Enrollment.objects.filter(
            learner=learner,
            status=Enrollment.Status.ACTIVE,
            course__status=Course.Status.PUBLISHED,
        )
        .order_by("enrolled_at", "id")
        .values_list("course_id", flat=True)
    )
    if not enrollments:
        return []
    rows = list(
        Lesson.objects.filter(module__course_id__in=enrollments)
        .order_by("module__order", "order", "id")
        .values(
            "id",
            "title",
            "module__order",
            "module__course_id",
            "module__course__title",
            "estimated_minutes",
        )
    )
    info = {row["id"]: row for row in rows}
    by_course: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_course[row["module__course_id"]].append(row["id"])
    graph = _lesson_prerequisites(set(info), info)
    status = dict(
        LessonProgress.objects.filter(learner=learner, lesson_id__in=list(info)).values_list(
            "lesson_id", "status"
        )
    )
    completed = {lid for lid, s in status.items() if s == LessonProgress.Status.COMPLETED}

    suggestions: list[NextLesson] = []
    chosen: set[int] = set()
    for course_id in enrollments:
        for lesson_id in by_course[course_id]:
            if lesson_id in completed or (Recommendation.Kind.NEXT_LESSON, lesson_id, None) in (
                skipped
            ):
                continue
            lesson = info[lesson_id]
            label = _module_label(lesson["module__order"], lesson["title"])
            blocker = _blocker(lesson_id, graph, completed, {lesson_id})
            target = info[blocker] if blocker else lesson
            if blocker is not None:
                reason = f"Complete '{target['title']}' first - it is a prerequisite for {label}"
            elif status.get(lesson_id) == LessonProgress.Status.IN_PROGRESS:
                reason = f"Continue where you left off: {label}"
            else:
                reason = f"Next in sequence: {label}"
            if target["id"] not in chosen:
                chosen.add(target["id"])
                suggestions.append(
                    NextLesson(
                        lesson_id=target["id"],
                        title=target["title"],
                        course_id=target["module__course_id"],
                        course_title=target["module__course__title"],
                        module_order=target["module__order"],
                        estimated_minutes=target["estimated_minutes"],
                        status=status.get(target["id"], LessonProgress.Status.NOT_STARTED),
                        reason=reason,
                        blocked_lesson_id=lesson_id if blocker else None,
                    )
                )
            break
    # Stable sort: in-progress lessons first, otherwise enrollment order.
    suggestions.sort(key=lambda s: s.status != LessonProgress.Status.IN_PROGRESS)
    return suggestions[:limit]


def _revision_need(
    score: SkillScore | None, level: SkillLevel | None, now: datetime
) -> tuple[float, int | None] | None:
    """(priority, days since practice) for a weak skill, None for a skill doing fine."""
    weak_score = score is not None and score.percent < REVISION_SCORE
    mastery = level.mastery if level else None
    weak_mastery = mastery is not None and mastery < REVISION_MASTERY
    if not (weak_score or weak_mastery):
        return None
    strengths = [s for s in (score.percent / 100 if score else None, mastery) if s is not None]
    need = 1 - min(strengths)
    last_answer = score.last_answered_at if score else None
    practiced = [t for t in (last_answer, level.last_practiced_at if level else None) if t]
    days = max(0, (now - max(practiced)).days) if practiced else None
    spacing = min(days if days is not None else MAX_SPACING_DAYS, MAX_SPACING_DAYS)
    return round(need * (1 + spacing / SPACING_DAYS), 4), days


def _revision_candidates(*, learner: User, slugs: list[str], per_skill: int) -> list[dict]:
    """Per skill, its first `per_skill` published lessons in preference order, in one query.

    Order: lessons the learner completed first (revision is a review), then the easiest,
    then catalogue order (course title, module, lesson).
    """
    completed = LessonProgress.objects.filter(
        learner=learner, lesson_id=OuterRef("lesson_id"), status=LessonProgress.Status.COMPLETED
    )
    rank = Case(
        *(When(lesson__difficulty=level, then=Value(n)) for level, n in DIFFICULTY_RANK.items()),
        default=Value(0),
    )
    return list(
        Lesson.skills.through.objects.filter(
            skill__slug__in=slugs, lesson__module__course__status=Course.Status.PUBLISHED
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("skill_id")],
                order_by=[
                    Exists(completed).desc(),
                    rank.asc(),
                    F("lesson__module__course__title").asc(),
                    F("lesson__module__order").asc(),
                    F("lesson__order").asc(),
                    F("lesson_id").asc(),
                ],
            )
        )
        .filter(position__lte=per_skill)
        .order_by("skill__slug", "position")
        .values("skill__slug", "lesson_id", "lesson__title", "lesson__estimated_minutes")
    )


def revision_lessons(
    *,
    learner: User,
    now: datetime,
    limit: int = 5,
    scores: dict[str, SkillScore] | None = None,
    levels: dict[str, SkillLevel] | None = None,
    skipped: set[tuple[str, int | None, int | None]] | None = None,
) -> list[RevisionItem]:
    """Lessons to review for weak skills, most urgent first (spaced revision).

    Priority = (1 - strength) x (1 + days since practice / 7), strength being the lower of
    the recent quiz score and the mastery estimate, days capped at 28. A lesson the learner
    already completed is preferred (it is a review), then the easiest one.
    """
    scores = recent_skill_scores(learner=learner) if scores is None else scores
    levels = skill_levels(learner=learner) if levels is None else levels
    skipped = recently_skipped(learner=learner, now=now) if skipped is None else skipped
    needs = {}
    for slug in sorted(set(scores) | set(levels)):
        need = _revision_need(scores.get(slug), levels.get(slug), now)
        if need:
            needs[slug] = need
    if not needs:
        return []
    # A skill's choice is its first lesson in preference order that is neither taken by a
    # more urgent skill (at most limit - 1) nor recently skipped, so that many per skill
    # are enough: the database ranks the catalogue instead of shipping all of it here.
    per_skill = limit + sum(1 for kind, _, _ in skipped if kind == Recommendation.Kind.REVISION)
    candidates: dict[str, list[dict]] = defaultdict(list)
    for row in _revision_candidates(learner=learner, slugs=list(needs), per_skill=per_skill):
        candidates[row["skill__slug"]].append(row)
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
        if score is not None and score.percent < REVISION_SCORE:
            reason = f"Review {slug} - recent quiz score: {score.percent:g}%"
        else:
            reason = f"Review {slug} - mastery estimate: {100 * level.mastery:.0f}%"
        if days:
            reason += f" (last practiced {days} day{'s' if days != 1 else ''} ago)"
        items.append(
            RevisionItem(
                lesson_id=row["lesson_id"],
                title=row["lesson__title"],
                skill=slug,
                skill_name=(score or level).name,
                estimated_minutes=row["lesson__estimated_minutes"],
                recent_score=score.percent if score else None,
                mastery=level.mastery if level else None,
                days_since_practice=days,
                priority=priority,
                reason=reason,
            )
        )
        if len(items) == limit:
            break
    return items


def course_recommendations(
    *,
    learner: User,
    now: datetime,
    limit: int = 3,
    skipped: set[tuple[str, int | None, int | None]] | None = None,
) -> list[CourseSuggestion]:
    """Courses from the active paths of active goals that the learner has not enrolled in,
    then up to LEARNERS_LIKE_YOU courses that learners with the same courses went on to take.
    """
    skipped = recently_skipped(learner=learner, now=now) if skipped is None else skipped
    snapshots = (
        LearningPathSnapshot.objects.filter(
            learner=learner, is_active=True, goal__status=LearningGoal.Status.ACTIVE
        )
        .order_by("goal__created_at", "goal_id")
        .values_list("id", "goal_id", "goal__title", "items")
    )
    # Every enrollment, dropped ones too: collaborative filtering learns from all of them.
    taken = dict(Enrollment.objects.filter(learner=learner).values_list("course_id", "status"))
    enrolled = {
        c
        for c, status in taken.items()
        if status in (Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED)
    }
    suggestions: list[CourseSuggestion] = []
    seen: set[int] = set()
    for snapshot_id, goal_id, goal_title, items in snapshots:
        for item in items:
            course_id = item["id"]
            if (
                course_id in enrolled
                or course_id in seen
                or (Recommendation.Kind.COURSE, None, course_id) in skipped
            ):
                continue
            seen.add(course_id)
            suggestions.append(
                CourseSuggestion(
                    course_id, item["title"], goal_id, goal_title, item["reason"], snapshot_id
                )
            )
    return suggestions[:limit] + _learners_like_you(
        learner_id=learner.pk, taken=taken, suggested=seen, skipped=skipped
    )


def _learners_like_you(
    *,
    learner_id: int,
    taken: dict[int, str],
    suggested: set[int],
    skipped: set[tuple[str, int | None, int | None]],
) -> list[CourseSuggestion]:
    """Collaborative-filtering courses from the active model's artifact (no query)."""
    skipped_courses = {c for kind, _, c in skipped if kind == Recommendation.Kind.COURSE}
    found = cf_course_suggestions(
        learner_courses={learner_id: set(taken)},
        completed={learner_id: {c for c, s in taken.items() if s == Enrollment.Status.COMPLETED}},
        exclude={learner_id: suggested | skipped_courses},
        limit=LEARNERS_LIKE_YOU,
    )
    return [
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
        for s in found.get(learner_id, [])
    ]


def difficulty_advice(*, learner: User, now: datetime) -> DifficultyAdvice:
    """Harder at a recent average of 85% or more, easier below 50%, else keep."""
    profile = profile_of(learner)
    current = profile.current_difficulty if profile else Difficulty.BEGINNER
    scores = list(
        AssessmentAttempt.objects.filter(
            learner=learner,
            submitted_at__isnull=False,
            submitted_at__gte=now - timedelta(days=RECENT_ATTEMPT_DAYS),
            submitted_at__lte=now,
            score__isnull=False,
        )
        .order_by("-submitted_at", "-id")
        .values_list("score", flat=True)[:RECENT_ATTEMPTS]
    )
    if not scores:
        return DifficultyAdvice(
            current,
            current,
            "keep",
            None,
            0,
            f"No quiz results in the last {RECENT_ATTEMPT_DAYS} days - keeping the {current} level",
        )
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
    return DifficultyAdvice(current, new, change, float(average), len(scores), reason)


@dataclass
class _Wanted:
    reason: str
    score: float
    payload: dict = field(default_factory=dict)
    source_snapshot_id: int | None = None


RecKey = tuple[str, int | None, int | None, int | None]


def _wanted_recommendations(
    *, learner: User, now: datetime, struggle: StruggleResult
) -> dict[RecKey, _Wanted]:
    skipped = recently_skipped(learner=learner, now=now)
    wanted: dict[RecKey, _Wanted] = {}
    kind = Recommendation.Kind
    if struggle.is_struggling:
        wanted[(kind.SUPPORT, None, None, None)] = _Wanted(
            "We noticed: " + "; ".join(struggle.reasons),
            KIND_SCORE[kind.SUPPORT],
            {"reasons": struggle.reasons, "signals": struggle.signals},
        )
    for rank, item in enumerate(next_lessons(learner=learner, now=now, skipped=skipped)):
        wanted[(kind.NEXT_LESSON, item.lesson_id, None, None)] = _Wanted(
            item.reason, KIND_SCORE[kind.NEXT_LESSON] - rank / 100, item.as_dict()
        )
    for rank, item in enumerate(revision_lessons(learner=learner, now=now, skipped=skipped)):
        wanted[(kind.REVISION, item.lesson_id, None, None)] = _Wanted(
            item.reason, KIND_SCORE[kind.REVISION] - rank / 100, item.as_dict()
        )
    advice = difficulty_advice(learner=learner, now=now)
    if advice.change != "keep" and (kind.DIFFICULTY, None, None) not in skipped:
        wanted[(kind.DIFFICULTY, None, None, None)] = _Wanted(
            advice.reason, KIND_SCORE[kind.DIFFICULTY], advice.as_dict()
        )
    for rank, item in enumerate(course_recommendations(learner=learner, now=now, skipped=skipped)):
        wanted[(kind.COURSE, None, item.course_id, None)] = _Wanted(
            item.reason, KIND_SCORE[kind.COURSE] - rank / 100, item.as_dict(), item.snapshot_id
        )
    return wanted


def refresh_recommendations(
    *, learner: User, now: datetime, struggle: StruggleResult | None = None
) -> list[Recommendation]:
    """Bring the learner's active recommendations in line with their current data.

    Still-wanted ones are updated in place (one active row per target, as the constraint
    requires), new ones created, the rest and any past their expiry marked expired.
    Returns the active recommendations, best first. A caller that has just run
    detect_struggle for the same learner and `now` (the weekly job) passes its result.
    """
    if struggle is None:
        struggle = detect_struggle(learner=learner, now=now)
    wanted = _wanted_recommendations(learner=learner, now=now, struggle=struggle)
    with transaction.atomic():
        # Serialises concurrent refreshes of one learner (quiz submit vs weekly job).
        profile = LearnerProfile.objects.select_for_update().filter(user=learner).first()
        if profile is not None:
            # Kept on the profile so instructors see who struggles without recomputing.
            profile.behavioral_metrics = {
                **profile.behavioral_metrics,
                "struggle": {**asdict(struggle), "checked_at": now.isoformat()},
            }
            profile.save(update_fields=["behavioral_metrics", "updated_at"])
        active = Recommendation.objects.select_for_update().filter(
            learner=learner, status=Recommendation.Status.ACTIVE
        )
        existing = {(r.kind, r.lesson_id, r.course_id, r.assessment_id): r for r in active}
        stale = [r.pk for key, r in existing.items() if key not in wanted]
        Recommendation.objects.filter(pk__in=stale).update(
            status=Recommendation.Status.EXPIRED, updated_at=now
        )
        new = []
        for key, want in wanted.items():
            fields = {
                "reason": want.reason,
                "score": want.score,
                "payload": want.payload,
                "source_snapshot_id": want.source_snapshot_id,
                "expires_at": now + RECOMMENDATION_TTL,
            }
            if key in existing:
                row = existing[key]
                for name, value in fields.items():
                    setattr(row, name, value)
                row.save(update_fields=[*fields, "updated_at"])
            else:
                kind, lesson_id, course_id, assessment_id = key
                new.append(
                    Recommendation(
                        learner=learner,
                        kind=kind,
                        lesson_id=lesson_id,
                        course_id=course_id,
                        assessment_id=assessment_id,
                        created_at=now,
                        **fields,
                    )
                )
        Recommendation.objects.bulk_create(new)
        learners_changed([learner.pk])
    return list(
        Recommendation.objects.filter(learner=learner, status=Recommendation.Status.ACTIVE)
        .select_related("lesson", "course")
        .order_by("-score", "id")
    )


def expire_stale_recommendations(*, learner: User, now: datetime) -> int:
    """Mark active recommendations past their expiry as expired; returns how many."""
    expired = Recommendation.objects.filter(
        learner=learner, status=Recommendation.Status.ACTIVE, expires_at__lte=now
    ).update(status=Recommendation.Status.EXPIRED, updated_at=now)
    if expired:
        learners_changed([learner.pk])
    return expired


def recommendation_act(
    *, recommendation: Recommendation, action: str, now: datetime
) -> Recommendation:
    """Record accepted / skipped / ignored. Repeating the same action is a no-op."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action '{action}': use one of {', '.join(ACTIONS)}.")
    with transaction.atomic():
        row = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if row.status == ACTIONS[action]:
            return row
        if row.status != Recommendation.Status.ACTIVE:
            raise ValueError(f"This recommendation is already {row.status}; it cannot be {action}.")
        row.status = ACTIONS[action]
        row.acted_at = now
        row.save(update_fields=["status", "acted_at", "updated_at"])
        learners_changed([row.learner_id])
    return row
