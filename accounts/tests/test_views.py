from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_signup_creates_learner_logs_in_and_starts_onboarding(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Carla Coder",
            "email": "Carla@Example.com",
            "password": "a-long-unusual-passphrase",
            "timezone": "Europe/Paris",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("learning:onboarding")
    user = User.objects.get(email="carla@example.com")
    assert user.role == User.Role.LEARNER
    assert user.profile.timezone == "Europe/Paris"
    assert client.get(reverse("accounts:password_change")).status_code == 200


def test_signup_shows_the_services_errors_next_to_the_fields(client, learner):
    response = client.post(
        reverse("accounts:signup"),
        {"email": learner.email, "password": "123", "timezone": "UTC"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "An account with this email address already exists." in html
    assert "This password is too short" in html
    assert User.objects.filter(email=learner.email).count() == 1


def test_login_with_email_goes_to_dashboard(client, learner):
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice@example.com", "password": "correct-horse-battery"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("learning:dashboard")


def test_instructors_land_on_teach_unless_a_safe_next_is_given(client, instructor, learner):
    login = reverse("accounts:login")
    credentials = {"username": instructor.email, "password": "correct-horse-battery"}

    landing = client.post(login, credentials)
    client.logout()
    with_next = client.post(f"{login}?next=/catalog/", credentials)
    client.logout()
    unsafe_next = client.post(f"{login}?next=https://evil.example/", credentials)
    already_in = client.get(login)
    client.logout()
    learner_landing = client.post(
        login, {"username": learner.email, "password": "correct-horse-battery"}
    )

    assert landing.status_code == 302 and landing["Location"] == reverse("teach:courses")
    assert with_next["Location"] == "/catalog/"
    assert unsafe_next["Location"] == reverse("teach:courses")
    # An instructor already signed in who opens the login page goes to /teach/ as well.
    assert already_in.status_code == 302 and already_in["Location"] == reverse("teach:courses")
    assert learner_landing["Location"] == reverse("learning:dashboard")


def test_wrong_password_is_a_clear_form_error(client, learner):
    response = client.post(
        reverse("accounts:login"), {"username": learner.email, "password": "nope"}
    )

    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client, learner):
    client.force_login(learner)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert client.get(reverse("learning:dashboard")).status_code == 302


def test_password_change_needs_login(client):
    response = client.get(reverse("accounts:password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_password_change_replaces_the_password(client, learner):
    client.force_login(learner)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )

    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password("another-long-passphrase")


def test_unknown_page_is_the_404_template(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_login_is_throttled_after_ten_attempts_a_minute(client, learner):
    url = reverse("accounts:login")
    for _ in range(10):
        client.post(url, {"username": learner.email, "password": "wrong"})

    response = client.post(url, {"username": learner.email, "password": "correct-horse-battery"})

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_time_zone_list_offers_area_names_and_keeps_a_legacy_current_zone():
    """QA walk: the list showed raw aliases ("localtime", "Etc/GMT-12", "W-SU")."""
    from accounts.forms import timezone_choices

    names = [name for name, _ in timezone_choices()]
    assert "Europe/Berlin" in names and "UTC" in names
    assert not {"localtime", "Etc/GMT-12", "W-SU", "US/Eastern"} & set(names)
    # A learner whose zone is a valid legacy name keeps it selectable; junk is not added.
    assert "US/Eastern" in [name for name, _ in timezone_choices(keep="US/Eastern")]
    assert "Not/AZone" not in [name for name, _ in timezone_choices(keep="Not/AZone")]
