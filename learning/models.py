from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from assessments.models import Assessment
from catalog.models import Course, CourseRun, Lesson, Skill


class LearningGoal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACHIEVED = "achieved", "Achieved"
        ABANDONED = "abandoned", "Abandoned"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning_goals"
    )
    title = models.CharField(max_length=200)
    skills = models.ManyToManyField(Skill, through="GoalSkill", related_name="goals")
    deadline = models.DateField(null=True, blank=True)
    weekly_hours = models.DecimalField(
        max_digits=4, decimal_places=1, default=5, validators=[MinValueValidator(0.5)]
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_hours__gt=0, weekly_hours__lte=80),
                name="goal_weekly_hours_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "achieved", "abandoned"]),
                name="goal_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["learner", "status"], name="goal_learner_status")]

    def __str__(self) -> str:
        return self.title


class GoalSkill(models.Model):
    """A target skill of a goal, with the level (1-10) the learner aims for."""

    goal = models.ForeignKey(LearningGoal, on_delete=models.CASCADE, related_name="target_skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")
    target_level = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta:
        ordering = ["goal", "skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "skill"], name="goal_skill_unique"),
            models.CheckConstraint(
                condition=models.Q(target_level__gte=1, target_level__lte=10),
                name="goal_skill_level_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} → {self.target_level}"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        DROPPED = "dropped", "Dropped"

    class FinalResult(models.TextChoices):
        PASS = "pass", "Pass"
        DISTINCTION = "distinction", "Distinction"
        FAIL = "fail", "Fail"
        WITHDRAWN = "withdrawn", "Withdrawn"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    # Set for cohort-based presentations (imported OULAD runs); self-paced enrollments have none.
    course_run = models.ForeignKey(
        CourseRun, on_delete=models.CASCADE, null=True, blank=True, related_name="enrollments"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    unregistered_at = models.DateTimeField(null=True, blank=True)
    # Database defaults too: bulk loaders (seed_demo's COPY) that predate these columns
    # keep working.
    final_result = models.CharField(
        max_length=20, choices=FinalResult.choices, blank=True, default="", db_default=""
    )
    # Facts known at registration from the source system (e.g. OULAD studentInfo:
    # num_of_prev_attempts, studied_credits); never outcomes.
    registration_info = models.JSONField(default=dict, db_default={}, blank=True)
    progress_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            # One self-paced enrollment per course; a learner may retake a course in a
            # later run (OULAD repeats), once per run.
            models.UniqueConstraint(
                fields=["learner", "course"],
                condition=models.Q(course_run__isnull=True),
                name="enrollment_unique",
            ),
            models.UniqueConstraint(
                fields=["learner", "course_run"],
                condition=models.Q(course_run__isnull=False),
                name="enrollment_run_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__gte=0, progress_percent__lte=100),
                name="enrollment_progress_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "completed", "dropped"]),
                name="enrollment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.course}"


class LessonProgress(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    time_spent_seconds = models.PositiveIntegerField(default=0)
    # Completed well under the lesson's estimated time (learning.services.SKIM_SHARE), after
    # the learner confirmed: weaker evidence than a full study (see README, "Skimmed").
    skimmed = models.BooleanField(default=False, db_default=False)
    last_position_seconds = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "lesson progress"
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="lesson_progress_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                name="lesson_progress_completed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "status"], name="progress_learner_status"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} - {self.lesson}: {self.status}"


class LearnerEvent(models.Model):
    """Append-only activity log, range-partitioned by month on occurred_at.

    The table is created by raw SQL in the migration (PARTITION BY RANGE with a
    default partition); the idempotency key is (event_id, occurred_at) because a
    unique key on a partitioned table must include the partition column.
    """

    class Type(models.TextChoices):
        LESSON_VIEWED = "lesson_viewed", "Lesson viewed"
        LESSON_STARTED = "lesson_started", "Lesson started"
        LESSON_COMPLETED = "lesson_completed", "Lesson completed"
        VIDEO_PLAY = "video_play", "Video play"
        VIDEO_PAUSE = "video_pause", "Video pause"
        VIDEO_SEEK = "video_seek", "Video seek"
        QUIZ_STARTED = "quiz_started", "Quiz started"
        QUIZ_SUBMITTED = "quiz_submitted", "Quiz submitted"
        HEARTBEAT = "heartbeat", "Heartbeat"
        RECOMMENDATION_SHOWN = "recommendation_shown", "Recommendation shown"
        RECOMMENDATION_ACCEPTED = "recommendation_accepted", "Recommendation accepted"
        RECOMMENDATION_SKIPPED = "recommendation_skipped", "Recommendation skipped"
        PAGE_VIEWED = "page_viewed", "Page viewed"

    pk = models.CompositePrimaryKey("event_id", "occurred_at")
    event_id = models.UUIDField(default=uuid.uuid4)
    occurred_at = models.DateTimeField()
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events"
    )
    event_type = models.CharField(max_length=40, choices=Type.choices)
    # Plain ids, no FK constraint: the log outlives edits to the catalog.
    course = models.ForeignKey(
        Course, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    received_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        managed = True
        indexes = [
            models.Index(fields=["learner", "occurred_at"], name="event_learner_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.learner_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class LearnerActivityBucket(models.Model):
    """A rollup of a learner's events per quarter hour (UTC-aligned): count, first and last.

    Kept by database triggers on LearnerEvent in the same statement as every insert, delete
    or update (learning.rollups): ingestion, bulk loads and fixtures alike. Every real time
    zone's offset is a whole number of quarter hours, so all events of a bucket share their
    local hour and date in any zone, and gaps inside a bucket (< 15 min) never split a
    session (SESSION_GAP is 30 min): dashboards read buckets instead of raw events, exactly.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    bucket_start = models.DateTimeField()
    events = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "bucket_start"], name="activity_bucket_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} at {self.bucket_start:%Y-%m-%d %H:%M}: {self.events}"
