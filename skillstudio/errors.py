"""Error answers outside DRF's own handling, in the right shape for the route.

Under /api/ every error is the API's ``{"error": {"code", "message", "fields"}}``
body (see skillstudio.api_errors), including those Django answers before or
after a DRF view runs: an unhandled exception (500), a body over the size limit
(413), too many fields, a bad Host. Pages get the HTML templates.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


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
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_response(
            request, 403, "permission_denied", "You do not have permission to do this."
        )
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return error_response(
            request, 500, "server_error", "Something went wrong on our side; it has been logged."
        )
    return defaults.server_error(request)
