"""One error shape for every 4xx of the API, and its place in the OpenAPI schema.

Every client error is ``{"error": {"code": str, "message": str, "fields": {name: [str]}}}``.
Django's ValidationError (raised by services) is converted here, in one place,
so views never translate it themselves. Nested field errors are flattened to
dotted names (``"choices.1.text"``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers
from rest_framework.fields import get_error_detail
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from skillstudio.renderers import NOT_FOUND_NAME

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
# simplejwt says "Given token not valid for any token type"; say what to do instead.
SIGN_IN_AGAIN = (
    "This token is invalid, expired or revoked. Log in again (POST /api/v1/auth/login), or "
    "get a new access token with a valid refresh token (POST /api/v1/auth/refresh)."
)
# What any operation can answer with besides success: bad input, not signed in,
# not allowed, not found, wrong method, unsupported body type, throttled.
ERROR_STATUSES = ("400", "401", "403", "404", "405", "413", "415", "429", "500")


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"a": {"b": ["x"]}, "c": [{"d": ["y"]}]} -> {"a.b": ["x"], "c.0.d": ["y"]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [str(item) for item in items]}


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _message(detail: Any) -> str:
    """A sentence from any DRF detail, never a Python repr.

    simplejwt's InvalidToken carries {"detail": …, "code": …, "messages": […]}.
    """
    if isinstance(detail, dict):
        if "detail" in detail:
            return _message(detail["detail"])
        return _message(next(iter(detail.values()), "Request failed."))
    if isinstance(detail, list):
        return _message(detail[0]) if detail else "Request failed."
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = fields.pop(NON_FIELD, [])
        if general:
            message = general[0]
        elif fields:
            name, messages = next(iter(fields.items()))
            message = f"{name}: {messages[0]}"
        else:
            message = "Invalid input."
        if len(general) > 1:
            fields[NON_FIELD] = general
    else:
        fields = {}
        message = SIGN_IN_AGAIN if _code(exc) == "token_not_valid" else _message(exc.detail)
    response.data = {"error": {"code": _code(exc), "message": message, "fields": fields}}
    return response


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, throttled, …")
    message = serializers.CharField(help_text="A sentence a person can act on.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; dotted names for nested fields.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class SkillStudioAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the shared error body on every operation."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction=direction)
        for status in ERROR_STATUSES:
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    ErrorSerializer, status, direction=direction
                )
        return responses


class ApiNotFoundView(APIView):
    """Any unmatched path under /api/v1/ answers in the API's error shape, not HTML."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    schema = None  # not an operation: kept out of the OpenAPI document

    def get_view_name(self) -> str:
        return NOT_FOUND_NAME

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound("No API endpoint at this address.")

    get = post = put = patch = delete = _not_found
