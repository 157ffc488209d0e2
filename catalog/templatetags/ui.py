from __future__ import annotations

from django import template

from catalog.llm import provider_enabled

register = template.Library()


@register.filter
def words(value: object) -> str:
    """Machine labels as words: "on_track" -> "On track"."""
    return str(value or "").replace("_", " ").capitalize()


@register.simple_tag
def tutor_enabled() -> bool:
    """Whether the LLM tutor is configured: its buttons and boxes show only then."""
    return provider_enabled()
