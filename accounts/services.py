"""Account writes shared by the sign-up page, the API and the commands."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.models import LearnerProfile, User
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer


def _timezone_is_known(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def user_register(*, email: str, password: str, full_name: str = "", timezone: str = "UTC") -> User:
    """Create a learner account and its profile.

    Raises ValidationError keyed by field ("email", "password", "full_name",
    "timezone") with every problem found, so a form or the API can show them
    all at once. Emails are stored lower-cased: logins are case-insensitive.

    The learner's first recommendations follow through the outbox, so the dashboard
    (a read) never has to compute them.
    """
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = ["An account with this email address already exists."]
    if len(full_name) > User._meta.get_field("full_name").max_length:
        errors["full_name"] = ["Use at most 150 characters."]
    if not _timezone_is_known(timezone):
        errors["timezone"] = [f"Unknown time zone “{timezone}”."]
    try:
        # The unsaved user lets the similarity validator compare with email and name.
        validate_password(password, user=User(email=email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, role=User.Role.LEARNER
            )
            LearnerProfile.objects.filter(user=user).update(timezone=timezone)
            defer(LEARNER_FOLLOW_UP, learner_id=user.pk)
    except IntegrityError as exc:
        # Two sign-ups racing for one address: the unique index decides.
        raise ValidationError(
            {"email": ["An account with this email address already exists."]}
        ) from exc
    user.profile.refresh_from_db()
    return user


# Where the profile keeps the moment its difficulty level last changed (ISO 8601).
DIFFICULTY_CHANGED_AT = "difficulty_changed_at"


def record_difficulty_change(*, profile: LearnerProfile, now: datetime) -> None:
    """Note on the (unsaved) profile that its difficulty level changed at `now`.

    The difficulty advice judges only quizzes submitted after this moment, so a level is
    never changed again on evidence gathered at the previous one.
    """
    profile.behavioral_metrics = {
        **profile.behavioral_metrics,
        DIFFICULTY_CHANGED_AT: now.isoformat(),
    }


def set_difficulty(*, profile: LearnerProfile, level: str, now: datetime) -> bool:
    """Move the (unsaved) profile to `level`, recording when; False if it is already there."""
    if level == profile.current_difficulty:
        return False
    profile.current_difficulty = level
    record_difficulty_change(profile=profile, now=now)
    return True


def difficulty_changed_at(profile: LearnerProfile | None) -> datetime | None:
    """When the profile's difficulty level last changed; None if never (or no profile)."""
    value = profile.behavioral_metrics.get(DIFFICULTY_CHANGED_AT) if profile else None
    return datetime.fromisoformat(value) if value else None
