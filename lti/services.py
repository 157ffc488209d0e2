"""LTI 1.3 services: accounts for platform users, launch targets, grade passback, class rosters.

django-lti (``lti_tool``, on pylti1p3) validates launches and keeps registrations,
deployments, keys, platform users and contexts; this module decides what a launch means in
SkillStudio. Views and commands only translate to these functions.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from lti_tool.models import LtiContext, LtiLaunch, LtiUser
from lti_tool.services.nrps import sync_memberships
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from accounts.models import User
from assessments.models import Assessment, AssessmentAttempt
from assessments.selectors import assessment_is_open
from catalog.models import Course, Lesson
from catalog.selectors import courses_visible_to, lessons_visible_to
from learning.services import enrollment_create
from lti.grades import AGS_SCORE_SCOPE
from lti.models import LtiGradeLink
from skillstudio.jobs import LEARNER_FOLLOW_UP, defer

logger = logging.getLogger(__name__)

# The custom parameter deep linking puts on every link: "course:<id>", "lesson:<id>", "quiz:<id>".
TARGET_PARAMETER = "skillstudio"
# A nonce is good for one launch; remembered as long as pylti1p3 keeps launch data.
NONCE_TTL_SECONDS = 7200
# Synthetic addresses of accounts made by a launch: the platform's e-mail is never a key.
ACCOUNT_DOMAIN = "lti.skillstudio.invalid"


class LaunchRefused(Exception):
    """The launch is valid LTI but cannot be served (unknown or unpublished target)."""


@dataclass(frozen=True)
class LaunchTarget:
    kind: str  # course | lesson | quiz
    course: Course | None = None
    lesson: Lesson | None = None
    assessment: Assessment | None = None

    @property
    def url(self) -> str:
        if self.kind == "course":
            return reverse("catalog:course_detail", args=[self.course.slug])
        if self.kind == "lesson":
            return reverse("learning:lesson", args=[self.lesson.pk])
        return reverse("assessments:detail", args=[self.assessment.pk])

    @property
    def graded_assessment(self) -> Assessment | None:
        """What a line item on this link grades: the quiz, or the lesson's published quiz."""
        if self.kind == "quiz":
            return self.assessment
        if self.kind == "lesson":
            return (
                Assessment.objects.filter(lesson=self.lesson, kind=Assessment.Kind.QUIZ)
                .select_related("course")
                .order_by("pk")
                .filter(is_published=True)
                .first()
            )
        return None

    @property
    def parameter(self) -> str:
        key = {"course": self.course, "lesson": self.lesson, "quiz": self.assessment}[self.kind]
        return f"{self.kind}:{key.pk}"


def lti_launch_check(*, lti_launch: LtiLaunch) -> str | None:
    """Why a launch pylti1p3 validated is still refused (None: go ahead); uses its nonce.

    django-lti records an unknown deployment as inactive (the launch's transaction drops
    it); pylti1p3 accepts a nonce again while the state cookie lives, so used nonces are
    remembered here.
    """
    if not lti_launch.deployment.is_active:
        return (
            "unknown or inactive deployment (an administrator registers and activates deployments)."
        )
    nonce = lti_launch.get_launch_data().get("nonce")
    if not cache.add(f"lti:nonce:{lti_launch.registration.pk}:{nonce}", 1, NONCE_TTL_SECONDS):
        return "this nonce was already used."
    return None


def launch_target(custom: dict | None) -> LaunchTarget:
    """The published course, lesson or quiz a link names; LaunchRefused otherwise."""
    value = (custom or {}).get(TARGET_PARAMETER)
    if not isinstance(value, str) or ":" not in value:
        raise LaunchRefused("The link names no SkillStudio course, lesson or quiz.")
    kind, _, raw_id = value.partition(":")
    if not raw_id.isdigit():
        raise LaunchRefused(f"The link's target {value[:60]!r} is not valid.")
    pk = int(raw_id)
    anonymous = AnonymousUser()
    if kind == "course":
        course = courses_visible_to(user=anonymous).filter(pk=pk).first()
        if course is not None:
            return LaunchTarget("course", course=course)
    elif kind == "lesson":
        lesson = lessons_visible_to(user=anonymous).filter(pk=pk).first()
        if lesson is not None:
            return LaunchTarget("lesson", lesson=lesson, course=lesson.module.course)
    elif kind == "quiz":
        assessment = Assessment.objects.select_related("course").filter(pk=pk).first()
        if assessment is not None and assessment_is_open(assessment):
            return LaunchTarget("quiz", assessment=assessment, course=assessment.course)
    raise LaunchRefused(f"The linked {kind or 'item'} does not exist or is not published.")


def pickable_targets() -> list[LaunchTarget]:
    """What a teacher may pick in deep linking: published courses, their lessons and quizzes."""
    anonymous = AnonymousUser()
    targets = [LaunchTarget("course", course=c) for c in courses_visible_to(user=anonymous)]
    targets += [
        LaunchTarget("lesson", lesson=lesson, course=lesson.module.course)
        for lesson in lessons_visible_to(user=anonymous).order_by(
            "module__course__title", "module__order", "order"
        )
    ]
    quizzes = Assessment.objects.select_related("course").filter(
        is_published=True, kind__in=[Assessment.Kind.QUIZ, Assessment.Kind.EXAM]
    )
    targets += [
        LaunchTarget("quiz", assessment=a, course=a.course)
        for a in quizzes.order_by("title")
        if assessment_is_open(a)
    ]
    return targets


def lti_account_for(*, lti_user: LtiUser, now: datetime) -> User:
    """The SkillStudio account of a platform user, made on their first launch.

    Linked by the platform's (issuer, subject) only: an account is never found by e-mail
    (an LMS e-mail is not proof of owning the SkillStudio account with that address).
    """
    if lti_user.auth_user_id:
        return lti_user.auth_user
    issuer = lti_user.registration.issuer
    linked = (
        LtiUser.objects.filter(registration__issuer=issuer, sub=lti_user.sub)
        .exclude(auth_user=None)
        .select_related("auth_user")
        .first()
    )
    if linked is not None:
        user = linked.auth_user
    else:
        full_name = (lti_user.name or f"{lti_user.given_name} {lti_user.family_name}").strip()
        user = User.objects.create_user(
            email=f"{secrets.token_hex(12)}@{ACCOUNT_DOMAIN}",
            password=None,
            full_name=full_name[: User._meta.get_field("full_name").max_length],
            role=User.Role.LEARNER,
        )
        defer(LEARNER_FOLLOW_UP, learner_id=user.pk)
    LtiUser.objects.filter(pk=lti_user.pk).update(auth_user=user)
    lti_user.auth_user = user
    return user


def lti_grade_link_record(
    *, lti_user: LtiUser, target: LaunchTarget, ags_claim: dict | None, now: datetime
) -> LtiGradeLink | None:
    """Remember where this learner's scores on the launched quiz go (AGS line item)."""
    ags_claim = ags_claim or {}
    lineitem = ags_claim.get("lineitem")
    scopes = ags_claim.get("scope") or []
    assessment = target.graded_assessment
    if not lineitem or AGS_SCORE_SCOPE not in scopes or assessment is None:
        return None
    link, _ = LtiGradeLink.objects.update_or_create(
        lti_user=lti_user,
        assessment=assessment,
        lineitem_url=lineitem,
        defaults={"learner": lti_user.auth_user, "scopes": scopes, "created_at": now},
    )
    return link


def lti_score_send(*, attempt_id: int, learner_id: int, now: datetime) -> int:
    """Send the attempt's score to every line item linked to it; the number sent.

    Sending the same score again is harmless: AGS keeps the latest score per user. Errors
    from the platform (pylti1p3's LtiServiceException, requests' errors) propagate so the
    task retries.
    """
    attempt = (
        AssessmentAttempt.objects.filter(
            pk=attempt_id, learner_id=learner_id, submitted_at__isnull=False
        )
        .select_related("assessment")
        .first()
    )
    if attempt is None or attempt.score is None:
        return 0
    links = LtiGradeLink.objects.filter(
        learner_id=learner_id, assessment_id=attempt.assessment_id
    ).select_related("lti_user__registration")
    sent = 0
    for link in links:
        registration = link.lti_user.registration.to_registration()
        service = AssignmentsGradesService(
            ServiceConnector(registration), {"scope": link.scopes, "lineitem": link.lineitem_url}
        )
        grade = (
            Grade()
            .set_score_given(float(Decimal(attempt.score)))
            .set_score_maximum(100)
            .set_timestamp(attempt.submitted_at.isoformat())
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_user_id(link.lti_user.sub)
        )
        service.put_grade(grade)
        sent += 1
    return sent


def lti_class_enrol(*, context: LtiContext, course: Course, now: datetime) -> int:
    """Pre-enrol a platform class in ``course`` from its roster (NRPS); the number enrolled.

    Every active learner of the context gets an account (linked by subject, as on launch)
    and an enrollment; instructors are not enrolled. Idempotent.
    """
    if not context.memberships_url:
        raise LaunchRefused("This class's platform offers no roster (names and roles) service.")
    sync_memberships(context)
    enrolled = 0
    memberships = context.memberships.filter(is_learner=True, is_active=True).select_related(
        "user__registration", "user__auth_user"
    )
    for membership in memberships:
        with transaction.atomic():
            user = lti_account_for(lti_user=membership.user, now=now)
            enrollment_create(learner=user, course=course, now=now)
        enrolled += 1
    return enrolled


def platform_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
