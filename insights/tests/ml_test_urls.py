"""The project's URLs plus the prediction API where skillstudio.api_urls will mount it."""

from __future__ import annotations

from django.urls import include, path

from skillstudio.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/ml/", include("insights.ml_urls")), *project_urlpatterns]
