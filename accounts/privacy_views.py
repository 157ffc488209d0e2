"""Data-rights pages (accounts.privacy): export, profiling opt-out, account deletion.

Doors only: each view parses its form and calls one function of ``accounts.privacy``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import privacy
from accounts.forms import ErasureForm, ProfilingForm
from accounts.models import DataExport, LearnerProfile
from skillstudio.forms import attach_service_errors


def privacy_context(request: HttpRequest, **extra) -> dict:
    """What ``accounts/_privacy_section.html`` needs; another page including it merges this."""
    now = timezone.now()
    export = privacy.latest_export(user=request.user)
    # Read only: a GET never creates the profile (every account has one from sign-up).
    profile = LearnerProfile.objects.filter(user=request.user).first()
    return {
        "export": export,
        "export_token": (
            privacy.data_export_token(export)
            if export is not None
            and export.status == DataExport.Status.READY
            and export.expires_at
            and now < export.expires_at
            else None
        ),
        "profile": profile,
        "erasure": privacy.open_erasure(user=request.user),
        "erasure_form": extra.pop("erasure_form", None) or ErasureForm(),
        "grace_days": privacy.erasure_grace().days,
        "export_ttl_hours": int(privacy.export_ttl().total_seconds() // 3600),
        "current": "accounts:privacy",
        **extra,
    }


@login_required
@require_GET
@never_cache
def privacy_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html", privacy_context(request))


@login_required
@require_POST
def export_request(request: HttpRequest) -> HttpResponse:
    privacy.data_export_request(learner=request.user, now=timezone.now())
    messages.success(
        request, "Your export is being prepared. Reload this page in a minute to download it."
    )
    return redirect("accounts:privacy")


@login_required
@require_GET
@never_cache
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        export = privacy.export_for_download(user=request.user, token=token, now=timezone.now())
    except DataExport.DoesNotExist as error:
        raise Http404("No such export.") from error
    except privacy.ExportGone:
        return HttpResponse(
            "This download link has expired. Ask for a new export on your privacy page.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(bytes(export.content), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="skillstudio-export-{export.ready_at:%Y%m%d}.zip"'
    )
    return response


@login_required
@require_POST
def profiling_update(request: HttpRequest) -> HttpResponse:
    form = ProfilingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to opt out or in.")
        return render(request, "accounts/privacy.html", privacy_context(request), status=400)
    profile, _ = LearnerProfile.objects.get_or_create(user=request.user)
    privacy.profiling_opt_out_set(
        profile=profile, opt_out=form.cleaned_data["opt_out"], now=timezone.now()
    )
    if form.cleaned_data["opt_out"]:
        messages.success(request, "You are opted out: no dropout-risk score and no segment.")
    else:
        messages.success(request, "You are opted in again from the next nightly run.")
    return redirect("accounts:privacy")


@login_required
@require_POST
def erasure_request(request: HttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            privacy.erasure_request(
                user=request.user, password=form.cleaned_data["password"], now=timezone.now()
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, "Your account is scheduled for deletion.")
            return redirect("accounts:privacy")
    return render(
        request, "accounts/privacy.html", privacy_context(request, erasure_form=form), status=400
    )


@login_required
@require_POST
def erasure_cancel(request: HttpRequest) -> HttpResponse:
    if privacy.erasure_cancel(user=request.user):
        messages.success(request, "Deletion cancelled: your account stays.")
    return redirect("accounts:privacy")
