from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from catalog.models import Course, CourseRun, Difficulty, Lesson, Skill


class Assessment(models.Model):
    class Kind(models.TextChoices):
        DIAGNOSTIC = "diagnostic", "Diagnostic"
        QUIZ = "quiz", "Quiz"
        EXAM = "exam", "Exam"

    class ShowAnswers(models.TextChoices):
        """When a learner sees the correct answers and explanations (assessments.rules)."""

        DEFAULT = (
            "",
            "Default for its kind (diagnostics: never; others: after the last attempt or a pass)",
        )
        IMMEDIATELY = "immediately", "Immediately after each attempt"
        AFTER_LAST_ATTEMPT = "after_last_attempt", "After the last allowed attempt"
        AFTER_PASSING = "after_passing", "After passing"
        AFTER_LAST_ATTEMPT_OR_PASSING = (
            "after_last_attempt_or_passing",
            "After the last allowed attempt or a pass",
        )
        NEVER = "never", "Never"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.QUIZ)
    description = models.TextField(blank=True)
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, null=True, blank=True, related_name="assessments"
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="assessments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_assessments"
    )
    passing_score = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    time_limit_minutes = models.PositiveIntegerField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    # Cohort runs: the assessment belongs to one presentation and is due on a date.
    course_run = models.ForeignKey(
        CourseRun, on_delete=models.CASCADE, null=True, blank=True, related_name="assessments"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    # Review and retake rules (R-REVIEW).
    max_attempts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Submitted attempts allowed per learner; empty for unlimited.",
    )
    min_minutes_between_attempts = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Minutes a learner waits after submitting before starting another attempt.",
    )
    show_answers = models.CharField(
        max_length=40,
        choices=ShowAnswers.choices,
        blank=True,
        default=ShowAnswers.DEFAULT,
        db_default="",
        help_text="When correct answers and explanations are shown to the learner.",
    )
    weight = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Share of the course grade, in percent.",
    )
    # Identifier in the system an assessment was imported from (e.g. "oulad:1752").
    external_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passing_score__gte=0, passing_score__lte=100),
                name="assessment_passing_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["diagnostic", "quiz", "exam"]),
                name="assessment_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="assessment_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__isnull=True) | models.Q(weight__gte=0, weight__lte=100),
                name="assessment_weight_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__isnull=True) | models.Q(max_attempts__gte=1),
                name="assessment_max_attempts_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        TRUE_FALSE = "true_false", "True / false"
        NUMERIC = "numeric", "Numeric"
        SHORT_TEXT = "short_text", "Short text"

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE, Kind.TRUE_FALSE)

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SINGLE_CHOICE)
    prompt = models.TextField()
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="questions")
    difficulty = models.CharField(
        max_length=20, choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    points = models.PositiveSmallIntegerField(default=1)
    order = models.PositiveIntegerField(default=1)
    explanation = models.TextField(blank=True, help_text="Shown to the learner after answering.")
    # Multiple choice only: a share of the points for a partly right set of picks (each
    # right pick earns, each wrong pick costs; never below zero). Off: all or nothing.
    partial_credit = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Multiple choice: award part of the points for a partly right answer "
        "(right picks minus wrong picks, over the number of right choices).",
    )
    numeric_answer = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numeric_tolerance = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    # Short text: answers accepted case- and whitespace-insensitively.
    accepted_answers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment", "order"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "order"], name="question_order_unique"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="question_points_pos"),
            models.CheckConstraint(
                condition=~models.Q(kind="numeric") | models.Q(numeric_answer__isnull=False),
                name="question_numeric_has_answer",
            ),
            models.CheckConstraint(
                condition=models.Q(numeric_tolerance__gte=0), name="question_tolerance_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"Q{self.order}: {self.prompt[:60]}"

    @property
    def has_choices(self) -> bool:
        return self.kind in self.CHOICE_KINDS


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text


class AssessmentAttempt(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessment_attempts"
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    # {skill_slug: {"questions", "correct", "percent", "level_before", "level_after"}}
    skill_breakdown = models.JSONField(default=dict, blank=True)
    # Set once the skill model has consumed this attempt (keeps processing idempotent).
    skills_processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # One attempt in progress per learner and assessment: a double
            # "start" or double submit cannot fork a second attempt.
            models.UniqueConstraint(
                fields=["learner", "assessment"],
                condition=models.Q(submitted_at__isnull=True),
                name="attempt_one_open_per_assessment",
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=100),
                name="attempt_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_at__isnull=True)
                | models.Q(submitted_at__gte=models.F("started_at")),
                name="attempt_submitted_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "-submitted_at"], name="attempt_learner_submitted"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} - {self.assessment} ({self.started_at:%Y-%m-%d})"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class Answer(models.Model):
    attempt = models.ForeignKey(AssessmentAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    # {"choices": [ids]} | {"value": "3.14"} | {"text": "..."}
    response = models.JSONField(default=dict, blank=True)
    is_correct = models.BooleanField(default=False)
    points_awarded = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    seconds_spent = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["attempt", "question__order"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="answer_once_per_q"),
            models.CheckConstraint(
                condition=models.Q(points_awarded__gte=0), name="answer_points_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["question", "is_correct"], name="answer_question_correct")]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.question_id}: {'correct' if self.is_correct else 'wrong'}"
