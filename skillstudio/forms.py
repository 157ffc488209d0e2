"""Helpers shared by the HTML forms of every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def attach_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the field it names, else above the form.

    Services own the rules and raise errors keyed by their argument names; the
    HTML form only parses input, so the two speak the same field names.
    """
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)
