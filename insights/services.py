"""Writes owned by insights: generating a learning path and re-planning it on new
evidence, acting on a recommendation (learners); messaging a learner and recording what was
done about a dropout risk (instructors, R-INSTR).

The HTML views and the API import learner writes from here only (never from
insights.recommendations, whose writers belong to the follow-up task and the jobs) and
only translate input and output; each service owns its transaction, its data-version
bumps (via the functions it calls) and the learner's deferred follow-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from insights import recommendations
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    LearningPathSnapshot,
    Recommendation,
    RiskReview,
)
from insights.paths import PathError, PathGeneration, path_generate
from insights.recommendations import RecommendationUnavailable
from learning.models import LearningGoal
from learning.services import enrollment_create
from skillstudio.data_versions import learners_changed
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer

__all__ = [
    "CourseLocked",
    "RecommendationUnavailable",
    "instructor_message_email",
    "instructor_message_read",
    "instructor_message_send",
    "learning_path_generate",
    "learning_paths_replan",
    "recommendation_act",
    "risk_review_record",
]

MESSAGE_MAX_LENGTH = 5000
# Deferred by instructor_message_send; the task calls instructor_message_email.
MESSAGE_EMAIL_TASK = "insights.email_instructor_message"


def learning_path_generate(*, goal: LearningGoal, now: datetime) -> PathGeneration:
    """Plan the goal's path and store it as its next version, unless nothing would change
    (then nothing is written and ``created`` is False; its ``message`` says so).

    The first version is ``generated``, a learner's later re-plans are ``manual``. Fresh
    recommendations follow through the outbox (a path changes the courses to suggest).
    Raises insights.paths.PathError, with nothing written, when no path is possible.
    """
    with transaction.atomic():
        has_path = LearningPathSnapshot.objects.filter(goal=goal).exists()
        trigger = (
            LearningPathSnapshot.Trigger.MANUAL
            if has_path
            else LearningPathSnapshot.Trigger.GENERATED
        )
        result = path_generate(goal=goal, now=now, trigger=trigger)
        if result.created:
            defer(LEARNER_FOLLOW_UP, learner_id=goal.learner_id)
    return result


class CourseLocked(ValueError):
    """A course card accepted while its course is locked: the message is the lock's reason
    and the way to unlock it (learning.locks, as enrolment words it)."""


def recommendation_act(
    *, recommendation: Recommendation, action: str, now: datetime
) -> Recommendation:
    """Record accepted / skipped / ignored (``insights.recommendations.recommendation_act``).

    Accepting a course card ("Start course X") enrolls the learner through
    ``learning.services.enrollment_create``, which enforces the course's prerequisites: a
    locked course raises ``CourseLocked`` with its reason and nothing is recorded (QA walk:
    an accepted course card left the learner unenrolled). Otherwise one row, and no
    follow-up: the card's state is the answer (enrolling defers its own).
    """
    with transaction.atomic():
        row = recommendations.recommendation_act(
            recommendation=recommendation, action=action, now=now
        )
        if (
            row.status == Recommendation.Status.ACCEPTED
            # This call accepted it: a replayed accept does not enroll again a learner who
            # has left the course since.
            and row.acted_at == now
            and row.kind == Recommendation.Kind.COURSE
            and row.course_id
        ):
            try:
                enrollment_create(learner=row.learner, course=row.course, now=now)
            except ValidationError as error:
                raise CourseLocked(" ".join(error.messages)) from error
    return row


def learning_paths_replan(*, learner_id: int, now: datetime) -> list[LearningPathSnapshot]:
    """Re-plan the learner's active goals' paths on new evidence (a graded attempt): a
    course or lesson skipped on a skill the answers now put below proficient comes back, one
    now shown drops out. A plan that would not change writes nothing; a goal no path can
    reach keeps the one it has. Returns the new versions. The caller defers the follow-up."""
    goals = LearningGoal.objects.filter(
        learner_id=learner_id,
        status=LearningGoal.Status.ACTIVE,
        path_snapshots__is_active=True,
    ).order_by("pk")
    created = []
    for goal in goals:
        try:
            result = path_generate(
                goal=goal, now=now, trigger=LearningPathSnapshot.Trigger.NEW_EVIDENCE
            )
        except PathError:
            continue
        if result.created:
            created.append(result.snapshot)
    return created


def risk_review_record(
    *,
    risk: DropoutRisk,
    reviewer: Any,
    action: str,
    now: datetime,
    message: InstructorMessage | None = None,
) -> RiskReview:
    """Record what ``reviewer`` did about ``risk``, with the risk as it stood then.

    Whether the reviewer may act on this enrollment is the caller's selector's business
    (``insights.instructor.course_risks`` over ``managed_courses``)."""
    if action not in RiskReview.Action.values:
        raise ValidationError({"action": f"Use one of: {', '.join(RiskReview.Action.values)}."})
    return RiskReview.objects.create(
        enrollment_id=risk.enrollment_id,
        reviewer=reviewer,
        action=action,
        probability=risk.probability,
        level=risk.level,
        model_id=risk.model_id,
        message=message,
        created_at=now,
    )


def instructor_message_send(
    *, risk: DropoutRisk, sender: Any, body: str, now: datetime
) -> InstructorMessage:
    """Message the learner of an at-risk enrollment: shown on their dashboard, e-mailed
    through the outbox, and recorded as a ``messaged`` review of the risk."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message first."})
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ValidationError({"body": f"Keep it under {MESSAGE_MAX_LENGTH} characters."})
    enrollment = risk.enrollment
    with transaction.atomic():
        message = InstructorMessage.objects.create(
            learner_id=enrollment.learner_id,
            sender=sender,
            course_id=enrollment.course_id,
            body=body,
            created_at=now,
        )
        risk_review_record(
            risk=risk, reviewer=sender, action=RiskReview.Action.MESSAGED, now=now, message=message
        )
        defer(MESSAGE_EMAIL_TASK, message_id=message.pk)
        learners_changed([enrollment.learner_id])  # the dashboard's unread messages
    return message


def instructor_message_email(*, message_id: int, now: datetime) -> bool:
    """E-mail one message to its learner once; False when gone or already sent.

    The row is claimed before sending (a conditional update), so a redelivered job never
    sends twice; a failed send releases the claim for the retry."""
    claimed = InstructorMessage.objects.filter(pk=message_id, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if not claimed:
        return False
    message = InstructorMessage.objects.select_related("learner", "sender", "course").get(
        pk=message_id
    )
    sender = (
        message.sender.full_name or message.sender.email if message.sender else "Your instructor"
    )
    try:
        send_mail(
            subject=f"A message from {sender} about {message.course.title}",
            message=f"{message.body}\n\nSee it on your SkillStudio dashboard.",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[message.learner.email],
        )
    except Exception:
        InstructorMessage.objects.filter(pk=message_id).update(emailed_at=None)
        raise
    return True


def instructor_message_read(*, message: InstructorMessage, now: datetime) -> InstructorMessage:
    """Mark the learner's message read (the first time only; re-marking changes nothing)."""
    with transaction.atomic():
        if InstructorMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(
            read_at=now
        ):
            learners_changed([message.learner_id])
    message.refresh_from_db(fields=["read_at"])
    return message
