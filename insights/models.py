from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from assessments.models import Assessment
from catalog.models import Course, Difficulty, Lesson, Skill
from insights.mastery import SkillMastery, describe
from learning.models import LearningGoal


class LearnerSkillState(models.Model):
    """Durable knowledge-tracing state per learner and skill."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_states"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="learner_states")
    mastery = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # Evidence behind the estimate: answered questions (unanswered ones are no
    # evidence), how many of them were different questions, and when.
    evidence_count = models.PositiveIntegerField(default=0)
    correct_count = models.PositiveIntegerField(default=0)
    distinct_questions = models.PositiveIntegerField(default=0, db_default=0)
    last_practiced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["learner", "skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "skill"], name="skill_state_unique"),
            models.CheckConstraint(
                condition=models.Q(mastery__gte=0, mastery__lte=1), name="skill_state_mastery_range"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=10), name="skill_state_level_range"
            ),
            models.CheckConstraint(
                condition=models.Q(correct_count__lte=models.F("evidence_count")),
                name="skill_state_correct_le_evidence",
            ),
            models.CheckConstraint(
                condition=models.Q(distinct_questions__lte=models.F("evidence_count")),
                name="skill_state_distinct_le_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} - {self.skill}: level {self.level}"

    def mastery_at(self, now: datetime) -> SkillMastery:
        """Level, named state and evidence as the learner sees them at ``now``."""
        return describe(
            level=self.level,
            mastery=self.mastery,
            answers=self.evidence_count,
            distinct_questions=self.distinct_questions,
            correct_answers=self.correct_count,
            last_practiced_at=self.last_practiced_at,
            now=now,
        )


class LearningPathSnapshot(models.Model):
    class Trigger(models.TextChoices):
        GENERATED = "generated", "Generated"
        WEEKLY_ADJUSTMENT = "weekly_adjustment", "Weekly adjustment"
        MANUAL = "manual", "Manual"
        NEW_EVIDENCE = "new_evidence", "New evidence"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="path_snapshots"
    )
    goal = models.ForeignKey(LearningGoal, on_delete=models.CASCADE, related_name="path_snapshots")
    version = models.PositiveIntegerField()
    items = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=30, choices=Trigger.choices, default=Trigger.GENERATED)
    # {"added": [...], "removed": [...], "reordered": [...], "text": "..."}
    changes = models.JSONField(default=dict, blank=True)
    change_summary = models.TextField(blank=True)
    # ISO week ("2026-W48") a weekly adjustment ran for; makes reruns no-ops.
    iso_week = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["learner", "goal", "-version"]
        get_latest_by = "version"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "goal", "version"], name="path_snapshot_version_unique"
            ),
            models.UniqueConstraint(
                fields=["learner", "goal"],
                condition=models.Q(is_active=True),
                name="path_snapshot_one_active",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="path_version_pos"),
        ]

    def __str__(self) -> str:
        return f"Path v{self.version} for {self.goal}"


class Recommendation(models.Model):
    class Kind(models.TextChoices):
        NEXT_LESSON = "next_lesson", "Next lesson"
        REVISION = "revision", "Revision"
        COURSE = "course", "Course"
        DIFFICULTY = "difficulty", "Difficulty"
        SUPPORT = "support", "Support"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACCEPTED = "accepted", "Accepted"
        SKIPPED = "skipped", "Skipped"
        IGNORED = "ignored", "Ignored"
        EXPIRED = "expired", "Expired"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    score = models.FloatField(default=0)
    # Extra facts for clients, e.g. {"new_difficulty": "advanced", "recent_average": 92.0}
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    shown_at = models.DateTimeField(null=True, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    source_snapshot = models.ForeignKey(
        LearningPathSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "kind", "lesson", "course", "assessment"],
                condition=models.Q(status="active"),
                nulls_distinct=False,
                name="recommendation_one_active_per_target",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "status", "kind"], name="rec_learner_status_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.learner}: {self.reason[:50]}"

    def get_absolute_url(self) -> str:
        """Where the learner acts on the card: its target's page; for a difficulty card the
        catalogue at the advised level; for a struggle support card the lesson or quiz its
        first reason names (``payload["target"]``), else the progress page (quiz scores and
        skill checks)."""
        target = self.get_target()
        if isinstance(target, Assessment):
            return reverse("assessments:detail", kwargs={"assessment_id": target.pk})
        if target is not None:
            return target.get_absolute_url()
        if self.kind == self.Kind.DIFFICULTY:
            level = self.payload.get("recommended")
            if level in Difficulty.values:
                return f"{reverse('catalog:course_list')}?difficulty={level}"
            return reverse("catalog:course_list")
        if self.kind == self.Kind.SUPPORT:
            named = self.payload.get("target") or {}
            if named.get("kind") == "lesson":
                return reverse("learning:lesson", kwargs={"lesson_id": named["id"]})
            if named.get("kind") == "assessment":
                return reverse("assessments:detail", kwargs={"assessment_id": named["id"]})
            return reverse("insights:progress")
        return ""

    def get_target(self) -> Lesson | Course | Assessment | None:
        """What the card is about: its lesson, course or assessment (at most one is set)."""
        if self.lesson_id:
            return self.lesson
        if self.course_id:
            return self.course
        if self.assessment_id:
            return self.assessment
        return None

    # The attributes a card shows, shared with `RecommendationCard` so one template
    # partial (and one API shape) renders either.
    @property
    def kind_label(self) -> str:
        """What the card is for: a revision card is "Review" only for a lesson the learner
        completed; one they never studied is "Study Python" (QA walk: "Revision" on a
        lesson never opened). Cards stored before the payload said so keep the kind."""
        if self.kind == self.Kind.REVISION and "lesson_completed" in self.payload:
            if self.payload["lesson_completed"]:
                return "Review"
            return f"Study {self.payload.get('skill_name') or 'this skill'}"
        return self.get_kind_display()

    @property
    def target_kind(self) -> str:
        """ "lesson", "course" or "assessment"; "" without a target."""
        target = self.get_target()
        return target._meta.model_name if target is not None else ""

    @property
    def title(self) -> str:
        """The card's heading and link text: its target's title, or what its link opens."""
        target = self.get_target()
        if target is not None:
            return target.title
        if (
            self.kind == self.Kind.DIFFICULTY
            and self.payload.get("recommended") in Difficulty.values
        ):
            return f"{Difficulty(self.payload['recommended']).label} courses"
        if self.kind == self.Kind.SUPPORT:
            named = (self.payload.get("target") or {}).get("title")
            return f"Get unstuck: {named}" if named else "Get unstuck: your progress"
        return self.get_kind_display()

    @property
    def url(self) -> str:
        return self.get_absolute_url()


@dataclass(frozen=True)
class RecommendationCard:
    """A recommendation as the dashboard shows it, in plain data that the dashboard cache
    keeps. It has the same card attributes as a `Recommendation` row (`pk`, `kind_label`,
    `title`, `url`, `reason`, `status`, ...), so the template partial and the API read
    either the same way."""

    pk: int
    kind: str
    kind_label: str
    target_kind: str
    title: str
    url: str
    reason: str
    score: float
    payload: dict
    status: str = "active"

    @classmethod
    def from_recommendation(cls, rec: Recommendation) -> RecommendationCard:
        """The card of a row (its target loaded, e.g. with select_related)."""
        return cls(
            pk=rec.pk,
            kind=rec.kind,
            kind_label=rec.kind_label,
            target_kind=rec.target_kind,
            title=rec.title,
            url=rec.url,
            reason=rec.reason,
            score=rec.score,
            payload=rec.payload,
            status=rec.status,
        )

    @classmethod
    def from_dict(cls, data: dict) -> RecommendationCard:
        """The card back from `as_dict` (the cached dashboard's JSON)."""
        return cls(**data)

    def as_dict(self) -> dict:
        return asdict(self)


class MLModel(models.Model):
    """A trained model version: parameters, metrics and (optional) binary artifact.

    The artifact lives in the database so every web and worker process, on any
    machine, loads the same active version.
    """

    name = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField()
    training_window_start = models.DateTimeField(null=True, blank=True)
    training_window_end = models.DateTimeField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = "ML model"
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="mlmodel_version_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(is_active=True), name="mlmodel_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}{' (active)' if self.is_active else ''}"


class DropoutRisk(models.Model):
    """Latest dropout-risk score of one enrollment, refreshed by the nightly scoring job."""

    class Level(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    enrollment = models.OneToOneField(
        "learning.Enrollment", on_delete=models.CASCADE, related_name="dropout_risk"
    )
    probability = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    level = models.CharField(max_length=10, choices=Level.choices)
    # [{"feature": "days_since_activity", "text": "no activity for 12 days", "weight": 0.8}]
    factors = models.JSONField(default=list, blank=True)
    features = models.JSONField(default=dict, blank=True)
    model = models.ForeignKey(MLModel, on_delete=models.SET_NULL, null=True, related_name="+")
    scored_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-probability"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1),
                name="dropout_risk_probability_range",
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=["low", "medium", "high"]),
                name="dropout_risk_level_valid",
            ),
        ]
        indexes = [models.Index(fields=["level", "-probability"], name="dropout_risk_level")]

    def __str__(self) -> str:
        return f"{self.enrollment}: {self.level} ({self.probability:.0%})"


class PendingJob(models.Model):
    """A Celery task recorded in the same transaction as the write that needs it.

    The outbox of skillstudio.jobs: a row exists as soon as the caller's
    transaction commits, whether or not Redis was reachable, and it tracks the
    job until a worker has finished it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (not yet accepted by the broker)"
        SENT = "sent", "Sent to the broker"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # Doubles as the Celery task id, so a worker can mark its own row done.
    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "done", "failed"]),
                name="pending_job_status_valid",
            ),
        ]
        indexes = [
            # The relay's scan: only unfinished rows, oldest first.
            models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["pending", "sent"]),
                name="pending_job_open",
            ),
            models.Index(
                fields=["finished_at"],
                condition=models.Q(status="done"),
                name="pending_job_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.get_status_display()})"


class ItemAnalysisRun(models.Model):
    """The stored item analysis of one assessment (insights.ml.irt.refresh_item_analysis).

    Fitted by a worker, never in a web request: the admin only reads these rows. A refresh
    replaces the run's question rows in one transaction.
    """

    assessment = models.OneToOneField(
        Assessment, on_delete=models.CASCADE, related_name="item_analysis_run"
    )
    # Each learner's first submitted answer per question: what the statistics are based on.
    answers = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.answers} answers, {self.computed_at:%Y-%m-%d %H:%M}"


class QuestionItemAnalysis(models.Model):
    """One question's row of an item analysis run."""

    class IRTModel(models.TextChoices):
        NONE = "", "Not fitted"
        TWO_CLASS = "2lc", "Knows or not (difficulty only)"
        # Runs stored before difficulties were fitted per skill (insights.ml.irt).
        ONE_PL = "1pl", "1PL (difficulty only)"
        TWO_PL = "2pl", "2PL (difficulty and discrimination)"

    run = models.ForeignKey(ItemAnalysisRun, on_delete=models.CASCADE, related_name="questions")
    question = models.ForeignKey(
        "assessments.Question", on_delete=models.CASCADE, related_name="item_analyses"
    )
    answers = models.PositiveIntegerField()
    share_correct = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    # Point-biserial correlation with the rest-of-test score.
    discrimination = models.FloatField(null=True, blank=True)
    irt_difficulty = models.FloatField(null=True, blank=True)
    irt_discrimination = models.FloatField(null=True, blank=True)
    irt_model = models.CharField(max_length=3, choices=IRTModel.choices, blank=True)
    difficulty_predicted = models.BooleanField(default=False)
    difficulty_basis = models.CharField(max_length=200, blank=True)
    # [{"choice_id": 3, "text": "…", "is_correct": false, "picked": 0, "share": 0.0}]
    distractors = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "question__order"]
        verbose_name_plural = "question item analyses"
        constraints = [
            models.UniqueConstraint(fields=["run", "question"], name="item_analysis_question_once"),
            models.CheckConstraint(
                condition=models.Q(share_correct__gte=0, share_correct__lte=1)
                | models.Q(share_correct__isnull=True),
                name="item_analysis_share_range",
            ),
            models.CheckConstraint(
                condition=models.Q(irt_model__in=["", "2lc", "1pl", "2pl"]),
                name="item_analysis_irt_model_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.answers} answers"


class InstructorMessage(models.Model):
    """A message an instructor sent a learner of one of their courses (R-INSTR).

    Shown on the learner's dashboard until they mark it read, and e-mailed once
    (``emailed_at`` records the send, so a re-run job does not send it twice).
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="instructor_messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sent_instructor_messages",
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["learner", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="instructor_message_unread",
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} → {self.learner}: {self.body[:40]}"


class RiskReview(models.Model):
    """What an instructor did about one at-risk enrollment, with the risk as they saw it.

    ``evaluate_dropout_model`` reads these rows back: how often a flag was judged not
    useful, and how the reviewed enrollments ended (the closed loop of R-INSTR).
    """

    class Action(models.TextChoices):
        MESSAGED = "messaged", "Messaged the learner"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        NOT_USEFUL = "not_useful", "Not useful"

    enrollment = models.ForeignKey(
        "learning.Enrollment", on_delete=models.CASCADE, related_name="risk_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    probability = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    level = models.CharField(max_length=10, choices=DropoutRisk.Level.choices)
    model = models.ForeignKey(MLModel, on_delete=models.SET_NULL, null=True, related_name="+")
    message = models.ForeignKey(
        InstructorMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["messaged", "acknowledged", "not_useful"]),
                name="risk_review_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment}: {self.get_action_display()}"
