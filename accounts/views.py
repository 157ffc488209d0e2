from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.api import AuthRateThrottle
from accounts.forms import SignUpForm
from accounts.services import user_register
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
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
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

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = _throttled(request, self)
        if wait is not None:
            context = self.get_context_data(form=self.form_class(request), throttled_for=wait)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)
