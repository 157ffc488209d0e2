from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def words(value: object) -> str:
    """Machine labels as words: "on_track" -> "On track"."""
    return str(value or "").replace("_", " ").capitalize()
