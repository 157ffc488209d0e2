from django.urls import path

from lti import views

app_name = "lti"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("login/<uuid:registration_uuid>/", views.oidc_login, name="login"),
    path("launch/", views.LaunchView.as_view(), name="launch"),
    path("deep-link/", views.deep_link, name="deep_link"),
]
