from __future__ import annotations

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Instructors write Markdown; raw HTML in it (scripts, event handlers, javascript: links)
# must never reach a learner's browser, so the rendered HTML goes through nh3's allow-list.
_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]


@register.filter(name="markdown")
def render_markdown(text: str | None) -> SafeString:
    html = markdown_lib.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308
