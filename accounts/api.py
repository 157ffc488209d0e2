"""Auth and profile API: register, JWT login/refresh/logout, the caller's profile."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from redis.exceptions import RedisError
from rest_framework import exceptions, generics, permissions, status
from rest_framework import serializers as serializers_module
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from accounts import privacy
from accounts.lockout import lockout_message
from accounts.models import DataExport, LearnerProfile
from accounts.serializers import (
    DataExportSerializer,
    DetailSerializer,
    ErasureInputSerializer,
    ErasureSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    ProfileSerializer,
    ProfilingSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.services import (
    password_reset_confirm,
    password_reset_send,
    profile_update,
    user_register,
)
from skillstudio.client_ip import client_ip

logger = logging.getLogger(__name__)


class AuthRateThrottle(ScopedRateThrottle):
    """Scope "auth" throttle that fails open: Redis being down must not lock users out.

    Keyed on the trusted client address (TRUSTED_PROXY_COUNT), never on a raw
    X-Forwarded-For that the client could rotate.
    """

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Auth throttle skipped: Redis unavailable")
            return True


class ThrottledAuthMixin:
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"


class RegisterView(ThrottledAuthMixin, generics.GenericAPIView):
    serializer_class = RegisterSerializer

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request: Request) -> Response:
        """Create a learner account; then log in for tokens."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LockedOut(exceptions.Throttled):
    default_code = "locked_out"


class LoginView(ThrottledAuthMixin, TokenObtainPairView):
    """Email + password -> access and refresh JWTs."""

    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            response = super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            self._raise_if_locked_out(request)
            raise
        self._raise_if_locked_out(request)
        return response

    @staticmethod
    def _raise_if_locked_out(request: Request) -> None:
        # axes flags a lockout on the DRF request, where its middleware cannot
        # see it: answer it here, in the API's error shape.
        if getattr(request, "axes_locked_out", False):
            message, retry_after = lockout_message()
            raise LockedOut(wait=int(retry_after), detail=message)


class RefreshView(TokenRefreshView):
    """Refresh token -> new access token (and a rotated refresh token)."""

    authentication_classes: list = []


class LogoutView(TokenBlacklistView):
    """Revoke a refresh token: it can no longer be used to get access tokens."""

    authentication_classes: list = []


class ProfileView(generics.RetrieveUpdateAPIView):
    """The caller's profile: skill levels (read-only), preferences, time zone."""

    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> LearnerProfile:
        profile, _ = LearnerProfile.objects.select_related("user").get_or_create(
            user=self.request.user
        )
        return profile

    def perform_update(self, serializer: ProfileSerializer) -> None:
        data, profile = serializer.validated_data, serializer.instance
        fields = {name: data[name] for name in ("timezone",) if name in data}
        if "full_name" in data.get("user", {}):
            fields["full_name"] = data["user"]["full_name"]
        if "preferences" in data:
            # PATCH semantics inside the object too: keys not sent are kept.
            fields["preferences"] = {**profile.preferences, **data["preferences"]}
        serializer.instance = profile_update(profile=profile, now=timezone.now(), **fields)


class PasswordResetRequestView(ThrottledAuthMixin, generics.GenericAPIView):
    """E-mail a password reset link; the answer is the same whether the address is known."""

    serializer_class = PasswordResetRequestSerializer
    throttle_scope = "password_reset"

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: DetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_send(
            email=serializer.validated_data["email"],
            domain=request.get_host(),
            use_https=request.is_secure(),
        )
        return Response(
            {"detail": "If an account has this address, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(ThrottledAuthMixin, generics.GenericAPIView):
    """Set a new password with the uid and token from the reset e-mail's link."""

    serializer_class = PasswordResetConfirmSerializer

    @extend_schema(request=PasswordResetConfirmSerializer, responses={200: DetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response({"detail": "Your password is changed. Log in with it."})


class ProfileExportView(generics.GenericAPIView):
    """Your data export: GET its state (and download link when ready), POST to ask for one.

    The ZIP is built by a worker (it may hold years of activity); POST answers 202 at once,
    and asking again while one is being prepared returns that one.
    """

    serializer_class = DataExportSerializer

    @extend_schema(responses={200: DataExportSerializer, 404: None})
    def get(self, request: Request) -> Response:
        export = privacy.latest_export(user=request.user)
        if export is None:
            raise exceptions.NotFound("You have not asked for an export yet: POST to ask.")
        return Response(self.get_serializer(export).data)

    @extend_schema(request=None, responses={202: DataExportSerializer})
    def post(self, request: Request) -> Response:
        export = privacy.data_export_request(learner=request.user, now=timezone.now())
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportGoneError(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This download link has expired. Ask for a new export."
    default_code = "gone"


class ProfileExportDownloadView(generics.GenericAPIView):
    """The export's ZIP, for its owner only, until the link expires (then 410)."""

    @extend_schema(
        operation_id="v1_profile_export_download",
        responses={(200, "application/zip"): bytes, 404: None, 410: None},
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        try:
            export = privacy.export_for_download(user=request.user, token=token, now=timezone.now())
        except DataExport.DoesNotExist as error:
            raise Http404("No such export.") from error
        except privacy.ExportGone as error:
            raise ExportGoneError from error
        response = HttpResponse(bytes(export.content), content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="skillstudio-export-{export.ready_at:%Y%m%d}.zip"'
        )
        response["Cache-Control"] = "private, no-store"
        return response


class ProfilingView(generics.GenericAPIView):
    """Opt out of (or back into) dropout-risk scoring and segments."""

    serializer_class = ProfilingSerializer

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile, _ = LearnerProfile.objects.get_or_create(user=request.user)
        profile = privacy.profiling_opt_out_set(
            profile=profile,
            opt_out=serializer.validated_data["profiling_opt_out"],
            now=timezone.now(),
        )
        return Response({"profiling_opt_out": profile.profiling_opt_out})


class ErasureView(generics.GenericAPIView):
    """Your account's erasure: GET the open request, POST your password to ask for it
    (erased after the grace period), DELETE to cancel it during the grace period."""

    serializer_class = ErasureInputSerializer

    @extend_schema(responses={200: ErasureSerializer, 404: None})
    def get(self, request: Request) -> Response:
        erasure = privacy.open_erasure(user=request.user)
        if erasure is None:
            raise exceptions.NotFound("Your account is not scheduled for erasure.")
        return Response(ErasureSerializer(erasure).data)

    @extend_schema(responses={202: ErasureSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            erasure = privacy.erasure_request(
                user=request.user,
                password=serializer.validated_data["password"],
                now=timezone.now(),
            )
        except DjangoValidationError as error:
            raise serializers_module.ValidationError(error.message_dict) from error
        return Response(ErasureSerializer(erasure).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={204: None, 404: None})
    def delete(self, request: Request) -> Response:
        if not privacy.erasure_cancel(user=request.user):
            raise exceptions.NotFound("Your account is not scheduled for erasure.")
        return Response(status=status.HTTP_204_NO_CONTENT)
