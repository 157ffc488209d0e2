"""The API's JSON parser: the one place hostile JSON is turned away.

- nesting deeper than ``MAX_DEPTH`` (a 2 KB body of a thousand brackets would
  otherwise recurse through every serializer) is a 400;
- NaN, Infinity and numbers that overflow to infinity (``1e400``) are a 400;
- strings (keys or values) holding NUL or lone surrogates are a 400 naming the
  field, since PostgreSQL cannot store them and UTF-8 cannot encode them.

Endpoints that validate each item themselves (the events batch) use
``ItemwiseJSONParser``: depth still limited, odd values left for the items'
own validation so one bad item does not sink the rest.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers

MAX_DEPTH = 20


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def bad_string_reason(value: str) -> str | None:
    """Why ``value`` cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "Text must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (no lone surrogates)."
    return None


def check_values(data: Any, *, strings: bool = True) -> None:
    """Walk ``data`` without recursion: too deep is a ParseError, bad strings a
    ValidationError naming the dotted field (``responses.12.text``)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if strings and (reason := bad_string_reason(key)):
                    raise exceptions.ValidationError({_printable(path) or "body": [reason]})
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value)
            )
        elif strings and isinstance(value, str) and (reason := bad_string_reason(value)):
            raise exceptions.ValidationError({_printable(path) or "body": [reason]})


def _printable(path: str) -> str:
    """A field path safe to echo back (it may itself contain what we reject)."""
    return path.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")[:200]


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "The request body is too large."


class StrictJSONParser(parsers.JSONParser):
    strict_values = True

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        # DRF hands parsers the raw socket stream, bypassing Django's
        # DATA_UPLOAD_MAX_MEMORY_SIZE: enforce it here.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raw = b""
        else:
            raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError("The body is not valid UTF-8.") from None
        try:
            if self.strict_values:
                data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
            else:
                data = json.loads(text)
        except RecursionError:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error: {_printable(str(exc))}") from None
        check_values(data, strings=self.strict_values)
        return data


class ItemwiseJSONParser(StrictJSONParser):
    strict_values = False
