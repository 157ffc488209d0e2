from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import cache

from django import forms

from accounts.services import NOTIFICATION_KINDS, STUDY_DAYS
from catalog.models import Lesson

# The zones a person picks from: Area/City names and UTC, not the database's legacy aliases
# ("W-SU", "Etc/GMT-12", "localtime"). The API still accepts any IANA name, and a form keeps
# the zone a learner already has.
ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def _all_zones() -> frozenset[str]:
    """Cached: the tz database does not change at runtime."""
    return frozenset(zoneinfo.available_timezones())


@cache
def _area_zones() -> tuple[str, ...]:
    return tuple(
        sorted(name for name in _all_zones() if name == "UTC" or name.split("/")[0] in ZONE_AREAS)
    )


def timezone_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """Zones for a <select>, with ``keep`` (the learner's current zone) when it is a valid
    name outside the areas."""
    names = list(_area_zones())
    if keep and keep in _all_zones() and keep not in names:
        names = sorted([*names, keep])
    return [(name, name.replace("_", " ")) for name in names]


class SignUpForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150, required=False)
    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    timezone = forms.ChoiceField(label="Time zone", initial="UTC")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(
            keep=self.initial.get("timezone") or self.data.get("timezone")
        )
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        # static/js/timezone.js preselects the browser's zone; asked only here (and on
        # the account page), never again at onboarding.
        self.fields["timezone"].widget.attrs["data-browser-timezone"] = ""
        self.fields["timezone"].help_text = "Days and streaks follow this zone."


DAY_LABELS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
NOTIFICATION_LABELS = {
    "instructor_messages": "Messages from my instructors",
    "study_reminders": "Study reminders on my study days",
}


class AccountForm(forms.Form):
    """What a learner says about themselves; accounts.services.profile_update owns the rules."""

    full_name = forms.CharField(label="Your name", max_length=150, required=False)
    timezone = forms.ChoiceField(
        label="Time zone", help_text="Days, streaks and reminders follow this zone."
    )
    weekly_hours = forms.DecimalField(
        label="Hours per week you can study",
        min_value=Decimal("0.5"),
        max_value=Decimal("80"),
        decimal_places=1,
        required=False,
    )
    content_types = forms.MultipleChoiceField(
        label="Content you prefer",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    study_days = forms.MultipleChoiceField(
        label="Days you usually study",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notifications = forms.MultipleChoiceField(
        label="E-mails I want to receive",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Password reset e-mails are always sent when you ask for one.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(
            keep=self.initial.get("timezone") or self.data.get("timezone")
        )
        self.fields["content_types"].choices = Lesson.ContentType.choices
        self.fields["study_days"].choices = [(day, DAY_LABELS[day]) for day in STUDY_DAYS]
        self.fields["notifications"].choices = [
            (kind, NOTIFICATION_LABELS.get(kind, kind)) for kind in NOTIFICATION_KINDS
        ]
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"

    def preferences(self, current: dict) -> dict:
        """The stored preferences with this form's keys replaced (other keys are kept).

        Empty choices are left out (no preference), and so are notifications when the
        learner wants them all, which is what an absent key means (email_notifications).
        """
        data = self.cleaned_data
        preferences = {key: value for key, value in current.items() if key not in self.fields}
        if data.get("weekly_hours") is not None:
            preferences["weekly_hours"] = float(data["weekly_hours"])
        for key in ("content_types", "study_days"):
            if data[key]:
                preferences[key] = data[key]
        if set(data["notifications"]) != set(NOTIFICATION_KINDS):
            preferences["notifications"] = data["notifications"]
        return preferences


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"


class ErasureForm(forms.Form):
    """Deleting the account asks for the password again."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfilingForm(forms.Form):
    opt_out = forms.TypedChoiceField(
        label="Dropout-risk scoring and segments",
        choices=[("1", "Opt out"), ("0", "Opt in")],
        coerce=lambda value: value == "1",
    )
