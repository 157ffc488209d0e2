"""Request-level guards that apply to every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from skillstudio.errors import error_response


class RejectNulMiddleware:
    """A NUL in the path, the query string or a form field is a 400, on every route.

    PostgreSQL text cannot hold NUL: without this, any filter, slug or form field
    carrying one would reach the database and fail there as a 500. (JSON bodies
    are checked, field by field, by skillstudio.parsers.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._nul_field(request)
        if field is not None:
            return error_response(
                request, 400, "invalid", "Text must not contain NUL characters.", field=field
            )
        return self.get_response(request)

    @staticmethod
    def _nul_field(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "?")[:100]
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for name, values in request.POST.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return name.replace("\x00", "?")[:100]
        return None
