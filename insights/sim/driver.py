"""One simulated learner acting through the platform's own services.

Every learner-facing row (attempts, answers, skill states, goals, enrollments, lesson
progress, path versions, recommendations) is written by the service a page or the API
would call: ``goal_create``, ``attempt_start`` / ``attempt_answer`` / ``attempt_submit``,
``lesson_start`` / ``lesson_complete``, ``learning_path_generate``, ``recommendation_act``.
The learner's deferred follow-up (fresh recommendations) is run here with the simulated
``now`` through ``recommendations_refresh``, the one recommendation writer, as the worker
would run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import LearnerProfile, User
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from assessments.selectors import questions_with_key
from assessments.services import (
    attempt_answer,
    attempt_start,
    attempt_submit,
    course_challenge_start,
    skill_check_start,
)
from catalog.models import Course, Lesson, Skill
from insights.diagnostic import MINUTES_PER_QUESTION
from insights.models import LearnerSkillState, Recommendation
from insights.recommendations import recommendations_refresh
from insights.sim.generative import SimLearner, World
from learning.models import Enrollment, LearnerEvent, LessonProgress
from learning.services import lesson_complete, lesson_start

# Planner statistics refreshed after these many simulated learners, and every 50.
ANALYZE_AFTER = (5, 20)


def response_for(question: Question, choices: Sequence[Choice], *, correct: bool) -> dict:
    """What a learner would submit to be graded right (or wrong) on ``question``."""
    if question.kind == Question.Kind.NUMERIC:
        value = question.numeric_answer
        if not correct:
            value = value + question.numeric_tolerance + 1
        return {"value": str(Decimal(value).normalize())}
    if question.kind == Question.Kind.SHORT_TEXT:
        return {"text": question.accepted_answers[0] if correct else "not sure"}
    picked = [c.pk for c in choices if c.is_correct == correct]
    if question.kind == Question.Kind.MULTIPLE_CHOICE and correct:
        return {"choices": picked}
    return {"choices": picked[:1]}


@dataclass(frozen=True)
class CatalogView:
    """The published catalogue as the simulator needs it, read once per run."""

    courses: list[Course]  # catalogue order
    lessons: dict[int, list[Lesson]]  # course id -> lessons in order, skills prefetched
    lesson_skills: dict[int, list[str]]
    course_skills: dict[int, list[str]]
    questions: dict[int, list[Question]]  # assessment id -> questions with their key
    quizzes: dict[int, Assessment]  # course id -> its published quiz
    bank: dict[int, Question]  # question id -> question with its key, read on first ask

    @classmethod
    def load(cls) -> CatalogView:
        courses = list(
            Course.objects.filter(status=Course.Status.PUBLISHED)
            .prefetch_related("skills")
            .order_by("id")
        )
        lessons: dict[int, list[Lesson]] = {c.pk: [] for c in courses}
        lesson_skills: dict[int, list[str]] = {}
        for lesson in (
            Lesson.objects.filter(module__course__in=courses)
            .select_related("module__course")
            .prefetch_related("skills")
            .order_by("module__course_id", "module__order", "order")
        ):
            lessons[lesson.module.course_id].append(lesson)
            lesson_skills[lesson.pk] = [s.slug for s in lesson.skills.all()]
        quizzes = {
            a.course_id: a
            for a in Assessment.objects.filter(
                course__in=courses, kind=Assessment.Kind.QUIZ, is_published=True
            ).order_by("id")
        }
        return cls(
            courses=courses,
            lessons=lessons,
            lesson_skills=lesson_skills,
            course_skills={c.pk: [s.slug for s in c.skills.all()] for c in courses},
            questions={},
            quizzes=quizzes,
            bank={},
        )

    def questions_of(self, assessment: Assessment) -> list[Question]:
        if assessment.pk not in self.questions:
            self.questions[assessment.pk] = list(questions_with_key(assessment=assessment))
        return self.questions[assessment.pk]

    def question(self, question_id: int) -> Question:
        """One bank question with its key (an adaptive attempt asks across assessments)."""
        if question_id not in self.bank:
            self.bank[question_id] = (
                Question.objects.select_related("skill")
                .prefetch_related("choices")
                .get(pk=question_id)
            )
        return self.bank[question_id]

    def lesson_skills_or_course(self, lesson: Lesson) -> list[str]:
        """A lesson's skills, or its course's when it has none (as the lock rule reads it)."""
        return self.lesson_skills[lesson.pk] or self.course_skills[lesson.module.course_id]


@dataclass
class Actor:
    """A platform user and the simulated mind behind it, with a clock."""

    user: User
    mind: SimLearner
    now: datetime
    weekly_hours: float = 5.0
    study_minutes: float = 0.0
    blocked_lessons: int = 0
    completed_lessons: set[int] = field(default_factory=set)
    answers_by_skill: dict[str, int] = field(default_factory=dict)

    def spend(self, minutes: float) -> None:
        """Advance the clock: study time spread over the learner's weekly hours."""
        self.study_minutes += minutes
        self.now += timedelta(days=7 * minutes / (60 * max(self.weekly_hours, 0.5)))

    def take(self, *, assessment: Assessment, catalog: CatalogView) -> AssessmentAttempt | None:
        """Answer ``assessment`` from the mind; None when not allowed.

        An adaptive attempt is answered question by question, each the one the platform
        asks (``attempt_answer``), without feedback, so its answers teach the mind nothing;
        any other is answered all at once, submitted and reviewed: its answers teach.
        """
        try:
            attempt = attempt_start(learner=self.user, assessment=assessment, now=self.now)
        except ValidationError:
            return None
        if attempt.is_adaptive:
            return self._answer_adaptive(attempt=attempt, catalog=catalog)
        responses = {q.pk: self.answer(q, teaches=True) for q in catalog.questions_of(assessment)}
        return attempt_submit(attempt=attempt, responses=responses, now=self.now)

    def take_challenge(self, *, course: Course, catalog: CatalogView) -> AssessmentAttempt | None:
        """Take ``course``'s challenge; None when the platform refuses it."""
        try:
            attempt = course_challenge_start(learner=self.user, course=course, now=self.now)
        except ValidationError:
            return None
        return self._answer_adaptive(attempt=attempt, catalog=catalog)

    def take_skill_check(self, *, skill: str, catalog: CatalogView) -> AssessmentAttempt | None:
        """Take the skill check of the skill with slug ``skill``; None when refused."""
        try:
            attempt = skill_check_start(
                learner=self.user, skill=Skill.objects.get(slug=skill), now=self.now
            )
        except ValidationError:
            return None
        return self._answer_adaptive(attempt=attempt, catalog=catalog)

    def _answer_adaptive(
        self, *, attempt: AssessmentAttempt, catalog: CatalogView
    ) -> AssessmentAttempt:
        """Answer each question the platform asks (``attempt_answer``) until it stops; no
        feedback between questions, so no answer teaches."""
        while not attempt.is_submitted and attempt.current_question_id is not None:
            question = catalog.question(attempt.current_question_id)
            response = self.answer(question, teaches=False)
            attempt = attempt_answer(
                attempt=attempt, question_id=question.pk, response=response, now=self.now
            )
        return attempt

    def answer(self, question: Question, *, teaches: bool) -> dict:
        """The mind's response to one question, and the time it takes; ``teaches``: whether
        the learner sees if it was right (a quiz's answer) and so learns from it."""
        slug = question.skill.slug
        difficulty = self.mind.world.item_difficulty(
            question_id=question.pk, label=question.difficulty
        )
        correct = self.mind.answer(skill=slug, difficulty=difficulty, now=self.now, teaches=teaches)
        self.answers_by_skill[slug] = self.answers_by_skill.get(slug, 0) + 1
        self.spend(MINUTES_PER_QUESTION)
        return response_for(question, question.choices.all(), correct=correct)

    def study_lesson(self, *, lesson: Lesson, catalog: CatalogView) -> bool:
        """Start, study and complete one lesson; False when the platform keeps it locked."""
        try:
            lesson_start(learner=self.user, lesson=lesson, now=self.now)
        except ValidationError:
            self.blocked_lessons += 1
            return False
        self.spend(lesson.estimated_minutes)
        self.mind.study(
            skills=catalog.lesson_skills[lesson.pk], minutes=lesson.estimated_minutes, now=self.now
        )
        lesson_complete(learner=self.user, lesson=lesson, now=self.now)
        self.completed_lessons.add(lesson.pk)
        return True

    def follow_up(self) -> list[Recommendation]:
        """The learner's deferred follow-up, at the simulated time; their active cards."""
        recommendations_refresh(learner_ids=[self.user.pk], now=self.now)
        return list(
            Recommendation.objects.filter(
                learner=self.user, status=Recommendation.Status.ACTIVE
            ).select_related("lesson")
        )


def create_learner(*, email: str, full_name: str, timezone: str = "UTC") -> User:
    """A simulated learner's account (no usable password: nobody logs in as one).

    ``user_register`` is the sign-up door with password validation and hashing (a
    deliberately slow hash); the simulator creates the same rows a sign-up does, the user
    and its profile, without a password.
    """
    user = User.objects.create_user(
        email=email, password=None, full_name=full_name, role=User.Role.LEARNER
    )
    LearnerProfile.objects.filter(user=user).update(timezone=timezone)
    return user


def revision_skill(recommendation: Recommendation, catalog: CatalogView) -> list[str]:
    """The skill(s) a revision card is about: its payload's skill, else its lesson's."""
    slug = (recommendation.payload or {}).get("skill")
    if slug:
        return [slug]
    if recommendation.lesson_id:
        return catalog.lesson_skills.get(recommendation.lesson_id, [])
    return []


def analyze_if_due(learners_done: int) -> None:
    """Fresh planner statistics for the tables simulated learners fill, after the first
    few learners and every 50 (``ANALYZE_AFTER``).

    A simulation runs in one transaction, invisible to autovacuum, which may have analysed
    these tables while they were empty; each graded attempt refreshes the learner's cards
    and re-plans their path at once, and a planner that believes a table holds no rows
    picks nested loops that take minutes over thousands of answers. ANALYZE counts the
    transaction's own rows.
    """
    if learners_done in ANALYZE_AFTER or learners_done % 50 == 0:
        analyze_simulated_tables()


def analyze_simulated_tables() -> None:
    models = (
        AssessmentAttempt,
        Answer,
        LearnerSkillState,
        LessonProgress,
        Enrollment,
        LearnerEvent,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in models))


__all__ = [
    "Actor",
    "CatalogView",
    "World",
    "analyze_if_due",
    "analyze_simulated_tables",
    "create_learner",
    "response_for",
    "revision_skill",
]
