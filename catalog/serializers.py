"""Catalog API shapes."""

from __future__ import annotations

from decimal import Decimal

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Course, Difficulty, Lesson, Module, Skill
from catalog.selectors import SKILL_SLUG, course_visible, courses_visible_to


class SkillSlugField(serializers.SlugRelatedField):
    """A skill by slug; malformed slugs are refused before they reach the query."""

    def __init__(self, **kwargs) -> None:
        super().__init__(slug_field="slug", queryset=Skill.objects.all(), **kwargs)

    def to_internal_value(self, data) -> Skill:
        # PostgreSQL rejects NUL bytes in text parameters: such input is simply unknown.
        if not isinstance(data, str) or not SKILL_SLUG.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:80])
        return super().to_internal_value(data)


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "slug", "name", "description"]


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class CourseSerializer(serializers.ModelSerializer):
    skills = SkillSlugField(many=True, required=False)
    prerequisites = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Course.objects.all(), required=False
    )
    owner = OwnerSerializer(read_only=True)
    slug = serializers.SlugField(max_length=200, required=False)

    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "slug",
            "description",
            "difficulty",
            "estimated_hours",
            "skills",
            "prerequisites",
            "owner",
            "status",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["published_at", "created_at", "updated_at"]
        extra_kwargs = {"estimated_hours": {"min_value": Decimal("0.1"), "max_value": 10000}}

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # Prerequisites must be courses the author can see (no probing drafts by id).
        request = self.context.get("request")
        if request is not None:
            fields["prerequisites"].child_relation.queryset = courses_visible_to(user=request.user)
        return fields

    def to_representation(self, instance: Course) -> dict:
        data = super().to_representation(instance)
        # Only prerequisites the reader can open: an id unpublished since is a 404.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        data["prerequisites"] = [
            course.pk
            for course in instance.prerequisites.all()
            if course_visible(user=user, course=course)
        ]
        return data

    def validate(self, attrs: dict) -> dict:
        # Input translation only: a new course without a slug gets one from its title.
        # Uniqueness is catalog.services' rule.
        if not attrs.get("slug") and "title" in attrs and self.instance is None:
            attrs["slug"] = slugify(attrs["title"])[:200]
        return attrs


class LessonSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Lesson
        fields = ["id", "title", "order", "content_type", "estimated_minutes"]


class ModuleSerializer(serializers.ModelSerializer):
    # Explicit: the model default (1) would otherwise collide with the first module.
    order = serializers.IntegerField(min_value=1, max_value=100000)
    lessons = LessonSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Module
        fields = ["id", "course", "title", "order", "lessons"]
        read_only_fields = ["course"]


class LessonSerializer(serializers.ModelSerializer):
    # Explicit: the model default (1) would otherwise collide with the first lesson.
    order = serializers.IntegerField(min_value=1, max_value=100000)
    skills = SkillSlugField(many=True, required=False)
    prerequisites = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Lesson.objects.all(), required=False
    )
    readable = serializers.SerializerMethodField(
        help_text="False when the caller may not open this lesson (not signed in, or locked "
        "behind prerequisites): body and video_url are then empty."
    )

    class Meta:
        model = Lesson
        fields = [
            "id",
            "module",
            "title",
            "order",
            "content_type",
            "body",
            "video_url",
            "estimated_minutes",
            "difficulty",
            "skills",
            "prerequisites",
            "readable",
        ]
        read_only_fields = ["module"]
        extra_kwargs = {
            "estimated_minutes": {"min_value": 1, "max_value": 10000},
        }

    def get_fields(self) -> dict:
        fields = super().get_fields()
        module = self.context.get("module")
        if module is not None:
            # Prerequisites come from the same course: a lesson cannot be locked
            # behind content the learner is not taking.
            fields["prerequisites"].child_relation.queryset = Lesson.objects.filter(
                module__course_id=module.course_id
            )
        return fields

    def get_readable(self, lesson: Lesson) -> bool:
        readable = self.context.get("readable_ids")
        return readable is None or lesson.pk in readable

    def to_representation(self, lesson: Lesson) -> dict:
        data = super().to_representation(lesson)
        if not data["readable"]:
            data["body"] = data["video_url"] = ""
        return data


class BlockerSerializer(serializers.Serializer):
    """An unmet prerequisite and the way to unlock it (learning.locks.Blocker)."""

    kind = serializers.CharField(help_text="course or lesson: what is still to be met.")
    id = serializers.IntegerField()
    title = serializers.CharField()
    course_id = serializers.IntegerField()
    course_title = serializers.CharField()
    missing_skills = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    url = serializers.CharField()
    course_url = serializers.CharField()


class OutlineLessonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="lesson.id")
    title = serializers.CharField(source="lesson.title")
    order = serializers.IntegerField(source="lesson.order")
    content_type = serializers.CharField(source="lesson.content_type")
    estimated_minutes = serializers.IntegerField(source="lesson.estimated_minutes")
    status = serializers.CharField()
    locked = serializers.BooleanField()
    blocking = BlockerSerializer(many=True)
    skip_reason = serializers.CharField(
        help_text="Set when the learner's current path lets them skip this lesson: the "
        "evidence, e.g. 'Python proficient on 6 answers'. Empty otherwise. A skipped lesson "
        "can still be locked (see blocking)."
    )
    time_spent_seconds = serializers.IntegerField()
    last_position_seconds = serializers.IntegerField()


class OutlineModuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="module.id")
    title = serializers.CharField(source="module.title")
    order = serializers.IntegerField(source="module.order")
    lessons = OutlineLessonSerializer(many=True)


class CourseOutlineSerializer(serializers.Serializer):
    course = CourseSerializer()
    enrollment_status = serializers.CharField(source="enrollment.status", allow_null=True)
    progress_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    lessons_total = serializers.IntegerField()
    lessons_completed = serializers.IntegerField()
    locked = serializers.BooleanField(
        help_text="The course has an unmet prerequisite (course_blocking). Lessons the "
        "learner started stay open: see lessons_locked and lock_headline."
    )
    lessons_locked = serializers.IntegerField(help_text="Lessons the learner cannot open now.")
    lock_headline = serializers.CharField(
        help_text="What the lock means for the learner: empty when the course is not locked, "
        "'This course is locked' when no lesson opens, else 'Some lessons are locked: …' "
        "with how many stay open."
    )
    course_blocking = BlockerSerializer(many=True)
    modules = OutlineModuleSerializer(many=True)


# ------------------------------------------------------------------ search


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="Words, a question, typos welcome.")
    skill = serializers.SlugRelatedField(
        slug_field="slug", queryset=Skill.objects.all(), required=False, allow_null=True
    )
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)
    page = serializers.IntegerField(min_value=1, required=False, default=1)


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["course", "lesson"])
    id = serializers.IntegerField(source="obj.pk")
    title = serializers.CharField(source="obj.title")
    url = serializers.CharField(source="obj.get_absolute_url")
    course_id = serializers.SerializerMethodField()
    score = serializers.FloatField()
    snippet = serializers.CharField(help_text="HTML: escaped text, matches in <mark>.")
    channels = serializers.ListField(child=serializers.CharField())

    def get_course_id(self, hit) -> int:
        return hit.obj.pk if hit.kind == "course" else hit.obj.module.course_id


class SearchResultsSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="total", help_text="Matching lessons.")
    page = serializers.IntegerField(source="page.number")
    pages = serializers.IntegerField(source="page.paginator.num_pages")
    courses = SearchHitSerializer(
        many=True, help_text="The best few courses, on the first page only."
    )
    results = SearchHitSerializer(many=True, source="hits", help_text="This page's lessons.")


class RelatedLessonSerializer(serializers.Serializer):
    """A ``catalog.search.RelatedLesson``: the lesson and why it is related."""

    id = serializers.IntegerField(source="lesson.pk")
    title = serializers.CharField(source="lesson.title")
    course_id = serializers.IntegerField(source="lesson.module.course_id")
    course_title = serializers.CharField(source="lesson.module.course.title")
    estimated_minutes = serializers.IntegerField(source="lesson.estimated_minutes")
    url = serializers.CharField(source="lesson.get_absolute_url")
    reason = serializers.CharField(
        help_text="Why it is related: e.g. Also teaches Python; This lesson builds on it; "
        "Builds on this lesson."
    )


class AskQuerySerializer(serializers.Serializer):
    question = serializers.CharField(max_length=300)


class PassageSerializer(serializers.Serializer):
    lesson_id = serializers.IntegerField(source="lesson.pk")
    lesson_title = serializers.CharField(source="lesson.title")
    url = serializers.CharField(source="lesson.get_absolute_url")
    text = serializers.CharField(help_text="The lesson's Markdown section, as written.")
    score = serializers.FloatField()


class AskAnswerSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["retrieval"], help_text="Passages only: no language model is involved."
    )
    passages = PassageSerializer(many=True)


class TutorQuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=300)


class NumberedPassageSerializer(PassageSerializer):
    number = serializers.IntegerField(help_text="The number the model cites it by: [1], [2], ...")


class TutorAnswerSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["generated", "retrieval"],
        help_text="generated: ``answer`` is the model's, citing ``citations``; retrieval: no "
        "answer (``problem`` says why), the passages alone.",
    )
    answer = serializers.CharField(source="text", allow_blank=True)
    citations = serializers.SerializerMethodField()
    passages = serializers.SerializerMethodField()
    problem = serializers.CharField(allow_blank=True)

    @extend_schema_field(NumberedPassageSerializer(many=True))
    def get_citations(self, answer) -> list[dict]:
        return _numbered(answer.cited)

    @extend_schema_field(NumberedPassageSerializer(many=True))
    def get_passages(self, answer) -> list[dict]:
        return _numbered(answer.numbered)


def _numbered(pairs) -> list[dict]:
    return [{**PassageSerializer(passage).data, "number": number} for number, passage in pairs]
