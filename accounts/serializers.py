"""Account API shapes: registration and the learner profile."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import LearnerProfile, User
from accounts.services import (
    CONTENT_TYPES,
    NOTIFICATION_KINDS,
    STUDY_DAYS,
    WEEKLY_HOURS_RANGE,
)


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
    """The documented shape of ``preferences`` (the rules are accounts.services')."""

    weekly_hours = serializers.FloatField(
        min_value=WEEKLY_HOURS_RANGE[0], max_value=WEEKLY_HOURS_RANGE[1], required=False
    )
    content_types = serializers.ListField(
        child=serializers.ChoiceField(choices=CONTENT_TYPES), required=False
    )
    study_days = serializers.ListField(
        child=serializers.ChoiceField(choices=STUDY_DAYS), required=False
    )
    notifications = serializers.ListField(
        child=serializers.ChoiceField(choices=NOTIFICATION_KINDS),
        required=False,
        help_text="E-mails the learner wants; absent means all of them.",
    )


@extend_schema_field(PreferencesSerializer)
class PreferencesField(serializers.DictField):
    """Preferences as sent; ``profile_update`` validates them, keyed by nested field."""


class ProfileSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", max_length=150, required=False)
    role = serializers.CharField(source="user.role", read_only=True)
    skill_levels = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    preferences = PreferencesField(required=False)
    behavioral_metrics = serializers.DictField(read_only=True)
    timezone = serializers.CharField(max_length=200, required=False)

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


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, min_length=1, max_length=128)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class DataExportSerializer(serializers.Serializer):
    """A data export's state; ``download_url`` only while it can be downloaded."""

    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    size_bytes = serializers.IntegerField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, export) -> str | None:
        from accounts.privacy import data_export_token

        now = timezone.now()
        if export.status != "ready" or export.expires_at is None or now >= export.expires_at:
            return None
        token = data_export_token(export)
        path = reverse("api-v1:profile-export-download", kwargs={"token": token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ProfilingSerializer(serializers.Serializer):
    profiling_opt_out = serializers.BooleanField(
        help_text="true: no dropout-risk score and no segment for you."
    )


class ErasureInputSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)


class ErasureSerializer(serializers.Serializer):
    requested_at = serializers.DateTimeField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
