"""The API's JSON renderer, which never fails on what it echoes back.

A 400 may quote the client's own input; if that held a lone surrogate, UTF-8
encoding would raise and turn a clear 400 into a 500. Such text is rendered
with "?" in place of what cannot be encoded (and NaN/infinity as null).
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework import renderers


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
