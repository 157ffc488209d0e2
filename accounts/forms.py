from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """IANA zones for a <select>; cached because the tz database does not change at runtime."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


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
        self.fields["timezone"].choices = timezone_choices()
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"


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
