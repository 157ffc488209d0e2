from __future__ import annotations

from urllib.parse import urlsplit

import markdown as markdown_lib
import nh3
from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension

register = template.Library()

# Instructors write Markdown; raw HTML in it (scripts, event handlers, javascript: links)
# must never reach a learner's browser, so the rendered HTML goes through nh3's allow-list.
_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]


def image_allowed(src: str) -> bool:
    """Images come from this site (a relative URL) or an https host in LESSON_IMAGE_HOSTS.

    A remote image is a tracking pixel as much as an illustration: it tells its
    host who read which lesson when.
    """
    parts = urlsplit(src.strip())
    if not parts.scheme and not parts.netloc:
        return True
    return parts.scheme == "https" and parts.hostname in set(settings.LESSON_IMAGE_HOSTS)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not image_allowed(value):
        return None
    return value


class _RawHtmlAsText(Extension):
    """Raw HTML in the source is text, shown as typed: a question asking about <main> or
    `git revert <commit>` must show the tag, not lose it to the allow-list."""

    def extendMarkdown(self, md) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _render(text: str | None, extensions: list) -> str:
    html = markdown_lib.markdown(text or "", extensions=extensions, output_format="html")
    return nh3.clean(
        html, link_rel="noopener noreferrer nofollow", attribute_filter=_attribute_filter
    )


@register.filter(name="markdown")
def render_markdown(text: str | None) -> SafeString:
    return mark_safe(_render(text, _EXTENSIONS))  # noqa: S308


@register.filter(name="markdown_inline")
def render_markdown_inline(text: str | None) -> SafeString:
    """Markdown for a question's prompt or a choice: the same cleaning, raw HTML shown as
    text, no <p> wrapper."""
    html = _render(text, [*_EXTENSIONS, _RawHtmlAsText()])
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return mark_safe(html)  # noqa: S308
