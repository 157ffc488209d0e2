from __future__ import annotations

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager["User"]):
    """Email is the login. Every user gets a LearnerProfile at creation."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        LearnerProfile.objects.get_or_create(user=user)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        # Staff status is only the door to the admin site (skillstudio.access): authors get it.
        extra_fields.setdefault(
            "is_staff", extra_fields.get("role") in (User.Role.INSTRUCTOR, User.Role.ADMIN)
        )
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.ADMIN)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        ADMIN = "admin", "Admin"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["learner", "instructor", "admin"]),
                name="user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def is_instructor(self) -> bool:
        return self.role == self.Role.INSTRUCTOR

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN


class LearnerProfile(models.Model):
    class Difficulty(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    # Fast-read mirror of insights.LearnerSkillState levels: {skill_slug: level 1-10}.
    skill_levels = models.JSONField(default=dict, blank=True)
    # {"weekly_hours": 5, "content_types": ["video"], "study_days": ["mon"]}
    preferences = models.JSONField(default=dict, blank=True)
    # Display metrics computed by the weekly run (insights.weekly): average session
    # minutes, peak hours, … and the last run's adjustments. No state lives here.
    behavioral_metrics = models.JSONField(default=dict, blank=True)
    # When the recommendations were last refreshed (insights.recommendations); never
    # refreshed is NULL.
    recommendations_refreshed_at = models.DateTimeField(null=True, blank=True)
    # The latest struggle check that refresh recorded, read by the instructors' at-risk
    # list: {"is_struggling": bool, "reasons": [...], "signals": {...}, "checked_at": iso}.
    struggle = models.JSONField(null=True, blank=True)
    # ISO week ("2026-W48") of the last weekly adjustment: makes a rerun that week a no-op.
    weekly_adjusted_week = models.CharField(max_length=10, blank=True)
    # When current_difficulty last changed: the difficulty advice judges only later quizzes.
    difficulty_changed_at = models.DateTimeField(null=True, blank=True)
    # The learner's segment (insights.ml.segments):
    # {"name", "description", "model_version", "assigned_at"}; NULL until assigned.
    segment = models.JSONField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    current_difficulty = models.CharField(
        max_length=20, choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    onboarded_at = models.DateTimeField(null=True, blank=True)
    # The learner opted out of profiling (GDPR Art. 22): no dropout-risk score and no
    # segment is computed or kept for them (accounts.privacy.profiling_opt_out_set).
    profiling_opt_out = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [GinIndex(fields=["skill_levels"], name="profile_skill_levels_gin")]

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class DataExport(models.Model):
    """A learner's data export (accounts.privacy): a ZIP built by a worker, kept till it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    learner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The ZIP itself: in PostgreSQL, so every web process and worker sees it without
    # shared file storage; deleted when it expires.
    content = models.BinaryField(null=True, blank=True, editable=False)
    size_bytes = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "ready", "failed"]),
                name="data_export_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.get_status_display()})"

    def is_downloadable(self, now) -> bool:
        return (
            self.status == self.Status.READY
            and self.expires_at is not None
            and now < self.expires_at
            and self.content is not None
        )


class ErasureRequest(models.Model):
    """A request to erase an account, processed after a grace period (accounts.privacy).

    Once processed the row keeps only when it happened: ``user`` is gone (SET_NULL), so
    nothing here points at the person any more.
    """

    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="erasure_requests"
    )
    requested_at = models.DateTimeField()
    # The end of the grace period: the nightly job erases the account from then on.
    due_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(processed_at__isnull=True),
                name="erasure_one_open_per_user",
            ),
        ]

    def __str__(self) -> str:
        if self.processed_at:
            return f"Erasure processed {self.processed_at:%Y-%m-%d %H:%M}"
        return f"Erasure of {self.user} due {self.due_at:%Y-%m-%d %H:%M}"
