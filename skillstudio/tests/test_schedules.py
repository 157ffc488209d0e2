"""Periodic jobs are described in words in the admin."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from skillstudio.schedules import crontab_in_words, interval_in_words


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"minute": "0", "hour": "3", "day_of_week": "1"}, "Every Monday at 03:00 UTC"),
        ({"minute": "0", "hour": "4", "day_of_week": "0"}, "Every Sunday at 04:00 UTC"),
        ({"minute": "30", "hour": "3"}, "Every day at 03:30 UTC"),
        ({"minute": "0", "hour": "7", "day_of_week": "1-5"}, "Every weekday at 07:00 UTC"),
        (
            {"minute": "15", "hour": "18", "day_of_week": "mon,thu"},
            "Every Monday and Thursday at 18:15 UTC",
        ),
        (
            {"minute": "0", "hour": "2", "day_of_month": "1"},
            "On the 1st of every month at 02:00 UTC",
        ),
        ({"minute": "*/5", "hour": "*"}, "Every 5 minutes"),
        ({"minute": "*", "hour": "*"}, "Every minute"),
        (
            {"minute": "0", "hour": "9", "timezone": "Europe/Berlin"},
            "Every day at 09:00 Europe/Berlin",
        ),
        (
            {"minute": "0", "hour": "*/2", "month_of_year": "1"},
            "Cron “0 */2 * 1 *” (minute hour day-of-month month day-of-week), UTC",
        ),
    ],
)
def test_crontab_in_words(fields, words):
    assert crontab_in_words(**fields) == words


@pytest.mark.parametrize(
    ("every", "period", "words"),
    [
        (60, "seconds", "Every minute"),
        (300, "seconds", "Every 5 minutes"),
        (90, "seconds", "Every 90 seconds"),
        (2, "hours", "Every 2 hours"),
        (1, "days", "Every day"),
    ],
)
def test_interval_in_words(every, period, words):
    assert interval_in_words(every=every, period=period) == words


@pytest.mark.django_db
def test_admin_lists_periodic_jobs_in_words(client, admin_user, capsys):
    call_command("setup_schedules")
    assert "created  Weekly learning path adjustment: Every Monday at 03:00 UTC" in (
        capsys.readouterr().out
    )
    client.force_login(admin_user)

    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    weekly = PeriodicTask.objects.get(name="Weekly learning path adjustment")
    page = client.get(reverse("admin:django_celery_beat_periodictask_change", args=[weekly.pk]))

    content = listing.content.decode()
    for words in (
        "Every Monday at 03:00 UTC",
        "Every day at 03:30 UTC",
        "Every Sunday at 05:00 UTC",
        "Every 5 minutes",
        "Every minute",
    ):
        assert words in content
    assert "Every Monday at 03:00 UTC" in page.content.decode()
    # No inline script on the page: the strict CSP would block it.
    assert "<script>" not in page.content.decode()
    assert 'id="periodic-task-overrides"' not in page.content.decode()
    # An operator's edit is described as it now stands.
    CrontabSchedule.objects.filter(pk=weekly.crontab_id).update(day_of_week="4", hour="6")
    assert (
        "Every Thursday at 06:00 UTC"
        in client.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    )
