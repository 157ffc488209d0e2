"""Reads behind the instructor insight pages (R-INSTR): course overview, learners table,
at-risk list, one learner's history and item analysis with suggested fixes.

Plain functions over one course (or assessment) and a ``now``: every one runs a fixed
number of queries whatever the number of learners, so the pages stay bounded. Who may
see which course is decided here too (``managed_courses``), through
``skillstudio.access.owner_scoped``: instructors their own courses, platform admins all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Greatest

from accounts.models import User
from assessments.models import Assessment, AssessmentAttempt
from assessments.selectors import graded_attempts_of
from catalog.models import Course, Module, Skill
from insights.analytics import active_goals_for, goal_paces_for, overall_pace
from insights.charts import Chart, bar_chart, line_chart
from insights.mastery import NOT_ASSESSED_MASTERY, SkillMastery, level_from_mastery
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    ItemAnalysisRun,
    LearnerSkillState,
    LearningPathSnapshot,
    QuestionItemAnalysis,
    Recommendation,
    RiskReview,
)
from insights.progress import AnswerCounts, attempt_answer_counts
from insights.selectors import skill_levels_for
from insights.struggle import detect_struggle_for
from learning.models import Enrollment, LessonProgress
from skillstudio.access import assessment_results_scoped, owner_scoped

ACTIVE_DAYS = 7
SCORE_BINS = 10  # quiz score distribution: 0-9, 10-19, ... 90-100
LEARNERS_PER_PAGE = 25
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# --- access -------------------------------------------------------------------------


def managed_courses(*, user: Any) -> QuerySet[Course]:
    """Courses whose learners ``user`` may see: their own (instructors), all (admins)."""
    return owner_scoped(Course.objects.all(), owner_path="owner", user=user).order_by("title")


def managed_assessments(*, user: Any) -> QuerySet[Assessment]:
    """Assessments whose results ``user`` may read: their own, and the course challenges of
    their own courses (instructors); all (admins)."""
    return assessment_results_scoped(Assessment.objects.all(), user=user)


def course_enrollments(*, course: Course) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(course=course)


# --- course overview ----------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    module: str
    lessons: int
    started: int
    completed: int


@dataclass(frozen=True)
class SkillSummary:
    name: str
    average_level: int | None
    learners_assessed: int
    answers: int


@dataclass(frozen=True)
class CourseOverview:
    enrolled: int
    active_recently: int
    completed: int
    funnel: list[FunnelStep]
    skills: list[SkillSummary]
    score_bins: list[tuple[str, float]]
    score_chart: Chart
    attempts: int
    active_days: int = ACTIVE_DAYS


# Graded attempts that count as activity in a course besides its own assessments: those
# of no course that measure the learner's skills (QA walk: a learner who took a diagnostic
# and a skill check today showed "never").
UNATTACHED_ACTIVITY = (Assessment.Kind.DIAGNOSTIC, Assessment.Kind.SKILL_CHECK)


def _last_activity(*, course: Course, learner_ids: list[int]) -> dict[int, datetime]:
    """Latest lesson started or completed in the course, or graded attempt (a quiz, exam or
    challenge of the course, a diagnostic or skill check), per learner (two queries). The
    learner's own moments, not ``updated_at``: a row rewritten by a job or an import is no
    activity."""
    latest: dict[int, datetime] = {}
    rows = list(
        LessonProgress.objects.filter(lesson__module__course=course, learner_id__in=learner_ids)
        .values("learner_id")
        .annotate(at=Greatest(Max("started_at"), Max("completed_at")))
        .values_list("learner_id", "at")
    ) + list(
        graded_attempts_of(learner_ids=learner_ids)
        .filter(
            Q(assessment__course=course)
            | Q(assessment__course__isnull=True, assessment__kind__in=UNATTACHED_ACTIVITY)
        )
        .values("learner_id")
        .annotate(at=Max("submitted_at"))
        .values_list("learner_id", "at")
    )
    for learner_id, at in rows:
        if at is not None and (learner_id not in latest or at > latest[learner_id]):
            latest[learner_id] = at
    return latest


def course_overview(*, course: Course, now: datetime) -> CourseOverview:
    """Headline numbers, module funnel, mastery per course skill and quiz scores (7 queries)."""
    enrollments = list(course_enrollments(course=course).values_list("learner_id", "status"))
    learner_ids = [learner_id for learner_id, _ in enrollments]
    last = _last_activity(course=course, learner_ids=learner_ids)
    since = now - timedelta(days=ACTIVE_DAYS)

    modules = list(
        Module.objects.filter(course=course).annotate(n=Count("lessons")).order_by("order", "id")
    )
    done: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    started: dict[int, set[int]] = defaultdict(set)
    for learner_id, module_id, status in LessonProgress.objects.filter(
        lesson__module__course=course, learner_id__in=learner_ids
    ).values_list("learner_id", "lesson__module_id", "status"):
        started[module_id].add(learner_id)
        if status == LessonProgress.Status.COMPLETED:
            done[module_id][learner_id] += 1
    funnel = [
        FunnelStep(
            module.title,
            module.n,
            len(started[module.pk]),
            sum(1 for count in done[module.pk].values() if module.n and count >= module.n),
        )
        for module in modules
    ]

    skills = list(course.skills.order_by("name"))
    stats = {
        row["skill_id"]: row
        for row in LearnerSkillState.objects.filter(
            skill__in=skills, learner_id__in=learner_ids, evidence_count__gt=0
        )
        .values("skill_id")
        .annotate(avg=Avg("mastery"), learners=Count("learner_id"), answers=Sum("evidence_count"))
    }
    skill_rows = [
        SkillSummary(
            skill.name,
            level_from_mastery(stats[skill.pk]["avg"]) if skill.pk in stats else None,
            stats[skill.pk]["learners"] if skill.pk in stats else 0,
            stats[skill.pk]["answers"] if skill.pk in stats else 0,
        )
        for skill in skills
    ]

    counts = [0] * SCORE_BINS
    scores = AssessmentAttempt.objects.filter(
        assessment__course=course, learner_id__in=learner_ids, submitted_at__isnull=False
    ).values_list("score", flat=True)
    attempts = 0
    for score in scores:
        attempts += 1
        counts[min(int(float(score or 0) // SCORE_BINS), SCORE_BINS - 1)] += 1
    bins = [
        (f"{i * SCORE_BINS}-{i * SCORE_BINS + SCORE_BINS - (0 if i == SCORE_BINS - 1 else 1)}", n)
        for i, n in enumerate(counts)
    ]
    return CourseOverview(
        enrolled=len(enrollments),
        active_recently=sum(1 for at in last.values() if at >= since),
        completed=sum(1 for _, status in enrollments if status == Enrollment.Status.COMPLETED),
        funnel=funnel,
        skills=skill_rows,
        score_bins=bins,
        score_chart=bar_chart(bins),
        attempts=attempts,
    )


# --- learners table -----------------------------------------------------------------


@dataclass(frozen=True)
class SkillCell:
    skill: str
    mastery: SkillMastery

    @property
    def heat(self) -> int:
        """0 (not assessed) to 10, for the heatmap's colour class."""
        return self.mastery.level or 0

    @property
    def confidence(self) -> str:
        """How far the level can be trusted, from the evidence behind it."""
        m = self.mastery
        if not m.is_assessed:
            return "none"
        if m.distinct_questions >= 5:
            return "high"
        if m.distinct_questions >= 3:
            return "medium"
        return "low"


@dataclass(frozen=True)
class LearnerRow:
    learner_id: int
    name: str
    email: str
    status: str
    progress_percent: float
    cells: list[SkillCell]
    last_activity: datetime | None
    pace: str
    struggling: bool
    struggle_reasons: list[str]
    risk_level: str  # "", "low", "medium", "high"
    risk_probability: float | None

    @property
    def pace_label(self) -> str:
        return self.pace.replace("_", " ").capitalize()

    @property
    def average_level(self) -> float:
        levels = [c.mastery.level for c in self.cells if c.mastery.level is not None]
        return sum(levels) / len(levels) if levels else 0.0


def display_name(user: User) -> str:
    return user.full_name or user.email.split("@")[0]


def learner_rows(*, course: Course, now: datetime) -> tuple[list[Skill], list[LearnerRow]]:
    """One row per enrolled learner with mastery per course skill, activity, pace, struggle
    in this course and risk. About fifteen queries for any number of learners."""
    enrollments = list(
        course_enrollments(course=course)
        .select_related("learner__profile", "dropout_risk")
        .order_by("learner__full_name", "learner__email")
    )
    learners = [e.learner for e in enrollments]
    skills = list(course.skills.order_by("name"))
    levels = skill_levels_for(learners=learners)
    last = _last_activity(course=course, learner_ids=[u.pk for u in learners])
    goals = active_goals_for(learner_ids=[u.pk for u in learners])
    all_goals = [g for own in goals.values() for g in own]
    paces = goal_paces_for(learners=learners, goals=all_goals, now=now) if all_goals else {}
    # Checked in this course's lessons and quizzes only (one query per signal): the flag the
    # learner's profile keeps is about all their study, and a lesson in another course is
    # nothing this course's instructor can act on (QA walk, issue 13).
    struggles = detect_struggle_for(learner_ids=[u.pk for u in learners], now=now, course=course)
    rows = []
    for enrollment in enrollments:
        learner = enrollment.learner
        own = levels.get(learner.pk, {})
        cells = [
            SkillCell(
                skill.name,
                own[skill.slug].mastery_at(now) if skill.slug in own else NOT_ASSESSED_MASTERY,
            )
            for skill in skills
        ]
        struggle = struggles[learner.pk]
        risk = getattr(enrollment, "dropout_risk", None)
        learner_goals = goals.get(learner.pk, [])
        pace = overall_pace([paces[g.pk] for g in learner_goals])
        rows.append(
            LearnerRow(
                learner_id=learner.pk,
                name=display_name(learner),
                email=learner.email,
                status=enrollment.status,
                progress_percent=float(enrollment.progress_percent),
                cells=cells,
                last_activity=last.get(learner.pk),
                pace=pace,
                struggling=struggle.is_struggling,
                struggle_reasons=struggle.reasons,
                risk_level=risk.level if risk else "",
                risk_probability=risk.probability if risk else None,
            )
        )
    return skills, rows


RISK_ORDER = {"": 0, "low": 1, "medium": 2, "high": 3}
SORTS = {
    "name": lambda r: (r.name.lower(), r.email),
    "progress": lambda r: (r.progress_percent, r.name.lower()),
    "mastery": lambda r: (r.average_level, r.name.lower()),
    "activity": lambda r: (r.last_activity is not None, r.last_activity or datetime.min, r.name),
    "risk": lambda r: (RISK_ORDER[r.risk_level], r.risk_probability or 0, r.name.lower()),
}
FILTERS = {
    "all": lambda r: True,
    "struggling": lambda r: r.struggling,
    "at_risk": lambda r: r.risk_level in ("medium", "high"),
    "behind": lambda r: r.pace == "behind",
    "inactive": lambda r: r.last_activity is None,
    "completed": lambda r: r.status == Enrollment.Status.COMPLETED,
}

FILTER_LABELS = {
    "all": "Everyone",
    "struggling": "Struggling",
    "at_risk": "Medium or high risk",
    "behind": "Behind their pace",
    "inactive": "No activity yet",
    "completed": "Completed",
}


def sort_and_filter(
    rows: list[LearnerRow], *, sort: str, descending: bool, show: str, query: str
) -> list[LearnerRow]:
    """Rows matching ``show`` and ``query`` (name or e-mail), ordered by ``sort``.

    Unknown keys are the caller's to reject; here they fall back to name / all."""
    keep = FILTERS.get(show, FILTERS["all"])
    needle = query.strip().lower()
    kept = [
        r
        for r in rows
        if keep(r) and (not needle or needle in r.name.lower() or needle in r.email.lower())
    ]
    return sorted(kept, key=SORTS.get(sort, SORTS["name"]), reverse=descending)


CSV_HEADER = [
    "learner",
    "email",
    "status",
    "progress_percent",
    "last_activity",
    "pace",
    "struggling",
    "risk_level",
    "risk_probability",
]


def csv_rows(*, skills: list[Skill], rows: list[LearnerRow]) -> list[list[str]]:
    """The learners table as CSV cells: one level and one state column per skill."""
    header = CSV_HEADER + [
        col for skill in skills for col in (f"{skill.name} level", f"{skill.name} state")
    ]
    out = [header]
    for r in rows:
        out.append(
            [
                r.name,
                r.email,
                r.status,
                f"{r.progress_percent:g}",
                r.last_activity.isoformat() if r.last_activity else "",
                r.pace,
                "yes" if r.struggling else "no",
                r.risk_level,
                f"{r.risk_probability:.2f}" if r.risk_probability is not None else "",
            ]
            + [
                v
                for c in r.cells
                for v in (str(c.mastery.level) if c.mastery.level else "", c.mastery.label)
            ]
        )
    return out


# --- at-risk list -------------------------------------------------------------------


@dataclass(frozen=True)
class AtRiskRow:
    enrollment_id: int
    learner_id: int
    name: str
    email: str
    probability: float
    level: str
    factors: list[str]
    segment: str
    segment_description: str
    reviews: list[RiskReview] = field(default_factory=list)


def course_risks(*, course: Course) -> QuerySet[DropoutRisk]:
    """Stored risks of the course's active enrollments (the ones an instructor can act on)."""
    return DropoutRisk.objects.filter(
        enrollment__course=course, enrollment__status=Enrollment.Status.ACTIVE
    )


def at_risk_rows(*, course: Course, levels: tuple[str, ...]) -> list[AtRiskRow]:
    """The course's risks at ``levels``, riskiest first, with factors, segment and what was
    already done about each (two queries)."""
    risks = list(
        course_risks(course=course)
        .filter(level__in=levels)
        .select_related("enrollment__learner__profile")
        .order_by("-probability", "enrollment_id")
    )
    reviews: dict[int, list[RiskReview]] = defaultdict(list)
    if risks:
        for review in RiskReview.objects.filter(
            enrollment_id__in=[r.enrollment_id for r in risks]
        ).select_related("reviewer"):
            reviews[review.enrollment_id].append(review)
    rows = []
    for risk in risks:
        learner = risk.enrollment.learner
        profile = getattr(learner, "profile", None)
        segment = profile.segment if profile and isinstance(profile.segment, dict) else {}
        rows.append(
            AtRiskRow(
                enrollment_id=risk.enrollment_id,
                learner_id=learner.pk,
                name=display_name(learner),
                email=learner.email,
                probability=risk.probability,
                level=risk.level,
                factors=[f.get("text", "") for f in risk.factors or []],
                segment=segment.get("name", ""),
                segment_description=segment.get("description", ""),
                reviews=reviews[risk.enrollment_id],
            )
        )
    return rows


# --- one learner --------------------------------------------------------------------


@dataclass(frozen=True)
class SkillHistory:
    name: str
    chart: Chart
    points: list[tuple[str, float]]


@dataclass(frozen=True)
class AttemptRow:
    attempt: AssessmentAttempt
    # What the learner's result page says ("9 of 14 answered correctly, 2 left blank"),
    # beside the score that counts blanks as wrong; None before the attempt was processed.
    counts: AnswerCounts | None


@dataclass(frozen=True)
class LearnerDetail:
    learner: User
    enrollment: Enrollment
    skills: list[SkillCell]
    histories: list[SkillHistory]
    attempts: list[AttemptRow]
    paths: list[LearningPathSnapshot]
    recommendations: list[Recommendation]
    messages: list[InstructorMessage]
    reviews: list[RiskReview]
    risk: DropoutRisk | None


def learner_detail(*, enrollment: Enrollment, now: datetime) -> LearnerDetail:
    """One enrolled learner as their instructor sees them (a fixed number of queries)."""
    course = enrollment.course
    learner = enrollment.learner
    skills = list(course.skills.order_by("name"))
    own = skill_levels_for(learners=[learner])[learner.pk]
    cells = [
        SkillCell(s.name, own[s.slug].mastery_at(now) if s.slug in own else NOT_ASSESSED_MASTERY)
        for s in skills
    ]
    attempts = list(
        AssessmentAttempt.objects.filter(learner=learner, submitted_at__isnull=False)
        .select_related("assessment")
        .order_by("submitted_at", "id")
    )
    # Skills over time: the level after each submitted attempt that touched the skill.
    series: dict[str, list[tuple[str, float]]] = {s.slug: [] for s in skills}
    for attempt in attempts:
        for slug, entry in (attempt.skill_breakdown or {}).items():
            if slug in series and isinstance(entry, dict) and entry.get("level_after"):
                series[slug].append(
                    (attempt.submitted_at.strftime("%d %b"), float(entry["level_after"]))
                )
    histories = [
        SkillHistory(s.name, line_chart(series[s.slug], y_max=10), series[s.slug])
        for s in skills
        if series[s.slug]
    ]
    return LearnerDetail(
        learner=learner,
        enrollment=enrollment,
        skills=cells,
        histories=histories,
        attempts=[
            AttemptRow(attempt, attempt_answer_counts(breakdown=attempt.skill_breakdown))
            for attempt in reversed(attempts)
        ],
        paths=list(
            LearningPathSnapshot.objects.filter(learner=learner)
            .select_related("goal")
            .order_by("goal_id", "-version")
        ),
        recommendations=list(
            Recommendation.objects.filter(learner=learner)
            .select_related("lesson", "course", "assessment")
            .order_by("-created_at", "-id")[:50]
        ),
        messages=list(
            InstructorMessage.objects.filter(learner=learner, course=course).select_related(
                "sender"
            )
        ),
        reviews=list(RiskReview.objects.filter(enrollment=enrollment).select_related("reviewer")),
        risk=DropoutRisk.objects.filter(enrollment=enrollment).first(),
    )


# --- item analysis ------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """What the item analysis found (``problem``) and what the author can do (``fix``)."""

    problem: str
    fix: str


@dataclass(frozen=True)
class ItemRow:
    order: int
    text: str
    answers: int
    share_correct: float | None
    discrimination: float | None
    irt_difficulty: float | None
    irt_model: str
    distractors: list[dict]
    flags: list[Flag]
    # The level the author gave the question ("Beginner"), on every row: set beside a
    # fitted difficulty it shows whether the label holds (QA walk: only predicted rows
    # named it, as their basis).
    authored: str = ""


def _letter(index: int) -> str:
    return LETTERS[index] if index < len(LETTERS) else str(index + 1)


def suggested_flags(*, flags: list[str], distractors: list[dict]) -> list[Flag]:
    """Each stored flag (insights.ml.irt) with what the author can do about it.

    The flags themselves are decided by the item analysis; this only words the fix, naming
    a distractor by its letter as the learner saw it."""
    letters = {d.get("text"): _letter(i) for i, d in enumerate(distractors)}
    out = []
    for flag in flags:
        if flag.startswith("negative discrimination"):
            out.append(
                Flag(flag, "Check the answer key, then the wording for a second right answer.")
            )
        elif flag.startswith("almost everyone"):
            out.append(Flag(flag, "Too easy to tell learners apart: make it harder or drop it."))
        elif flag.startswith("almost nobody"):
            out.append(
                Flag(flag, "Check the key and the wording, or teach the skill before asking.")
            )
        elif flag.startswith("distractor nobody picks"):
            letter = next((v for k, v in letters.items() if k and k in flag), "?")
            out.append(
                Flag(
                    f"Distractor {letter} never chosen",
                    f"Replace distractor {letter} with a mistake learners really make.",
                )
            )
        else:
            out.append(Flag(flag, "Review the question."))
    return out


@dataclass(frozen=True)
class ItemAnalysisPage:
    assessment: Assessment
    run: ItemAnalysisRun | None
    rows: list[ItemRow]


# How each IRT fit came about, in an instructor's words (the model's choice labels are the
# admin's). The current fit ("2lc", insights.ml.irt.fit_two_class) reads each learner as
# knowing the skill or not, as the skill model does: it fits a difficulty per question and,
# by design, no discrimination (QA walk, issue 13: "Knows or not (difficulty only)" said
# none of that).
IRT_MODEL_WORDS = {
    QuestionItemAnalysis.IRTModel.TWO_CLASS: (
        "fitted from learners' answers, comparing those who know the skill with those who "
        "do not (difficulty only)"
    ),
    QuestionItemAnalysis.IRTModel.ONE_PL: "fitted from learners' answers (difficulty only)",
    QuestionItemAnalysis.IRTModel.TWO_PL: (
        "fitted from learners' answers, with how well it separates stronger from weaker ones"
    ),
}


def item_analysis(*, assessment: Assessment) -> ItemAnalysisPage:
    """The stored item analysis of ``assessment`` with suggested fixes (two queries)."""
    run = ItemAnalysisRun.objects.filter(assessment=assessment).first()
    rows = []
    if run is not None:
        for item in run.questions.select_related("question").order_by("question__order", "id"):
            distractors = [
                {**d, "letter": _letter(i)} for i, d in enumerate(item.distractors or [])
            ]
            rows.append(
                ItemRow(
                    order=item.question.order,
                    text=item.question.prompt,
                    answers=item.answers,
                    share_correct=item.share_correct,
                    discrimination=item.discrimination,
                    irt_difficulty=item.irt_difficulty,
                    # A predicted difficulty says so, and from what.
                    irt_model=IRT_MODEL_WORDS[item.irt_model]
                    if item.irt_model
                    else item.difficulty_basis,
                    distractors=distractors,
                    flags=suggested_flags(flags=item.flags or [], distractors=distractors),
                    authored=item.question.get_difficulty_display(),
                )
            )
    return ItemAnalysisPage(assessment=assessment, run=run, rows=rows)


# --- closed loop: what instructors did about risks, and how those enrollments ended ----


@dataclass(frozen=True)
class ReviewOutcomes:
    reviews: int
    by_action: dict[str, int]
    # action -> enrollment status -> distinct enrollments reviewed with that action
    outcomes: dict[str, dict[str, int]]

    @property
    def not_useful_rate(self) -> float | None:
        if not self.reviews:
            return None
        return self.by_action.get(RiskReview.Action.NOT_USEFUL, 0) / self.reviews


def review_outcomes() -> ReviewOutcomes:
    """Every recorded risk review by action, and where the reviewed enrollments stand now
    (completed, dropped or still active): two queries."""
    by_action = dict(
        RiskReview.objects.values("action").annotate(n=Count("id")).values_list("action", "n")
    )
    outcomes: dict[str, dict[str, int]] = defaultdict(dict)
    for action, status, n in (
        RiskReview.objects.values("action", "enrollment__status")
        .annotate(n=Count("enrollment_id", distinct=True))
        .values_list("action", "enrollment__status", "n")
    ):
        outcomes[action][status] = n
    return ReviewOutcomes(sum(by_action.values()), by_action, dict(outcomes))
