"""Series for the progress page's charts; each read runs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from accounts.models import User
from assessments.models import Assessment, AssessmentAttempt
from assessments.selectors import graded_attempts_of
from catalog.models import Skill
from insights.mastery import (
    ATTEMPTED,
    CONFIRMING,
    FAMILIAR,
    LABELS,
    NOT_ASSESSED,
    NOT_ASSESSED_MASTERY,
    PROFICIENT_QUESTIONS,
    SkillMastery,
    target_reached,
)
from insights.models import LearnerSkillState
from insights.selectors import learner_timezone
from learning.models import GoalSkill, LearnerEvent, LearningGoal


@dataclass(frozen=True)
class ScorePoint:
    submitted_at: datetime
    title: str
    score: float


@dataclass(frozen=True)
class SkillRow:
    name: str
    level: int | None  # None: not assessed
    target: int | None
    mastery: SkillMastery
    # For the "take a skill check" button (assessments:skill_check).
    slug: str = ""

    @property
    def target_reached(self) -> bool:
        return self.target is not None and target_reached(
            level=self.mastery.level, state=self.mastery.state, target_level=self.target
        )

    @property
    def short_of(self) -> str:
        return self.mastery.short_of(self.target) if self.target is not None else ""


@dataclass(frozen=True)
class TargetProgress:
    """One target skill of a goal: where the learner stands and whether the state confirms it."""

    skill: Skill
    target_level: int
    mastery: SkillMastery

    @property
    def reached(self) -> bool:
        return target_reached(
            level=self.mastery.level, state=self.mastery.state, target_level=self.target_level
        )

    @property
    def short_of(self) -> str:
        return self.mastery.short_of(self.target_level)


def activity_per_day(*, learner: User, now: datetime, days: int = 30) -> list[tuple[date, int]]:
    """Activity per local calendar day, oldest first, zero-filled: the learning events
    recorded, and each graded attempt (quiz, exam, diagnostic, skill check, course
    challenge: ``graded_attempts_of``, what the instructor's "last activity" counts) as one.
    A learner whose only study of the day was the diagnostic had an empty day (QA walk,
    issue 13); a client's quiz_submitted event is left out, its attempt counts instead
    (as the xAPI export does). Two queries."""
    tz = learner_timezone(learner)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    since = now - timedelta(days=days + 1)
    counts: dict[date, int] = defaultdict(int)
    events = (
        LearnerEvent.objects.filter(learner=learner, occurred_at__gte=since, occurred_at__lte=now)
        .exclude(event_type=LearnerEvent.Type.QUIZ_SUBMITTED)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("event_id"))
        .values_list("day", "n")
    )
    attempts = (
        graded_attempts_of(learner_ids=[learner.pk])
        .filter(submitted_at__gte=since, submitted_at__lte=now)
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    for day, n in [*events, *attempts]:
        counts[day] += n
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


def quiz_scores(*, learner: User, limit: int = 30) -> list[ScorePoint]:
    """The latest submitted attempts' scores, oldest first."""
    attempts = (
        AssessmentAttempt.objects.filter(learner=learner, submitted_at__isnull=False)
        # Diagnostics, skill checks and course challenges measure a level: not quiz scores
        # (as in the averages).
        .exclude(assessment__kind__in=Assessment.MEASURING_KINDS)
        .select_related("assessment")
        .order_by("-submitted_at")[:limit]
    )
    return [
        ScorePoint(submitted_at=a.submitted_at, title=a.assessment.title, score=float(a.score or 0))
        for a in reversed(list(attempts))
    ]


def skill_rows(*, learner: User, now: datetime) -> list[SkillRow]:
    """Current level, state and evidence per assessed skill, with the highest target of the
    learner's active goals; and a "not assessed" row for each target skill with no evidence
    yet (one answered "I don't know" in the diagnostic too), whose skill check measures it."""
    targets: dict[int, int] = {}
    unassessed: dict[int, tuple[str, str]] = {}
    for skill_id, name, slug, target in GoalSkill.objects.filter(
        goal__learner=learner, goal__status=LearningGoal.Status.ACTIVE
    ).values_list("skill_id", "skill__name", "skill__slug", "target_level"):
        targets[skill_id] = max(target, targets.get(skill_id, 0))
        unassessed[skill_id] = (name, slug)
    rows = []
    for state in LearnerSkillState.objects.filter(learner=learner).select_related("skill"):
        unassessed.pop(state.skill_id, None)
        rows.append(
            SkillRow(
                state.skill.name,
                state.level,
                targets.get(state.skill_id),
                state.mastery_at(now),
                state.skill.slug,
            )
        )
    rows.extend(
        SkillRow(name, None, targets[skill_id], NOT_ASSESSED_MASTERY, slug)
        for skill_id, (name, slug) in unassessed.items()
    )
    return sorted(rows, key=lambda row: row.name)


def skill_masteries(*, learner: User, now: datetime) -> dict[int, SkillMastery]:
    """The learner's mastery per skill id (assessed skills only; one query)."""
    return {
        state.skill_id: state.mastery_at(now)
        for state in LearnerSkillState.objects.filter(learner=learner)
    }


def goal_targets(
    *, learner: User, goals: list[LearningGoal], now: datetime
) -> list[tuple[LearningGoal, list[TargetProgress]]]:
    """Each goal with its target skills; a skill never assessed shows as not assessed.

    ``goals`` should have ``target_skills__skill`` prefetched.
    """
    masteries = skill_masteries(learner=learner, now=now)
    return [
        (
            goal,
            [
                TargetProgress(
                    skill=target.skill,
                    target_level=target.target_level,
                    mastery=masteries.get(target.skill_id, NOT_ASSESSED_MASTERY),
                )
                for target in goal.target_skills.all()
            ],
        )
        for goal in goals
    ]


@dataclass(frozen=True)
class AnswerCounts:
    """How many questions were asked, answered (not left blank) and answered correctly.

    The README's rule for unanswered questions: a blank one scores zero in the quiz's own
    score but is no evidence of a skill, so "correct" is counted among the answered ones
    and the blank ones are named apart ("1 of 2 answered correctly, 1 left blank").
    """

    questions: int
    answered: int
    correct: int

    @property
    def blank(self) -> int:
        return self.questions - self.answered

    @property
    def answered_percent(self) -> float | None:
        """Share of the answered questions answered correctly; None when none was."""
        return round(100 * self.correct / self.answered, 1) if self.answered else None

    @property
    def summary(self) -> str:
        if not self.answered:
            # Not "0 of 0 answered correctly" (QA walk): say what happened.
            if not self.questions:
                return "no questions asked"
            every = "the question" if self.questions == 1 else f"all {self.questions}"
            return f"none answered: {every} left blank"
        text = f"{self.correct} of {self.answered} answered correctly"
        return f"{text}, {self.blank} left blank" if self.blank else text

    def as_dict(self) -> dict:
        return {
            "questions": self.questions,
            "answered": self.answered,
            "correct": self.correct,
            "blank": self.blank,
            "answered_percent": self.answered_percent,
            "summary": self.summary,
        }


def answer_counts(entry: dict) -> AnswerCounts:
    """One skill's counts from its stored breakdown entry (entries stored before blanks
    were told apart carry no "answered": every question counted as answered then)."""
    questions = entry.get("questions", 0)
    return AnswerCounts(
        questions=questions,
        answered=entry.get("answered", questions),
        correct=entry.get("correct", 0),
    )


def attempt_answer_counts(*, breakdown: dict) -> AnswerCounts | None:
    """The whole attempt's counts (every question has a skill, so the skills' entries add
    up to the attempt); None before the skill model has processed the attempt."""
    if not breakdown:
        return None
    counts = [answer_counts(entry) for entry in breakdown.values()]
    return AnswerCounts(
        questions=sum(c.questions for c in counts),
        answered=sum(c.answered for c in counts),
        correct=sum(c.correct for c in counts),
    )


@dataclass(frozen=True)
class BreakdownRow:
    """One skill of a submitted attempt, ready to show: what changed and on what evidence."""

    slug: str
    name: str
    questions: int
    answered: int
    correct: int
    percent: float
    level_before: int | None
    level_after: int | None
    state_before: str
    state_after: str
    answers: int | None
    # Different questions behind the level after (None in breakdowns stored before it).
    distinct_questions: int | None = None

    @property
    def state_before_label(self) -> str:
        return LABELS[self.state_before]

    @property
    def state_after_label(self) -> str:
        return LABELS[self.state_after]

    @property
    def counts(self) -> AnswerCounts:
        return AnswerCounts(questions=self.questions, answered=self.answered, correct=self.correct)

    @property
    def blank(self) -> int:
        return self.questions - self.answered

    @property
    def change(self) -> str:
        """ "up" / "down" between two measured levels; "" when either side was not assessed.
        "practised": up on wrong answers alone. A quiz's answers teach (the skill model's
        learn transition follows each answer with feedback), so a low level can rise with
        none right; a green "up" there read as a reward for wrong answers (QA walk)."""
        if self.level_before is None or self.level_after is None:
            return ""
        if self.level_after > self.level_before:
            return "practised" if self.answered and not self.correct else "up"
        return "down" if self.level_after < self.level_before else ""

    @property
    def confirmed(self) -> bool:
        """Proficient or mastered after the attempt."""
        return self.state_after in CONFIRMING

    @property
    def needs_confirmation(self) -> bool:
        """A skill check would make the level more certain: as ``SkillMastery.advice``, only
        while the level rests on fewer than PROFICIENT_QUESTIONS different questions (a low
        level measured on more is certain enough: nothing to confirm)."""
        if self.state_after not in (ATTEMPTED, FAMILIAR):
            return False
        return self.distinct_questions is None or self.distinct_questions < PROFICIENT_QUESTIONS


def breakdown_rows(*, breakdown: dict) -> list[BreakdownRow]:
    """An attempt's stored skill breakdown as rows sorted by skill name.

    Breakdowns stored before states existed carry no state: a level then stands
    for "attempted", and a missing level for "not assessed".
    """
    rows = []
    for slug, entry in breakdown.items():
        before, after = entry.get("level_before"), entry.get("level_after")
        counts = answer_counts(entry)
        rows.append(
            BreakdownRow(
                slug=slug,
                name=entry.get("skill", slug),
                questions=counts.questions,
                answered=counts.answered,
                correct=counts.correct,
                percent=entry.get("percent", 0.0),
                level_before=before,
                level_after=after,
                state_before=entry.get("state_before", ATTEMPTED if before else NOT_ASSESSED),
                state_after=entry.get("state_after", ATTEMPTED if after else NOT_ASSESSED),
                answers=entry.get("answers"),
                distinct_questions=entry.get("distinct_questions"),
            )
        )
    return sorted(rows, key=lambda row: row.name)
