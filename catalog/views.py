from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import Course


def home(request: HttpRequest) -> HttpResponse:
    courses = (
        Course.objects.published()
        .select_related("owner")
        .prefetch_related("skills")
        .order_by("title")
    )
    return render(request, "catalog/home.html", {"courses": courses})
