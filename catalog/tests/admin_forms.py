"""Turn a rendered admin change form (with its inlines) back into POST data."""

from __future__ import annotations

from typing import Any

from django.forms import BaseForm, ModelMultipleChoiceField, MultipleChoiceField


def _form_fields(form: BaseForm, data: dict[str, Any]) -> None:
    for name in form.fields:
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(form.fields[name], MultipleChoiceField | ModelMultipleChoiceField):
            data[key] = [str(v) for v in value or []]
        elif value is None:
            data[key] = ""
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        else:
            data[key] = str(value)


def admin_form_data(response: Any, **changes: Any) -> dict[str, Any]:
    """The POST body that re-submits the page unchanged, with ``changes`` applied."""
    data: dict[str, Any] = {}
    _form_fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_fields(formset.management_form, data)
        for form in formset.forms:
            _form_fields(form, data)
    data.update(changes)
    return data
