"""Celery application: broker and result backend are Redis (settings' CELERY_* block).

Tasks live in each app's ``tasks.py`` plus ``skillstudio/tasks.py`` (the outbox
relay); they are sent through ``skillstudio.jobs.defer`` from request code so a
learner's write never depends on Redis (see that module's docstring).
Schedules live in django-celery-beat's database tables, created by
``manage.py setup_schedules``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skillstudio.settings")

app = Celery("skillstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# skillstudio is a package, not an installed app: name its tasks module explicitly.
app.autodiscover_tasks(["skillstudio"])
