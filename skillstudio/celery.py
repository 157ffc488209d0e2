"""Celery application: broker and result backend are Redis (REDIS_URL)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skillstudio.settings")

app = Celery("skillstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
