"""LTI 1.3 doors: JWKS, OIDC login initiation, launch, deep-linking picker.

Validation (state, signature, expiry, nonce, registration, deployment) is pylti1p3's, through
django-lti; what a launch means is lti.services. Every refusal is a 4xx with the reason and
leaves nothing behind: the launch runs in one transaction, rolled back on refusal.
"""

from __future__ import annotations

import logging

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lti_tool.models import LtiLaunch
from lti_tool.utils import DjangoToolConfig, get_launch_from_request, sync_data_from_launch
from lti_tool.views import LtiLaunchBaseView
from lti_tool.views import jwks as lti_jwks
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from accounts.backends import USER_BACKEND
from lti import services
from lti.middleware import EMBED_ORIGIN

logger = logging.getLogger(__name__)

DEEP_LINK_SESSION = "lti_deep_link_launch"
TEACHER_ROLES = ("Instructor", "Administrator", "ContentDeveloper")

jwks = lti_jwks


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest, registration_uuid) -> HttpResponse:
    """Third-party initiated login: answer the platform with a redirect carrying state and
    nonce. The launch always returns to our own launch URL, whatever target the platform names.
    """
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("iss") or not params.get("login_hint"):
        return HttpResponseBadRequest("LTI login needs iss and login_hint.")
    oidc = DjangoOIDCLogin(
        request,
        DjangoToolConfig(registration_uuid),
        launch_data_storage=DjangoCacheDataStorage(),
    )
    try:
        return oidc.redirect(request.build_absolute_uri(reverse("lti:launch")))
    except LtiException as error:
        return HttpResponseBadRequest(f"LTI login refused: {error}")


def _is_teacher(lti_launch: LtiLaunch) -> bool:
    roles = lti_launch.roles_claim or []
    return any(role.rsplit("#", 1)[-1] in TEACHER_ROLES for role in roles)


def _embed_origin(request: HttpRequest, lti_launch: LtiLaunch) -> str:
    """The platform page framing us: the launch form's Origin, else the issuer's origin."""
    origin = request.headers.get("Origin", "")
    if origin.startswith(("https://", "http://")):
        return origin
    return services.platform_origin(lti_launch.registration.issuer)


@method_decorator((csrf_exempt, xframe_options_exempt), name="dispatch")
class LaunchView(LtiLaunchBaseView):
    """Resource-link and deep-linking launches (POST id_token + state from the platform)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            with transaction.atomic():
                lti_launch = get_launch_from_request(request)
                refusal = self._refusal(lti_launch)
                if refusal is not None:
                    transaction.set_rollback(True)
                    return refusal
                sync_data_from_launch(lti_launch)
                request.session.flush()
                request.session[EMBED_ORIGIN] = _embed_origin(request, lti_launch)
                if lti_launch.is_resource_launch:
                    return self.handle_resource_launch(request, lti_launch)
                if lti_launch.is_deep_link_launch:
                    return self.handle_deep_linking_launch(request, lti_launch)
                transaction.set_rollback(True)
                return HttpResponseBadRequest("This LTI message type is not supported.")
        except LtiException as error:
            logger.info("LTI launch refused: %s", error)
            return HttpResponseForbidden(f"LTI launch refused: {error}")
        except services.LaunchRefused as error:
            return HttpResponseBadRequest(str(error))

    def _refusal(self, lti_launch: LtiLaunch) -> HttpResponse | None:
        problem = services.lti_launch_check(lti_launch=lti_launch)
        return HttpResponseForbidden(f"LTI launch refused: {problem}") if problem else None

    def handle_resource_launch(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        now = timezone.now()
        target = services.launch_target(
            lti_launch.get_claim("https://purl.imsglobal.org/spec/lti/claim/custom")
        )
        lti_user = lti_launch.user
        user = services.lti_account_for(lti_user=lti_user, now=now)
        services.lti_grade_link_record(
            lti_user=lti_user, target=target, ags_claim=lti_launch.ags_claim, now=now
        )
        origin = request.session[EMBED_ORIGIN]
        login(request, user, backend=USER_BACKEND)
        request.session[EMBED_ORIGIN] = origin
        return redirect(target.url)

    def handle_deep_linking_launch(
        self, request: HttpRequest, lti_launch: LtiLaunch
    ) -> HttpResponse:
        if not _is_teacher(lti_launch):
            transaction.set_rollback(True)
            return HttpResponseForbidden("Only a teacher can pick SkillStudio content.")
        request.session[DEEP_LINK_SESSION] = lti_launch.get_launch_id()
        return redirect("lti:deep_link")


@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest) -> HttpResponse:
    """The teacher picks a course, lesson or quiz; the answer goes back to the platform."""
    launch_id = request.session.get(DEEP_LINK_SESSION)
    if not launch_id:
        return HttpResponseForbidden("Open this page from your learning platform.")
    try:
        lti_launch = get_launch_from_request(request, launch_id)
    except LtiException:
        return HttpResponseForbidden("This content selection has expired: start it again.")
    targets = services.pickable_targets()
    if request.method == "GET":
        return render(request, "lti/deep_link.html", {"targets": targets})
    chosen = request.POST.get("target", "")
    try:
        target = services.launch_target({services.TARGET_PARAMETER: chosen})
    except services.LaunchRefused as error:
        return render(
            request, "lti/deep_link.html", {"targets": targets, "error": str(error)}, status=400
        )
    title = _target_title(target)
    resource = (
        DeepLinkResource()
        .set_url(request.build_absolute_uri(reverse("lti:launch")))
        .set_title(title)
        .set_custom_params({services.TARGET_PARAMETER: target.parameter})
    )
    if target.graded_assessment is not None:
        resource.set_lineitem(
            LineItem().set_label(title).set_score_maximum(100).set_resource_id(target.parameter)
        )
    message_launch = lti_launch.get_message_launch()
    deep_link_ = message_launch.get_deep_link()
    jwt_value = deep_link_.get_response_jwt([resource])
    return_url = message_launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]["deep_link_return_url"]
    del request.session[DEEP_LINK_SESSION]
    response = render(
        request, "lti/deep_link_return.html", {"return_url": return_url, "jwt": jwt_value}
    )
    # The form posts to the platform: allow that origin as a form target for this page only.
    response._csp_update = {"form-action": [services.platform_origin(return_url)]}
    return response


def _target_title(target: services.LaunchTarget) -> str:
    if target.kind == "course":
        return target.course.title
    if target.kind == "lesson":
        return target.lesson.title
    return target.assessment.title
