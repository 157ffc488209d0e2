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


class ThrottledLoginView(auth_views.LoginView):
    """Log in with email and password, under the API's "auth" rate limit per client.

    The same throttle class as POST /api/v1/auth/login (and so the same rate
    setting), failing open when Redis is down so nobody is locked out by an outage.
    """

    redirect_authenticated_user = True
    throttle_scope = "auth"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = AuthRateThrottle()
        if not throttle.allow_request(request, self):
            wait = int(throttle.wait() or 60)
            context = self.get_context_data(form=self.form_class(request), throttled_for=wait)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)
