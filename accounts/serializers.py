"""Account API shapes: registration and the learner profile."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.db import transaction
from rest_framework import serializers

from accounts.models import LearnerProfile, User
from catalog.models import Lesson
from skillstudio.data_versions import learners_changed

STUDY_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> str:
    if value not in _timezones():
        raise serializers.ValidationError(
            f"“{value[:64]}” is not a known time zone (use an IANA name like Europe/Paris)."
        )
    return value


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, min_length=1, max_length=128)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, default="UTC", validators=[validate_timezone]
    )


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role"]
        read_only_fields = fields


class PreferencesSerializer(serializers.Serializer):
    weekly_hours = serializers.FloatField(min_value=0.5, max_value=80, required=False)
    content_types = serializers.ListField(
        child=serializers.ChoiceField(choices=Lesson.ContentType.choices),
        required=False,
        max_length=len(Lesson.ContentType.choices),
    )
    study_days = serializers.ListField(
        child=serializers.ChoiceField(choices=STUDY_DAYS), required=False, max_length=7
    )

    def to_internal_value(self, data) -> dict:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    dict.fromkeys(unknown[:10], "Unknown preference.")
                )
        return super().to_internal_value(data)


class ProfileSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", max_length=150, required=False)
    role = serializers.CharField(source="user.role", read_only=True)
    skill_levels = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    preferences = PreferencesSerializer(required=False)
    behavioral_metrics = serializers.DictField(read_only=True)
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone], required=False)

    class Meta:
        model = LearnerProfile
        fields = [
            "email",
            "full_name",
            "role",
            "timezone",
            "preferences",
            "skill_levels",
            "current_difficulty",
            "behavioral_metrics",
            "onboarded_at",
        ]
        read_only_fields = ["current_difficulty", "onboarded_at"]

    def update(self, instance: LearnerProfile, validated_data: dict) -> LearnerProfile:
        user_data = validated_data.pop("user", {})
        with transaction.atomic():
            if "full_name" in user_data:
                instance.user.full_name = user_data["full_name"]
                instance.user.save(update_fields=["full_name"])
            if "preferences" in validated_data:
                # PATCH semantics inside the JSON too: keys not sent are kept.
                instance.preferences = {**instance.preferences, **validated_data["preferences"]}
            if "timezone" in validated_data:
                instance.timezone = validated_data["timezone"]
            instance.save()
            learners_changed([instance.user_id])
        return instance
