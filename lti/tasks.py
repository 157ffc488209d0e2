"""LTI tasks: grade passback (Assignment and Grade Services) through the outbox."""

from __future__ import annotations

import requests
from celery import shared_task
from django.utils import timezone
from pylti1p3.exception import LtiServiceException

from lti import services
from lti.grades import SEND_SCORE_TASK
from skillstudio.jobs import TRANSIENT_ERRORS, JobTask


@shared_task(
    base=JobTask,
    name=SEND_SCORE_TASK,
    autoretry_for=(*TRANSIENT_ERRORS, LtiServiceException, requests.RequestException),
    retry_backoff_max=600,
    max_retries=10,
)
def send_score(learner_id: int, attempt_id: int) -> int:
    """The attempt's score to the platform's line item(s); re-sending is harmless."""
    return services.lti_score_send(attempt_id=attempt_id, learner_id=learner_id, now=timezone.now())
