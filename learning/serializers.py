"""Learning API shapes. Validation rules live in learning.services; these only shape JSON."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from catalog.selectors import courses_published
from learning.events import MAX_EVENTS
from learning.models import Enrollment, LearnerEvent, LearningGoal, LessonProgress


class TargetLevelsField(serializers.DictField):
    """{skill_slug: target level}, read from the goal's GoalSkill rows."""

    def get_attribute(self, instance: LearningGoal) -> dict[str, int]:
        return {target.skill.slug: target.target_level for target in instance.target_skills.all()}


class GoalSerializer(serializers.ModelSerializer):
    target_levels = TargetLevelsField(
        child=serializers.IntegerField(min_value=1, max_value=10),
        help_text='Target level (1-10) per skill slug, e.g. {"python": 7}.',
    )
    weekly_hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=Decimal("0.5"), max_value=80
    )

    class Meta:
        model = LearningGoal
        fields = [
            "id",
            "learner",
            "title",
            "target_levels",
            "weekly_hours",
            "deadline",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["learner", "created_at", "updated_at"]


class GoalCreateSerializer(GoalSerializer):
    """A new goal starts active; its status changes later through an update."""

    class Meta(GoalSerializer.Meta):
        read_only_fields = ["learner", "status", "created_at", "updated_at"]


class EnrollmentSerializer(serializers.ModelSerializer):
    course = serializers.PrimaryKeyRelatedField(queryset=courses_published())
    course_title = serializers.CharField(source="course.title", read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "learner",
            "course",
            "course_title",
            "status",
            "enrolled_at",
            "completed_at",
            "progress_percent",
        ]
        read_only_fields = [
            "learner",
            "status",
            "enrolled_at",
            "completed_at",
            "progress_percent",
        ]


class LessonProgressSerializer(serializers.ModelSerializer):
    lesson_title = serializers.CharField(source="lesson.title", read_only=True)
    course = serializers.IntegerField(source="lesson.module.course_id", read_only=True)

    class Meta:
        model = LessonProgress
        fields = [
            "id",
            "learner",
            "lesson",
            "lesson_title",
            "course",
            "status",
            "started_at",
            "completed_at",
            "time_spent_seconds",
            "last_position_seconds",
            "skimmed",
        ]
        read_only_fields = fields


class PositionSerializer(serializers.Serializer):
    position_seconds = serializers.IntegerField(min_value=0)
    seconds_spent = serializers.IntegerField(min_value=0, default=0)


class EventSerializer(serializers.Serializer):
    """Documents one event; each is validated by learning.events, errors reported by index."""

    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=LearnerEvent.Type.choices)
    occurred_at = serializers.DateTimeField(help_text="With a time zone; at most 5 min ahead.")
    course_id = serializers.IntegerField(required=False, allow_null=True)
    lesson_id = serializers.IntegerField(required=False, allow_null=True)
    assessment_id = serializers.IntegerField(required=False, allow_null=True)
    data = serializers.DictField(required=False, help_text="Free-form JSON, at most 4 KB.")


class EventBatchSerializer(serializers.Serializer):
    # Only the list is checked here: learning.events validates each item and reports it by
    # index. A JSONField child re-encoded every event merely to confirm it was JSON.
    events = serializers.ListField(min_length=1, max_length=MAX_EVENTS)


class EventBatchDocSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text=f"1 to {MAX_EVENTS} events.")


class EventErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = EventErrorSerializer(many=True)
