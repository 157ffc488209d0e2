"""Account writes shared by the sign-up page, the API and the commands."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from numbers import Real
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts.models import LearnerProfile, User
from catalog.models import Lesson
from skillstudio.data_versions import learners_changed
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


def record_difficulty_change(*, profile: LearnerProfile, now: datetime) -> None:
    """Note on the (unsaved) profile that its difficulty level changed at `now`.

    The difficulty advice judges only quizzes submitted after this moment, so a level is
    never changed again on evidence gathered at the previous one.
    """
    profile.difficulty_changed_at = now


def set_difficulty(*, profile: LearnerProfile, level: str, now: datetime) -> bool:
    """Move the (unsaved) profile to `level`, recording when; False if it is already there."""
    if level == profile.current_difficulty:
        return False
    profile.current_difficulty = level
    record_difficulty_change(profile=profile, now=now)
    return True


def difficulty_changed_at(profile: LearnerProfile | None) -> datetime | None:
    """When the profile's difficulty level last changed; None if never (or no profile)."""
    return profile.difficulty_changed_at if profile else None


# What a learner may state about how they study (LearnerProfile.preferences).
STUDY_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONTENT_TYPES = tuple(Lesson.ContentType.values)
WEEKLY_HOURS_RANGE = (0.5, 80)
# E-mails a learner may turn off (password reset mails are always sent: they are asked for).
NOTIFICATION_KINDS = ("instructor_messages", "study_reminders")
PREFERENCE_KEYS = ("weekly_hours", "content_types", "study_days", "notifications")
_UNCHANGED: Any = object()


def _list_problems(name: str, value: Any, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    if not isinstance(value, list) or len(value) > len(allowed):
        return {f"preferences.{name}": [f"Give a list of at most {len(allowed)} values."]}
    return {
        f"preferences.{name}.{index}": [f"“{str(item)[:40]}” is not one of {', '.join(allowed)}."]
        for index, item in enumerate(value)
        if item not in allowed
    }


def profile_problems(
    *,
    timezone: Any = _UNCHANGED,
    preferences: Any = _UNCHANGED,
    current_difficulty: Any = _UNCHANGED,
    full_name: Any = _UNCHANGED,
) -> dict[str, list[str]]:
    """Every problem with these profile values, keyed by field (empty when valid).

    Nested preference problems are keyed ``preferences.<key>[.<index>]``. The admin form
    shows them on its fields; ``profile_update`` raises them.
    """
    errors: dict[str, list[str]] = {}
    if timezone is not _UNCHANGED and not (
        isinstance(timezone, str) and len(timezone) <= 64 and _timezone_is_known(timezone)
    ):
        errors["timezone"] = [
            f"“{str(timezone)[:64]}” is not a known time zone (use an IANA name like Europe/Paris)."
        ]
    if current_difficulty is not _UNCHANGED and (
        current_difficulty not in LearnerProfile.Difficulty.values
    ):
        errors["current_difficulty"] = [f"Choose one of {', '.join(LearnerProfile.Difficulty)}."]
    if full_name is not _UNCHANGED and (
        not isinstance(full_name, str)
        or len(full_name) > User._meta.get_field("full_name").max_length
    ):
        errors["full_name"] = ["Use at most 150 characters."]
    if preferences is _UNCHANGED:
        return errors
    if not isinstance(preferences, dict):
        errors["preferences"] = ['Give an object like {"weekly_hours": 5}.']
        return errors
    for key in sorted(set(preferences) - set(PREFERENCE_KEYS))[:10]:
        errors[f"preferences.{key}"] = ["Unknown preference."]
    if "weekly_hours" in preferences:
        hours, (low, high) = preferences["weekly_hours"], WEEKLY_HOURS_RANGE
        if isinstance(hours, bool) or not isinstance(hours, Real) or not low <= hours <= high:
            errors["preferences.weekly_hours"] = [f"Give a number of hours from {low} to {high}."]
    if "content_types" in preferences:
        errors.update(_list_problems("content_types", preferences["content_types"], CONTENT_TYPES))
    if "study_days" in preferences:
        errors.update(_list_problems("study_days", preferences["study_days"], STUDY_DAYS))
    if "notifications" in preferences:
        errors.update(
            _list_problems("notifications", preferences["notifications"], NOTIFICATION_KINDS)
        )
    return errors


def email_notifications(profile: LearnerProfile | None) -> frozenset[str]:
    """The kinds of e-mail (NOTIFICATION_KINDS) this learner agreed to receive.

    A learner who never chose gets them all; choosing none is an empty list. Every
    sender of an optional e-mail asks this before sending.
    """
    if profile is None:
        return frozenset()
    chosen = profile.preferences.get("notifications")
    if chosen is None:
        return frozenset(NOTIFICATION_KINDS)
    return frozenset(kind for kind in chosen if kind in NOTIFICATION_KINDS)


def password_reset_send(*, email: str, domain: str, use_https: bool) -> None:
    """E-mail a one-time reset link to the active account with this address, if any.

    Says nothing about whether the address has an account (both doors answer alike);
    the link expires after PASSWORD_RESET_TIMEOUT and once the password changes.
    """
    from django.contrib.auth.forms import PasswordResetForm

    form = PasswordResetForm(data={"email": (email or "").strip()})
    if not form.is_valid():
        return
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
    )


def profile_update(
    *,
    profile: LearnerProfile,
    now: datetime,
    timezone: str = _UNCHANGED,
    preferences: dict[str, Any] = _UNCHANGED,
    current_difficulty: str = _UNCHANGED,
    full_name: str = _UNCHANGED,
    onboarded: bool = False,
) -> LearnerProfile:
    """Change what a learner (or an admin) may set on a profile; arguments left out stay.

    ``preferences`` replaces the stored object (a door with PATCH semantics merges first).
    A changed ``current_difficulty`` records when (``record_difficulty_change``), so the
    difficulty advice judges only evidence gathered at the new level. ``onboarded`` marks
    the end of onboarding once (the first date is kept). Raises ValidationError keyed by
    field (``profile_problems``) with nothing stored. Moves the learner's data version on.
    """
    errors = profile_problems(
        timezone=timezone,
        preferences=preferences,
        current_difficulty=current_difficulty,
        full_name=full_name,
    )
    if errors:
        raise ValidationError(errors)
    changed = ["updated_at"]
    with transaction.atomic():
        if timezone is not _UNCHANGED:
            profile.timezone = timezone
            changed.append("timezone")
        if preferences is not _UNCHANGED:
            profile.preferences = preferences
            changed.append("preferences")
        if (
            current_difficulty is not _UNCHANGED
            and current_difficulty != profile.current_difficulty
        ):
            profile.current_difficulty = current_difficulty
            record_difficulty_change(profile=profile, now=now)
            # record_difficulty_change decides where the moment is kept: save every column.
            changed = None
        if onboarded and profile.onboarded_at is None:
            profile.onboarded_at = now
            if changed is not None:
                changed.append("onboarded_at")
        # Only the columns set here: the analytics jobs write other columns concurrently.
        profile.save(update_fields=changed)
        if full_name is not _UNCHANGED and full_name != profile.user.full_name:
            profile.user.full_name = full_name
            profile.user.save(update_fields=["full_name"])
        learners_changed([profile.user_id])
    return profile


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link's uid and token (the same check as the web page).

    Raises ValidationError ("token" when the link is invalid, used or expired; "new_password"
    with the password policy's messages). Changing the password voids the token.
    """
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["This reset link is invalid or has expired."]})
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user
