"""The hook grading calls: queue an LTI score passback (kept light: assessments imports it)."""

from __future__ import annotations

from assessments.models import AssessmentAttempt
from lti.models import LtiGradeLink
from skillstudio.jobs import defer

SEND_SCORE_TASK = "lti.send_score"
AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def lti_score_queue(*, attempt: AssessmentAttempt) -> bool:
    """Defer the score passback of a graded attempt (inside the submit's transaction).

    One indexed lookup; nothing is queued for an attempt no LTI launch asked a grade for.
    The submit never waits for the platform: the job sends the score.
    """
    if not LtiGradeLink.objects.filter(
        learner_id=attempt.learner_id, assessment_id=attempt.assessment_id
    ).exists():
        return False
    defer(SEND_SCORE_TASK, learner_id=attempt.learner_id, attempt_id=attempt.pk)
    return True
