"""Let an LTI session live in the platform's iframe, and only an LTI session.

A launch comes from another site and the pages it opens are shown in the platform's iframe:
browsers only send cookies marked ``SameSite=None; Secure`` there, and our default
``frame-ancestors 'none'`` / ``X-Frame-Options: DENY`` forbid the frame. For a session that an
LTI launch started (``EMBED_ORIGIN`` in the session, set by the launch view) this middleware
marks the session and CSRF cookies ``SameSite=None; Secure``, drops ``X-Frame-Options`` and
allows that platform's origin (only) in ``frame-ancestors``. Every other session keeps the
strict defaults. It sits first in MIDDLEWARE so it sees the headers and cookies the others set.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

EMBED_ORIGIN = "lti_embed_origin"
_FRAME_ANCESTORS = re.compile(r"frame-ancestors [^;]*")


class LtiEmbedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not (
            hasattr(session, "_session_cache") or settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            return response  # no session in play: do not load one (nor add Vary: Cookie)
        origin = session.get(EMBED_ORIGIN)
        if not origin:
            return response
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            if name in response.cookies:
                response.cookies[name]["samesite"] = "None"
                response.cookies[name]["secure"] = True
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
        for header in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
            if header in response:
                response[header] = _FRAME_ANCESTORS.sub(
                    f"frame-ancestors 'self' {origin}", response[header]
                )
        return response
