from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from accounts.views import admin_login
from catalog.views import home
from skillstudio.health import healthz

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("catalog/", include("catalog.urls")),
    path("learn/", include("learning.urls")),
    path("assessments/", include("assessments.urls")),
    path("insights/", include("insights.urls")),
    path("teach/", include("insights.instructor_urls")),
    path("api/", include("skillstudio.api_urls")),
    path("lti/", include("lti.urls")),
]

handler400 = "skillstudio.errors.bad_request"
handler403 = "skillstudio.errors.permission_denied"
handler500 = "skillstudio.errors.server_error"
