"""Login lockout (django-axes) as every login door answers it.

Settings point axes here: ``AXES_USERNAME_CALLABLE`` (one account key for the
HTML, admin and API logins) and ``AXES_LOCKOUT_CALLABLE`` (the 429 answer).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every login door passes the request (the lockout counts per address). A
    call without one (the test client's login(), a shell) has no address to
    count against, so it is left to the next backend instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """The account a login attempt names, the same for every door (axes' username key).

    The HTML and admin forms post ``username``, the API login ``email``; the
    lockout must count both against one account, case-insensitively.
    """
    credentials = credentials or {}
    name = credentials.get("username") or credentials.get("email")
    if not name:
        data = getattr(request, "data", None) or request.POST
        name = data.get("username") or data.get("email") if hasattr(data, "get") else ""
    return str(name or "").strip().lower()[:254]


def lockout_message() -> tuple[str, str]:
    """(sentence, Retry-After seconds) for a locked-out login, the same on every door."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = (
        "Too many failed sign-in attempts for this account or from this address. "
        f"Try again in {seconds // 60} minutes."
    )
    return message, str(seconds)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What a locked-out address or account gets (axes' lockout callable): 429, in
    the API's error shape under /api/, otherwise the login page with a message."""
    message, retry_after = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429
        )
    else:
        response = render(
            request,
            "registration/login.html",
            {"locked_out": message, "form": None, "next": ""},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
