"""Error answers outside DRF's own handling, in the right shape for the route.

Under /api/ every error is the API's ``{"error": {"code", "message", "fields"}}``
body (see skillstudio.api_errors), including those Django answers before or
after a DRF view runs: an unhandled exception (500), a body over the size limit
(413), too many fields, a bad Host. Pages get the HTML templates.
"""

from __future__ import annotations

import sys

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

# Seconds a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 30


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    if is_api(request):
        fields = {field: [message]} if field else {}
        response: HttpResponse = JsonResponse(
            {"error": {"code": code, "message": message, "fields": fields}}, status=status
        )
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: SuspiciousOperation and friends, raised anywhere."""
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413, "too_large", "The request body is too large.")
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return error_response(request, 413, "too_large", "The request has too many fields.")
    if is_api(request):
        return error_response(request, 400, "bad_request", "Bad request.")
    if type(exception) is BadRequest and exception.args:
        # Raised by our own views with a message for the user ("The goal to return to
        # must be a goal id."): say it.
        return error_response(request, 400, "bad_request", str(exception))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_response(
            request, 403, "permission_denied", "You do not have permission to do this."
        )
    return defaults.permission_denied(request, exception)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 + Retry-After: the database is unreachable (an outage, not a bug).

    The page is rendered without a request context: the session, the user and
    anything else that needs the database are out of reach.
    """
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api(request):
        return error_response(
            request,
            503,
            "unavailable",
            "The service is briefly unavailable; please retry shortly.",
            headers=headers,
        )
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = headers["Retry-After"]
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it while handling the exception, so the cause is
    at hand: a lost database connection is a 503 with a retry hint."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return service_unavailable(request)
    if is_api(request):
        return error_response(
            request, 500, "server_error", "Something went wrong on our side; it has been logged."
        )
    return defaults.server_error(request)
