from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from pgvector.django import HnswIndex, VectorField

# Width of catalog.search's embeddings (WordLlama l2_supercat, 256 dimensions).
EMBEDDING_DIMENSIONS = 256


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


DIFFICULTY_RANK = {Difficulty.BEGINNER: 1, Difficulty.INTERMEDIATE: 2, Difficulty.ADVANCED: 3}


class Skill(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CourseQuerySet(models.QuerySet["Course"]):
    def published(self) -> CourseQuerySet:
        return self.filter(status=Course.Status.PUBLISHED)


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    difficulty = models.CharField(
        max_length=20, choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    estimated_hours = models.DecimalField(max_digits=6, decimal_places=1, default=1)
    skills = models.ManyToManyField(Skill, related_name="courses", blank=True)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, related_name="required_by", blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_courses"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    # Written by catalog.search (an outbox job after each lesson edit), never by hand.
    search_vector = SearchVectorField(null=True, editable=False)
    # Character trigrams of the title and skill names, for typo-tolerant matching.
    trigrams = ArrayField(models.CharField(max_length=3), default=list, editable=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(estimated_hours__gt=0), name="course_hours_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="course_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "difficulty"], name="course_status_difficulty"),
            GinIndex(fields=["search_vector"], name="course_search_vector"),
            GinIndex(fields=["trigrams"], name="course_trigrams"),
            HnswIndex(
                name="course_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:course_detail", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CourseRun(models.Model):
    """One dated presentation of a course (e.g. OULAD's "2013J"): a cohort with a start."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="runs")
    code = models.CharField(max_length=20)
    starts_on = models.DateField()
    length_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["course", "code"], name="course_run_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.course} {self.code}"


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "order"]
        constraints = [
            models.UniqueConstraint(fields=["course", "order"], name="module_order_unique"),
        ]

    def __str__(self) -> str:
        return f"Module {self.order} - {self.title}"


class Lesson(models.Model):
    class ContentType(models.TextChoices):
        TEXT = "text", "Text"
        VIDEO = "video", "Video"
        EXERCISE = "exercise", "Exercise"
        QUIZ = "quiz", "Quiz"

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=1)
    content_type = models.CharField(
        max_length=20, choices=ContentType.choices, default=ContentType.TEXT
    )
    body = models.TextField("body (Markdown)", blank=True)
    video_url = models.URLField(blank=True)
    estimated_minutes = models.PositiveIntegerField(default=15)
    difficulty = models.CharField(
        max_length=20, choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    skills = models.ManyToManyField(Skill, related_name="lessons", blank=True)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, related_name="unlocks", blank=True
    )
    # Written by catalog.search (an outbox job after each edit), never by hand.
    search_vector = SearchVectorField(null=True, editable=False)
    # Character trigrams of the title and skill names, for typo-tolerant matching.
    trigrams = ArrayField(models.CharField(max_length=3), default=list, editable=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["module__course", "module__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["module", "order"], name="lesson_order_unique"),
            models.CheckConstraint(
                condition=models.Q(estimated_minutes__gt=0), name="lesson_minutes_positive"
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="lesson_search_vector"),
            GinIndex(fields=["trigrams"], name="lesson_trigrams"),
            HnswIndex(
                name="lesson_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("learning:lesson", kwargs={"lesson_id": self.pk})
