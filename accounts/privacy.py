"""Data rights (SPEC R-PRIVACY): export, erasure and the profiling opt-out.

Export
    ``data_export_request`` records a ``DataExport`` and defers ``accounts.build_data_export``
    through the outbox; the worker calls ``data_export_build``, which writes a ZIP with one
    JSON and one CSV file per kind of data (``EXPORT_KINDS``). The download link is signed
    (``data_export_token``) and only its owner can use it, until ``expires_at``.

Erasure
    ``erasure_request`` (password re-entered) opens an ``ErasureRequest`` due after the grace
    period; the learner may cancel it until then, an admin sees it and may process it at
    once, and the nightly ``accounts.process_due_erasures`` erases what is due. ``user_erase``
    deletes everything personal and moves the rows that course figures and item statistics
    count (enrollments, lesson progress, attempts and their answers) to a fresh, inactive
    placeholder account with no personal data: the numbers stay right, the person is gone.
    ``personal_data_remains`` walks every model for what is left.

Opt-out
    ``profiling_opt_out_set``: no dropout-risk score and no segment for this learner, and
    what was computed before is deleted (GDPR Art. 22; risk flags are advisory anyway).
"""

from __future__ import annotations

import csv
import json
import logging
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis.exceptions
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from lti_tool.models import LtiUser

from accounts.models import DataExport, ErasureRequest, LearnerProfile, User
from assessments.models import Answer, AssessmentAttempt
from catalog.tutor_tips import study_tip_key
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    LearnerSkillState,
    LearningPathSnapshot,
    PendingJob,
    Recommendation,
    RiskReview,
)
from learning.models import Enrollment, GoalSkill, LearnerEvent, LearningGoal, LessonProgress
from lti.models import LtiGradeLink
from skillstudio.data_versions import learner_version_keys, learners_changed
from skillstudio.jobs import LEARNER_FOLLOW_UP, TRANSIENT_ERRORS, defer
from skillstudio.sessions import forget_cached_sessions

logger = logging.getLogger(__name__)

BUILD_EXPORT_TASK = "accounts.build_data_export"
EXPORT_SALT = "accounts.data-export"
# Placeholder accounts that keep an erased learner's counted rows live under this domain
# (reserved by RFC 2606: it can never be a real address).
ERASED_DOMAIN = "erased.invalid"
ERASED_NAME = "Erased learner"
EVENT_CHUNK = 5000


def export_ttl() -> timedelta:
    return timedelta(hours=settings.PRIVACY_EXPORT_TTL_HOURS)


def erasure_grace() -> timedelta:
    return timedelta(days=settings.PRIVACY_ERASURE_GRACE_DAYS)


# --- Export ---------------------------------------------------------------------------------


def _user_rows(learner_id: int) -> Iterator[dict]:
    yield from User.objects.filter(pk=learner_id).values(
        "id", "email", "full_name", "role", "date_joined", "last_login", "is_active"
    )


def _profile_rows(learner_id: int) -> Iterator[dict]:
    yield from LearnerProfile.objects.filter(user_id=learner_id).values()


def _segment_rows(learner_id: int) -> Iterator[dict]:
    for segment in LearnerProfile.objects.filter(user_id=learner_id).values_list(
        "segment", flat=True
    ):
        if isinstance(segment, dict):
            yield segment


def _skill_history_rows(learner_id: int) -> Iterator[dict]:
    """Each submitted quiz's effect on each skill: the level before and after it."""
    attempts = (
        AssessmentAttempt.objects.filter(learner_id=learner_id, submitted_at__isnull=False)
        .order_by("submitted_at", "pk")
        .values("pk", "assessment_id", "submitted_at", "skill_breakdown")
    )
    for attempt in attempts:
        breakdown = attempt["skill_breakdown"]
        breakdown = breakdown if isinstance(breakdown, dict) else {}
        for skill, facts in sorted(breakdown.items()):
            yield {
                "attempt_id": attempt["pk"],
                "assessment_id": attempt["assessment_id"],
                "submitted_at": attempt["submitted_at"],
                "skill": skill,
                **(facts if isinstance(facts, dict) else {"value": facts}),
            }


def _event_rows(learner_id: int, types: Iterable[str] | None = None) -> Iterator[dict]:
    # The parent table: PostgreSQL reads every monthly partition (and the default one).
    events = LearnerEvent.objects.filter(learner_id=learner_id).order_by("occurred_at")
    if types is not None:
        events = events.filter(event_type__in=list(types))
    yield from events.values(
        "event_id",
        "occurred_at",
        "received_at",
        "event_type",
        "course_id",
        "lesson_id",
        "assessment_id",
        "data",
    ).iterator(chunk_size=EVENT_CHUNK)


RECOMMENDATION_ACTIONS = (
    LearnerEvent.Type.RECOMMENDATION_SHOWN,
    LearnerEvent.Type.RECOMMENDATION_ACCEPTED,
    LearnerEvent.Type.RECOMMENDATION_SKIPPED,
)

# Every kind of data about a learner: name -> rows. The export writes <name>.json and
# <name>.csv for each; the README's privacy section lists the same kinds.
EXPORT_KINDS: dict[str, Any] = {
    "account": _user_rows,
    "profile": _profile_rows,
    "goals": lambda pk: LearningGoal.objects.filter(learner_id=pk).values(),
    "goal_skills": lambda pk: GoalSkill.objects.filter(goal__learner_id=pk).values(),
    "enrollments": lambda pk: Enrollment.objects.filter(learner_id=pk).values(),
    "lesson_progress": lambda pk: LessonProgress.objects.filter(learner_id=pk).values(),
    "events": _event_rows,
    "attempts": lambda pk: AssessmentAttempt.objects.filter(learner_id=pk).values(),
    "answers": lambda pk: Answer.objects.filter(attempt__learner_id=pk).values(),
    "skill_states": lambda pk: LearnerSkillState.objects.filter(learner_id=pk).values(),
    "skill_history": _skill_history_rows,
    "path_versions": lambda pk: LearningPathSnapshot.objects.filter(learner_id=pk).values(),
    "recommendations": lambda pk: Recommendation.objects.filter(learner_id=pk).values(),
    "recommendation_actions": lambda pk: _event_rows(pk, RECOMMENDATION_ACTIONS),
    "risk_scores": lambda pk: DropoutRisk.objects.filter(enrollment__learner_id=pk).values(
        "enrollment_id",
        "enrollment__course_id",
        "probability",
        "level",
        "factors",
        "features",
        "model__name",
        "model__version",
        "scored_at",
    ),
    "segment": _segment_rows,
    "instructor_messages": lambda pk: InstructorMessage.objects.filter(learner_id=pk).values(
        "id", "course_id", "sender__full_name", "body", "created_at", "read_at", "emailed_at"
    ),
    # What instructors did about the learner's risk scores (reviewers named by role only).
    "risk_reviews": lambda pk: RiskReview.objects.filter(enrollment__learner_id=pk).values(
        "enrollment_id", "enrollment__course_id", "action", "probability", "level", "created_at"
    ),
    # The learner as LTI platforms described them, and where their quiz scores are sent.
    "lti_accounts": lambda pk: LtiUser.objects.filter(auth_user_id=pk).values(
        "registration__name",
        "registration__issuer",
        "sub",
        "name",
        "given_name",
        "family_name",
        "email",
        "datetime_created",
    ),
    "lti_grade_links": lambda pk: LtiGradeLink.objects.filter(learner_id=pk).values(
        "assessment_id", "lineitem_url", "created_at"
    ),
    "erasure_requests": lambda pk: ErasureRequest.objects.filter(user_id=pk).values(
        "requested_at", "due_at", "processed_at"
    ),
}


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _write_kind(archive: zipfile.ZipFile, name: str, rows: Iterable[dict]) -> int:
    """<name>.json (a JSON array) and <name>.csv, streamed row by row; returns the count.

    A ZIP takes one member at a time: the CSV is spooled to a temporary file meanwhile.
    """
    count = 0
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as csv_body:
        writer: csv.DictWriter | None = None
        with archive.open(f"{name}.json", "w") as json_file:
            json_file.write(b"[")
            for row in rows:
                if writer is None:
                    writer = csv.DictWriter(csv_body, fieldnames=list(row), extrasaction="ignore")
                    writer.writeheader()
                json_file.write((b",\n" if count else b"\n") + _json(row).encode())
                writer.writerow({key: _cell(value) for key, value in row.items()})
                count += 1
            json_file.write(b"\n]\n")
        csv_body.seek(0)
        with archive.open(f"{name}.csv", "w") as out:
            for chunk in iter(lambda: csv_body.read(65536), ""):
                out.write(chunk.encode())
    return count


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)


def export_archive(*, learner_id: int, now: datetime) -> tuple[bytes, dict[str, int]]:
    """The ZIP of everything about the learner, and how many rows each kind has."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, rows in EXPORT_KINDS.items():
                counts[name] = _write_kind(archive, name, rows(learner_id))
            archive.writestr(
                "manifest.json",
                _json(
                    {
                        "learner_id": learner_id,
                        "generated_at": now,
                        "files": {name: [f"{name}.json", f"{name}.csv"] for name in counts},
                        "rows": counts,
                    }
                ),
            )
        buffer.seek(0)
        return buffer.read(), counts


def data_export_request(*, learner: User, now: datetime) -> DataExport:
    """Queue a new export, or return the one still being prepared (a double click queues one)."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=learner.pk).first()
        pending = DataExport.objects.filter(learner=learner, status=DataExport.Status.PENDING)
        existing = pending.order_by("-requested_at").first()
        if existing is not None:
            return existing
        export = DataExport.objects.create(learner=learner, requested_at=now)
        defer(BUILD_EXPORT_TASK, export_id=export.pk)
    return export


def data_export_build(*, export_id: int, now: datetime) -> DataExport | None:
    """Build a pending export's ZIP (the worker's job); idempotent, None if it is gone."""
    export = DataExport.objects.filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    try:
        content, _ = export_archive(learner_id=export.learner_id, now=now)
    except TRANSIENT_ERRORS:
        raise  # the task retries with backoff
    except Exception as error:
        logger.exception("Export %s failed", export_id)
        DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        export.refresh_from_db()
        return export
    with transaction.atomic():
        updated = DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY,
            content=content,
            size_bytes=len(content),
            ready_at=now,
            expires_at=now + export_ttl(),
        )
        # Older exports are superseded, and expired ones hold data nobody may download.
        DataExport.objects.filter(learner_id=export.learner_id).exclude(pk=export_id).filter(
            models.Q(status=DataExport.Status.READY) | models.Q(expires_at__lte=now)
        ).delete()
    if not updated:
        return DataExport.objects.filter(pk=export_id).first()
    export.refresh_from_db()
    return export


def data_exports_purge(*, now: datetime) -> int:
    """Delete expired exports (their ZIPs are personal data nobody may download any more)."""
    deleted, _ = DataExport.objects.filter(expires_at__lte=now).delete()
    return deleted


def data_export_token(export: DataExport) -> str:
    """The signed part of the download link: names the export and its owner."""
    return signing.dumps({"e": export.pk, "u": export.learner_id}, salt=EXPORT_SALT)


class ExportGone(Exception):
    """The link was right but the export has expired (or was superseded)."""


def export_for_download(*, user: User, token: str, now: datetime) -> DataExport:
    """The export a download link names, for its owner only.

    Raises ``DataExport.DoesNotExist`` for a forged link or someone else's export (the
    doors answer 404) and ``ExportGone`` once it has expired (410).
    """
    try:
        claims = signing.loads(token, salt=EXPORT_SALT, max_age=export_ttl() + timedelta(minutes=5))
    except signing.SignatureExpired as error:
        raise ExportGone from error
    except signing.BadSignature as error:
        raise DataExport.DoesNotExist from error
    if not isinstance(claims, dict) or claims.get("u") != user.pk:
        raise DataExport.DoesNotExist
    export = DataExport.objects.filter(pk=claims.get("e"), learner=user).first()
    if export is None:
        raise ExportGone
    if not export.is_downloadable(now):
        raise ExportGone
    return export


def latest_export(*, user: User) -> DataExport | None:
    return (
        DataExport.objects.filter(learner=user)
        .defer("content")
        .order_by("-requested_at", "-pk")
        .first()
    )


# --- Profiling opt-out ----------------------------------------------------------------------


def profiling_opt_out_set(
    *, profile: LearnerProfile, opt_out: bool, now: datetime
) -> LearnerProfile:
    """Opt the learner out of (or back into) dropout-risk scoring and segments.

    Opting out deletes the stored risks and segment at once; the follow-up refresh drops
    the support cards that were based on a risk. Opting back in waits for the nightly run.
    """
    with transaction.atomic():
        fields: dict[str, Any] = {"profiling_opt_out": opt_out, "updated_at": now}
        if opt_out:
            fields["segment"] = None
            DropoutRisk.objects.filter(enrollment__learner_id=profile.user_id).delete()
        LearnerProfile.objects.filter(pk=profile.pk).update(**fields)
        defer(LEARNER_FOLLOW_UP, learner_id=profile.user_id)
        learners_changed([profile.user_id])
    profile.refresh_from_db()
    return profile


# --- Erasure --------------------------------------------------------------------------------


def erasure_request(*, user: User, password: str, now: datetime) -> ErasureRequest:
    """Ask for the account to be erased; the password is asked again (re-authentication)."""
    if not isinstance(password, str) or not password or not user.check_password(password):
        raise ValidationError({"password": "That is not your password."})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = ErasureRequest.objects.filter(user=user, processed_at__isnull=True).first()
        if existing is not None:
            return existing
        return ErasureRequest.objects.create(
            user=user, requested_at=now, due_at=now + erasure_grace()
        )


def erasure_cancel(*, user: User) -> bool:
    """Withdraw an open request during the grace period; False if there was none."""
    deleted, _ = ErasureRequest.objects.filter(user=user, processed_at__isnull=True).delete()
    return bool(deleted)


def open_erasure(*, user: User) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(user=user, processed_at__isnull=True).first()


@dataclass
class ErasureSummary:
    user_id: int
    placeholder_id: int | None = None
    kept_anonymised: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)


def _delete_sessions(user_id: int) -> int:
    """Sessions have no foreign key: decode each one still alive and drop the user's."""
    doomed = []
    for session in Session.objects.iterator(chunk_size=1000):
        if str(_decoded(session).get("_auth_user_id")) == str(user_id):
            doomed.append(session.pk)
    Session.objects.filter(pk__in=doomed).delete()
    # The rows went in bulk, past the session store: its Redis copies go too, once the
    # deletion commits (before it, a request could copy a row back from the old snapshot).
    transaction.on_commit(lambda: forget_cached_sessions(doomed))
    return len(doomed)


def _axes_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_app_config("axes").get_models()
        if any(f.name == "username" for f in model._meta.fields)
    ]


def _queued_jobs(user_id: int) -> models.QuerySet[PendingJob]:
    return PendingJob.objects.filter(
        models.Q(kwargs__learner_id=user_id) | models.Q(kwargs__learner_ids__contains=[user_id])
    )


def _drop_from_jobs(user_id: int) -> int:
    """Delete the user's own jobs; take them out of the chunk jobs they share with others."""
    touched = 0
    for job in _queued_jobs(user_id).select_for_update():
        ids = job.kwargs.get("learner_ids")
        if isinstance(ids, list) and [i for i in ids if i != user_id]:
            job.kwargs = {**job.kwargs, "learner_ids": [i for i in ids if i != user_id]}
            job.save(update_fields=["kwargs"])
        else:
            job.delete()
        touched += 1
    return touched


def _forget_cached(user_id: int) -> None:
    """Drop the learner's cached dashboards, unread instructor messages (their bodies and
    senders), study tip and data version (best effort: Redis may be down)."""
    try:
        client = cache._cache.get_client(write=True)
        keys = [cache.make_key(key) for key in learner_version_keys(user_id)]
        keys.append(cache.make_key(study_tip_key(user_id)))
        for pattern in (f"dashboard:*:{user_id}:*", f"instructor-messages:{user_id}:*"):
            keys += list(client.scan_iter(match=cache.make_key(pattern), count=1000))
        client.delete(*keys)
    except (redis.exceptions.RedisError, AttributeError):
        logger.warning("Could not drop cached data of an erased learner: Redis unreachable")


def user_erase(*, user: User, now: datetime) -> ErasureSummary:
    """Erase the account: personal data goes, counted rows move to an anonymous placeholder.

    Kept (anonymised): enrollments (status, dates, progress; no registration facts) with
    their instructors' risk reviews, lesson progress, attempts and answers (question,
    correctness, points; no free text) - what course figures, item statistics and the risk
    model's review loop count. Deleted: the account, profile, goals, paths, skill states,
    recommendations, risk scores, instructor messages received, exports, events in every
    partition, queued jobs, sessions, tokens, login records and cached dashboards.
    """
    user_id, email = user.pk, user.email
    summary = ErasureSummary(user_id=user_id)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user_id).first()
        for owned in ("owned_courses", "owned_assessments"):
            if getattr(user, owned).exists():
                raise ValidationError(
                    "This account owns courses or assessments: hand them to another "
                    "instructor before erasing it."
                )
        placeholder = User.objects.create(
            email=f"erased-{uuid.uuid4().hex}@{ERASED_DOMAIN}",
            # What instructors' lists show for the anonymised rows.
            full_name=ERASED_NAME,
            role=User.Role.LEARNER,
            is_active=False,
        )
        placeholder.set_unusable_password()
        placeholder.save(update_fields=["password"])
        # Opted out, so no nightly job ever profiles the placeholder.
        LearnerProfile.objects.create(user=placeholder, profiling_opt_out=True)
        summary.placeholder_id = placeholder.pk

        deleted = summary.deleted
        deleted["risk_scores"] = DropoutRisk.objects.filter(
            enrollment__learner_id=user_id
        ).delete()[0]
        kept = summary.kept_anonymised
        kept["enrollments"] = Enrollment.objects.filter(learner_id=user_id).update(
            learner=placeholder, registration_info={}
        )
        kept["lesson_progress"] = LessonProgress.objects.filter(learner_id=user_id).update(
            learner=placeholder
        )
        kept["attempts"] = AssessmentAttempt.objects.filter(learner_id=user_id).update(
            learner=placeholder
        )
        # Free text may say anything about the person; choices and values are item data.
        for answer in Answer.objects.filter(
            attempt__learner=placeholder, response__has_key="text"
        ).only("pk", "response"):
            answer.response = {k: v for k, v in answer.response.items() if k != "text"}
            answer.save(update_fields=["response"])
        kept["answers"] = Answer.objects.filter(attempt__learner=placeholder).count()

        # One DELETE on the parent table (nothing refers to events, so Django deletes
        # without collecting): PostgreSQL reaches every monthly partition.
        deleted["events"] = LearnerEvent.objects.filter(learner_id=user_id).delete()[0]
        deleted["queued_jobs"] = _drop_from_jobs(user_id)
        deleted["sessions"] = _delete_sessions(user_id)
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

        deleted["tokens"] = OutstandingToken.objects.filter(user_id=user_id).delete()[0]
        # The platform's copy of the person (subject, name, e-mail) and their grade links.
        deleted["lti_accounts"] = LtiUser.objects.filter(auth_user_id=user_id).delete()[0]
        from django.contrib.admin.models import LogEntry
        from django.contrib.contenttypes.models import ContentType

        # Admin history about the account names it (object_repr is the e-mail).
        deleted["admin_log"] = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user_id)
        ).delete()[0]
        deleted["login_records"] = sum(
            model.objects.filter(username__iexact=email).delete()[0] for model in _axes_models()
        )
        ErasureRequest.objects.filter(user_id=user_id, processed_at__isnull=True).update(
            processed_at=now
        )
        try:
            deleted["account"] = User.objects.filter(pk=user_id).delete()[0]
        except ProtectedError as error:
            raise ValidationError(f"Cannot erase the account yet: {error.args[0]}") from error
        learners_changed([user_id, placeholder.pk])
        transaction.on_commit(lambda: _forget_cached(user_id))
    logger.info("Erased account %s (anonymised rows kept under %s)", user_id, placeholder.pk)
    return summary


def erasures_process_due(*, now: datetime, dry_run: bool = False) -> list[int]:
    """Erase every account whose grace period is over; one failure never stops the rest."""
    due = list(
        ErasureRequest.objects.filter(
            processed_at__isnull=True, user__isnull=False, due_at__lte=now
        ).values_list("pk", "user_id")
    )
    erased = []
    for _, user_id in due:
        if dry_run:
            erased.append(user_id)
            continue
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            continue
        try:
            user_erase(user=user, now=now)
        except ValidationError:
            logger.exception("Could not erase account %s", user_id)
            continue
        erased.append(user_id)
    return erased


# --- What remains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Remain:
    model: str
    field: str
    rows: int


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def personal_data_remains(*, user_id: int, email: str | None = None) -> list[Remain]:
    """Every row in any table that still points at the user or mentions their e-mail.

    Walks all installed models: foreign keys to the user model, the outbox's learner ids,
    sessions, and (given the e-mail) every text and JSON column.
    """
    found: list[Remain] = []
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        label = model._meta.label
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User:
                rows = model._default_manager.filter(**{f.attname: user_id}).count()
                if rows:
                    found.append(Remain(label, f.name, rows))
        if email:
            for f in _text_fields(model):
                lookup = f"{f.name}__icontains"
                if isinstance(f, models.JSONField):
                    from django.db.models.functions import Cast

                    rows = (
                        model._default_manager.annotate(_as_text=Cast(f.name, models.TextField()))
                        .filter(_as_text__icontains=email)
                        .count()
                    )
                else:
                    rows = model._default_manager.filter(**{lookup: email}).count()
                if rows:
                    found.append(Remain(label, f.name, rows))
    jobs = _queued_jobs(user_id).count()
    if jobs:
        found.append(Remain(PendingJob._meta.label, "kwargs", jobs))
    sessions = sum(
        1
        for session in Session.objects.iterator(chunk_size=1000)
        if str(_decoded(session).get("_auth_user_id")) == str(user_id)
    )
    if sessions:
        found.append(Remain(Session._meta.label, "session_data", sessions))
    return found


def _decoded(session: Session) -> dict:
    try:
        return session.get_decoded()
    except Exception:
        return {}
