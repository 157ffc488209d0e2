from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from skillstudio.jobs import registered_task_names


def timing(task: PeriodicTask) -> str:
    if task.crontab_id:
        c = task.crontab
        fields = (c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week, c.timezone)
        return "cron " + " ".join(str(f) for f in fields)
    return f"every {task.interval.every} {task.interval.period}"


@pytest.mark.django_db
def test_creates_the_nine_schedules_in_utc(capsys):
    call_command("setup_schedules")

    tasks = {t.task: t for t in PeriodicTask.objects.select_related("crontab", "interval")}
    assert {name: timing(t) for name, t in tasks.items()} == {
        # minute hour day-of-month month day-of-week (1 = Monday, 0 = Sunday)
        "insights.adjust_learning_paths_weekly": "cron 0 3 * * 1 UTC",
        "learning.maintain_event_partitions": "cron 0 1 * * * UTC",
        "insights.refit_skill_model": "cron 0 4 * * 0 UTC",
        "insights.score_dropout_risk": "cron 0 2 * * * UTC",
        "insights.train_predictive_models": "cron 0 5 * * 0 UTC",
        "insights.refresh_item_analysis": "cron 30 3 * * * UTC",
        "skillstudio.relay_pending_jobs": "every 60 seconds",
        "insights.warm_dashboards": "every 300 seconds",
        "accounts.process_due_erasures": "cron 30 1 * * * UTC",
    }
    assert json.loads(tasks["learning.maintain_event_partitions"].kwargs) == {"months_ahead": 3}
    assert all(t.enabled for t in tasks.values())
    assert capsys.readouterr().out.count("created ") == 9


@pytest.mark.django_db
def test_every_scheduled_task_exists_in_the_celery_app():
    call_command("setup_schedules")

    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert scheduled - registered_task_names() == set()


@pytest.mark.django_db
def test_rerunning_keeps_operator_edits_and_reset_restores_defaults():
    call_command("setup_schedules")
    weekly = PeriodicTask.objects.get(task="insights.adjust_learning_paths_weekly")
    weekly.crontab = CrontabSchedule.objects.create(minute="30", hour="5", day_of_week="2")
    weekly.enabled = False
    weekly.save()

    call_command("setup_schedules")
    weekly.refresh_from_db()
    assert (weekly.crontab.hour, weekly.enabled) == ("5", False)
    assert PeriodicTask.objects.count() == 9

    call_command("setup_schedules", "--reset")
    weekly.refresh_from_db()
    assert (weekly.crontab.minute, weekly.crontab.hour, weekly.enabled) == ("0", "3", True)
    assert PeriodicTask.objects.count() == 9
    # The shared crontab rows are reused, not duplicated.
    assert CrontabSchedule.objects.filter(minute="0", hour="3", day_of_week="1").count() == 1


@pytest.mark.django_db
def test_the_retired_xapi_window_schedule_is_deleted(capsys):
    from django_celery_beat.models import IntervalSchedule

    every = IntervalSchedule.objects.create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="xAPI statements to the LRS", task="learning.send_xapi_statements", interval=every
    )
    call_command("setup_schedules")
    assert not PeriodicTask.objects.filter(task="learning.send_xapi_statements").exists()
    assert "deleted  xAPI statements to the LRS: retired" in capsys.readouterr().out
