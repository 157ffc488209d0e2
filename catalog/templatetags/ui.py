from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

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


@register.simple_tag(takes_context=True)
def local_time(context, moment: datetime | None, fmt: str = "j M Y, H:i") -> str:
    """A moment in the signed-in user's own time zone, labelled with it ("4 Dec 2026, 14:05
    Europe/Berlin"); UTC, labelled, for anyone else."""
    if moment is None:
        return ""
    # Imported here: insights builds on catalog; template tags load late anyway.
    from insights.selectors import learner_timezone

    request = context.get("request")
    user = getattr(request, "user", None)
    zone = learner_timezone(user) if user is not None and user.is_authenticated else UTC
    label = getattr(zone, "key", "UTC")
    return f"{date_format(timezone.localtime(moment, zone), fmt)} {label}"
