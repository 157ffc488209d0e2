"""The API's renderers.

The JSON renderer never fails on what it echoes back: a 400 may quote the client's own
input; if that held a lone surrogate, UTF-8 encoding would raise and turn a clear 400 into
a 500. Such text is rendered with "?" in place of what cannot be encoded (and NaN/infinity
as null).

The browsable API's breadcrumbs leave out the catch-all 404 view, which resolves every
path no endpoint owns: /api/v1/ai/dashboard/x read "Api Not Found > Dashboard > Api Not
Found" (QA walk, issue 13), the first one a link to a page that is a 404 itself.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import renderers

# The browsable API's title for an unmatched path (skillstudio.api_errors.ApiNotFoundView;
# was its class name: "Api Not Found"). Here: the renderer is loaded with DRF's settings,
# before the views it could import.
NOT_FOUND_NAME = "No API endpoint here"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except (UnicodeEncodeError, ValueError):
            return super().render(_scrub(data), accepted_media_type, renderer_context)


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def get_breadcrumbs(self, request) -> list[tuple[str, str]]:
        crumbs = super().get_breadcrumbs(request)
        # The current page keeps its crumb (its name says where the reader is).
        return [
            (name, url)
            for index, (name, url) in enumerate(crumbs)
            if name != NOT_FOUND_NAME or index == len(crumbs) - 1
        ]
