from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.api import AuthRateThrottle
from accounts.backends import USER_BACKEND
from accounts.forms import AccountForm, PasswordResetRequestForm, SignUpForm
from accounts.services import (
    email_notifications,
    password_reset_send,
    profile_update,
    user_register,
)
from learning.models import LearningGoal
from learning.selectors import goals_for
from skillstudio.access import is_instructor
from skillstudio.forms import attach_service_errors


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("learning:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
                timezone=form.cleaned_data["timezone"],
            )
        except ValidationError as error:
            # The service owns the rules (unique email, password policy); show its message
            # on the field it names, or on the form.
            attach_service_errors(form, error)
        else:
            login(request, user, backend=USER_BACKEND)
            messages.success(request, "Welcome to SkillStudio! Let's set your first goal.")
            return redirect("learning:onboarding")
    status = 400 if form.errors else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


def _throttled(request: HttpRequest, view: object) -> int | None:
    """Seconds to wait when the "auth" rate limit for this client is used up, else None."""
    throttle = AuthRateThrottle()
    if throttle.allow_request(request, view):
        return None
    return int(throttle.wait() or 60)


@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """/admin/login/ under the same per-client rate limit as the other login doors
    (the lockout itself comes from axes, which sees every authenticate())."""
    from django.contrib import admin

    if request.method == "POST":
        wait = _throttled(request, admin_login)
        if wait is not None:
            response = HttpResponse(
                f"Too many sign-in attempts from here. Please wait {wait} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request)


admin_login.throttle_scope = "auth"  # type: ignore[attr-defined]


class ThrottledLoginView(auth_views.LoginView):
    """Log in with email and password, under the API's "auth" rate limit per client.

    The same throttle class as POST /api/v1/auth/login (and so the same rate
    setting), failing open when Redis is down so nobody is locked out by an outage.
    """

    redirect_authenticated_user = True
    throttle_scope = "auth"

    def get_default_redirect_url(self) -> str:
        """Where to land without a (safe) ``next``: instructors on /teach/, learners on /learn/."""
        if is_instructor(self.request.user):
            return resolve_url("teach:courses")
        return super().get_default_redirect_url()

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = _throttled(request, self)
        if wait is not None:
            context = self.get_context_data(form=self.form_class(request), throttled_for=wait)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The learner's own account: profile, study preferences, e-mails, goals, password."""
    profile = request.user.profile
    preferences = profile.preferences
    initial = {
        "full_name": request.user.full_name,
        "timezone": profile.timezone,
        "weekly_hours": preferences.get("weekly_hours"),
        "content_types": preferences.get("content_types", []),
        "study_days": preferences.get("study_days", []),
        "notifications": sorted(email_notifications(profile)),
    }
    form = AccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(
                profile=profile,
                now=timezone.now(),
                full_name=form.cleaned_data["full_name"].strip(),
                timezone=form.cleaned_data["timezone"],
                preferences=form.preferences(preferences),
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:account")
    goals = list(goals_for(user=request.user).order_by("status", "-created_at"))
    return render(
        request,
        "registration/account.html",
        {
            "form": form,
            "active_goals": [g for g in goals if g.status == LearningGoal.Status.ACTIVE],
            "past_goals": [g for g in goals if g.status != LearningGoal.Status.ACTIVE],
        },
        status=400 if form.errors else 200,
    )


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail, under the "password_reset" rate limit per client.

    The page answers the same whether or not the address has an account.
    """

    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")
    throttle_scope = "password_reset"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = _throttled(request, self)
        if wait is not None:
            context = self.get_context_data(form=self.get_form(), throttled_for=wait)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PasswordResetRequestForm) -> HttpResponse:
        password_reset_send(
            email=form.cleaned_data["email"],
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
        )
        return redirect(self.success_url)
