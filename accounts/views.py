from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

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
