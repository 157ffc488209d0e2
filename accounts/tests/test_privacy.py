"""Data rights: export, erasure and the profiling opt-out (accounts.privacy)."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.db.models import Avg, Count, Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from accounts.models import DataExport, ErasureRequest, LearnerProfile, User
from accounts.tasks import build_data_export, process_due_erasures
from assessments.models import Answer, AssessmentAttempt
from catalog.tutor_tips import study_tip_key
from insights.ml.irt import analyze_assessment
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    LearnerSkillState,
    PendingJob,
    RiskReview,
)
from insights.services import instructor_message_send
from learning.models import Enrollment, LearnerEvent, LessonProgress
from learning.partitions import DEFAULT as DEFAULT_PARTITION
from learning.partitions import ensure_month_partition, partition_name
from skillstudio.jobs import LEARNER_FOLLOW_UP
from skillstudio.testing import PASSWORD, build_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Three monthly partitions plus the default one (a month nobody created a partition for).
EVENT_MONTHS = (date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))
DEFAULT_MONTH_AT = datetime(2031, 3, 5, tzinfo=UTC)


def _event(learner: User, at: datetime, kind: str = LearnerEvent.Type.LESSON_VIEWED, **data):
    return LearnerEvent(
        event_id=uuid.uuid4(),
        learner=learner,
        occurred_at=at,
        received_at=at,
        event_type=kind,
        data=data,
    )


@pytest.fixture
def world(learner, instructor, other_learner):
    """Alice with a bit of everything, Bob answering the same quiz (statistics need two)."""
    w = build_world(learner=learner, instructor=instructor)
    for month in EVENT_MONTHS:
        ensure_month_partition(month)
    LearnerEvent.objects.bulk_create(
        [
            *(_event(learner, datetime.combine(m, datetime.min.time(), UTC)) for m in EVENT_MONTHS),
            _event(learner, DEFAULT_MONTH_AT),
            _event(
                learner,
                NOW - timedelta(days=1),
                LearnerEvent.Type.RECOMMENDATION_ACCEPTED,
                recommendation_id=w.recommendation.pk,
            ),
            _event(other_learner, NOW - timedelta(days=2)),
        ]
    )
    for who, correct, text in (
        (learner, True, "my name is Alice Learner"),
        (other_learner, False, ""),
    ):
        attempt = (
            w.attempt
            if who == learner
            else AssessmentAttempt.objects.create(
                learner=who, assessment=w.assessment, started_at=NOW - timedelta(hours=2)
            )
        )
        AssessmentAttempt.objects.filter(pk=attempt.pk).update(
            started_at=NOW - timedelta(hours=2),
            submitted_at=NOW - timedelta(hours=1),
            score=Decimal(100 if correct else 0),
            passed=correct,
            skill_breakdown={
                "python": {
                    "questions": 1,
                    "correct": int(correct),
                    "level_before": 3,
                    "level_after": 4 if correct else 3,
                }
            },
        )
        choice = w.question.choices.get(is_correct=correct)
        Answer.objects.create(
            attempt=attempt,
            question=w.question,
            response={"choices": [choice.pk], **({"text": text} if text else {})},
            is_correct=correct,
            points_awarded=Decimal(1 if correct else 0),
            answered_at=NOW - timedelta(hours=1),
        )
    LearnerSkillState.objects.create(
        learner=learner,
        skill=w.skill,
        mastery=0.6,
        level=4,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
        last_practiced_at=NOW,
    )
    LearnerProfile.objects.filter(user=learner).update(
        segment={
            "name": "steady evening learners",
            "description": "d",
            "model_version": 1,
            "assigned_at": NOW.isoformat(),
        }
    )
    LessonProgress.objects.filter(pk=w.progress.pk).update(
        status=LessonProgress.Status.COMPLETED, completed_at=NOW
    )
    instructor_message_send(
        risk=w.risk, sender=instructor, body="Stuck on loops? Reply here.", now=NOW
    )
    return w


def _export_zip(learner: User) -> zipfile.ZipFile:
    export = privacy.data_export_request(learner=learner, now=NOW)
    build_data_export.apply(kwargs={"export_id": export.pk, "now": NOW.isoformat()})
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    return zipfile.ZipFile(io.BytesIO(bytes(export.content)))


# --- Export ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_holds_every_kind_as_json_and_csv(world, learner, other_learner):
    archive = _export_zip(learner)
    names = set(archive.namelist())
    data = {}
    for kind in privacy.EXPORT_KINDS:
        assert {f"{kind}.json", f"{kind}.csv"} <= names
        data[kind] = json.loads(archive.read(f"{kind}.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{kind}.csv").decode())))
        assert len(rows) == len(data[kind]), kind

    assert data["account"][0]["email"] == "alice@example.com"
    assert data["profile"][0]["user_id"] == learner.pk
    assert [g["title"] for g in data["goals"]] == ["Backend developer"]
    assert data["goal_skills"][0]["target_level"] == 7
    assert [e["course_id"] for e in data["enrollments"]] == [world.course.pk]
    assert data["lesson_progress"][0]["status"] == "completed"
    # Every partition: three months, the default partition, and the recommendation action.
    assert len(data["events"]) == 5
    assert {e["occurred_at"][:7] for e in data["events"]} == {
        "2026-09",
        "2026-10",
        "2026-11",
        "2031-03",
    }
    assert [a["score"] for a in data["attempts"]] == ["100.00"]
    assert data["answers"][0]["question_id"] == world.question.pk
    assert data["answers"][0]["is_correct"] is True
    assert data["skill_states"][0]["level"] == 4
    assert data["skill_history"][0] == {
        "attempt_id": world.attempt.pk,
        "assessment_id": world.assessment.pk,
        "submitted_at": data["attempts"][0]["submitted_at"],
        "skill": "python",
        "questions": 1,
        "correct": 1,
        "level_before": 3,
        "level_after": 4,
    }
    assert data["path_versions"][0]["version"] == 1
    assert data["recommendations"][0]["id"] == world.recommendation.pk
    assert [a["event_type"] for a in data["recommendation_actions"]] == ["recommendation_accepted"]
    risk = data["risk_scores"][0]
    assert risk["level"] == "high" and risk["factors"][0]["text"] == "no activity for 12 days"
    assert data["segment"] == [
        {
            "name": "steady evening learners",
            "description": "d",
            "model_version": 1,
            "assigned_at": NOW.isoformat(),
        }
    ]
    assert [m["body"] for m in data["instructor_messages"]] == ["Stuck on loops? Reply here."]
    assert [r["action"] for r in data["risk_reviews"]] == ["messaged"]
    # Bob's data is not in Alice's export.
    everything = b"".join(archive.read(name) for name in names)
    assert b"bob@example.com" not in everything
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["rows"]["events"] == 5


@pytest.mark.django_db
def test_export_is_queued_through_the_outbox_once(learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = privacy.data_export_request(learner=learner, now=NOW)
        again = privacy.data_export_request(learner=learner, now=NOW)
    assert again.pk == first.pk
    (job,) = PendingJob.objects.filter(task_name=privacy.BUILD_EXPORT_TASK)
    assert job.kwargs == {"export_id": first.pk}
    # A re-delivered job finds the export built and changes nothing.
    build_data_export.apply(kwargs={"export_id": first.pk, "now": NOW.isoformat()})
    first.refresh_from_db()
    built = bytes(first.content)
    build_data_export.apply(
        kwargs={"export_id": first.pk, "now": (NOW + timedelta(hours=1)).isoformat()}
    )
    first.refresh_from_db()
    assert bytes(first.content) == built and first.ready_at == NOW


def _ready_export(learner: User, now: datetime | None = None) -> DataExport:
    now = now or timezone.now()
    export = privacy.data_export_request(learner=learner, now=now)
    return privacy.data_export_build(export_id=export.pk, now=now)


@pytest.mark.django_db
def test_download_page_is_owner_only_and_expires(client, learner, other_learner):
    export = _ready_export(learner)
    token = privacy.data_export_token(export)
    url = reverse("accounts:export_download", kwargs={"token": token})

    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    client.force_login(other_learner)
    assert client.get(url).status_code == 404

    client.force_login(learner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "account.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()

    forged = reverse("accounts:export_download", kwargs={"token": token[:-4] + "AAAA"})
    assert client.get(forged).status_code == 404
    assert (
        client.get(reverse("accounts:export_download", kwargs={"token": "x" * 5000})).status_code
        == 404
    )

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 410


@pytest.mark.django_db
def test_export_api(api, as_user, learner, other_learner):
    url = reverse("api-v1:profile-export")
    assert api.get(url).status_code == 401
    assert api.post(url).status_code == 401

    as_user(learner)
    assert api.get(url).status_code == 404  # nothing asked yet
    response = api.post(url)
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["download_url"] is None
    privacy.data_export_build(export_id=response.json()["id"], now=timezone.now())

    body = api.get(url).json()
    assert body["status"] == "ready" and body["size_bytes"] > 0
    download = api.get(body["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"

    as_user(other_learner)
    assert api.get(url).status_code == 404  # Alice's export is not Bob's
    assert api.get(body["download_url"]).status_code == 404
    assert (
        api.get(reverse("api-v1:profile-export-download", kwargs={"token": "junk"})).status_code
        == 404
    )
    assert api.delete(url).status_code == 405


@pytest.mark.django_db
def test_privacy_page_needs_login_and_shows_the_link(client, learner):
    url = reverse("accounts:privacy")
    assert client.get(url).status_code == 302
    client.force_login(learner)
    assert client.post(reverse("accounts:export_request")).status_code == 302
    assert "being prepared" in client.get(url).content.decode()
    privacy.data_export_build(export_id=DataExport.objects.get().pk, now=timezone.now())
    assert "Download your export" in client.get(url).content.decode()
    assert client.get(reverse("accounts:export_request")).status_code == 405


# --- Erasure --------------------------------------------------------------------------------


def _statistics(world) -> dict:
    """Course figures and item statistics as instructors and the item analysis see them."""
    course = world.course
    return {
        "enrollments": list(
            Enrollment.objects.filter(course=course)
            .values("status")
            .annotate(n=Count("id"), progress=Avg("progress_percent"))
            .order_by("status")
        ),
        "completions": LessonProgress.objects.filter(
            lesson__module__course=course, status="completed"
        ).count(),
        "attempts": AssessmentAttempt.objects.filter(assessment=world.assessment).aggregate(
            n=Count("id"), mean=Avg("score"), passed=Count("id", filter=Q(passed=True))
        ),
        "answers": list(
            Answer.objects.values("question_id")
            .annotate(n=Count("id"), right=Count("id", filter=Q(is_correct=True)))
            .order_by("question_id")
        ),
        "items": analyze_assessment(assessment=world.assessment),
    }


def _rows_about(user_id: int, needles: list[str]) -> list[str]:
    """Walk every table: foreign keys to the user, and text/JSON columns naming them."""
    found = []
    for model in apps.get_models():
        if not model._meta.managed:
            continue
        manager = model._default_manager
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User:
                if manager.filter(**{f.attname: user_id}).exists():
                    found.append(f"{model._meta.label}.{f.name}")
            elif isinstance(f, models.CharField | models.TextField | models.JSONField):
                text = manager.annotate(_t=Cast(f.name, models.TextField()))
                for needle in needles:
                    if text.filter(_t__icontains=needle).exists():
                        found.append(f"{model._meta.label}.{f.name} ~ {needle}")
        if model is PendingJob and (
            manager.filter(kwargs__learner_id=user_id).exists()
            or manager.filter(kwargs__learner_ids__contains=[user_id]).exists()
        ):
            found.append("insights.PendingJob.kwargs")
    return found


@pytest.mark.django_db
def test_erasure_leaves_nothing_personal_and_keeps_statistics(
    world, learner, other_learner, client, django_capture_on_commit_callbacks
):
    learner_id, email = learner.pk, learner.email
    client.force_login(learner)
    _ready_export(learner)
    PendingJob.objects.create(task_name=LEARNER_FOLLOW_UP, kwargs={"learner_id": learner_id})
    chunk = PendingJob.objects.create(
        task_name="insights.adjust_learner_chunk",
        kwargs={"learner_ids": [learner_id, other_learner.pk], "now": NOW.isoformat()},
    )
    ErasureRequest.objects.create(user=learner, requested_at=NOW, due_at=NOW)
    cache.set(f"dashboard:v3:{learner_id}:abc", {"data": "Alice"}, 60)
    cache.set(study_tip_key(learner_id), {"text": "Alice, study on Mondays"}, 60)
    cache.set(f"instructor-messages:{learner_id}:7", [{"body": "Alice, well done"}], 60)
    cache.set(f"instructor-messages:{learner_id + 1}:7", [{"body": "Someone else"}], 60)
    before = _statistics(world)
    assert _rows_about(learner_id, [email, "Alice Learner"])  # the walk finds her beforehand

    with django_capture_on_commit_callbacks(execute=True):
        summary = privacy.user_erase(user=learner, now=NOW)

    assert _rows_about(learner_id, [email, "Alice Learner"]) == []
    assert privacy.personal_data_remains(user_id=learner_id, email=email) == []
    assert _statistics(world) == before
    # Events went from every monthly partition and the default one.
    assert summary.deleted["events"] == 5
    for table in [*(partition_name(m) for m in EVENT_MONTHS), DEFAULT_PARTITION]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE learner_id = %s",  # noqa: S608
                [learner_id],
            )
            assert cursor.fetchone()[0] == 0, table
    assert LearnerEvent.objects.filter(learner=other_learner).count() == 1
    # Answers keep question and correctness (and the chosen option), not the free text.
    kept = Answer.objects.get(attempt__learner_id=summary.placeholder_id)
    assert kept.is_correct and kept.question_id == world.question.pk
    assert "text" not in kept.response and kept.response["choices"]
    placeholder = User.objects.get(pk=summary.placeholder_id)
    assert not placeholder.is_active and not placeholder.has_usable_password()
    assert placeholder.email.endswith("@erased.invalid")
    assert placeholder.full_name == "Erased learner"
    assert placeholder.profile.profiling_opt_out  # never scored, never segmented
    # The instructor's message to her goes; the review of her risk stays, anonymised.
    assert not InstructorMessage.objects.exists()
    assert RiskReview.objects.get().enrollment.learner_id == placeholder.pk
    chunk.refresh_from_db()
    assert chunk.kwargs["learner_ids"] == [other_learner.pk]
    assert ErasureRequest.objects.get().processed_at == NOW
    assert cache.get(f"dashboard:v3:{learner_id}:abc") is None
    assert cache.get(study_tip_key(learner_id)) is None
    assert cache.get(f"instructor-messages:{learner_id}:7") is None
    assert cache.get(f"instructor-messages:{learner_id + 1}:7") is not None
    # The session she had is gone with the account.
    assert client.get(reverse("accounts:privacy")).status_code == 302

    out = StringIO()
    call_command("privacy_remains", "--user", str(learner_id), "--email", email, stdout=out)
    assert "Nothing personal remains" in out.getvalue()


@pytest.mark.django_db
def test_privacy_remains_lists_what_is_left(world, learner):
    out = StringIO()
    with pytest.raises(CommandError, match="still hold data"):
        call_command("privacy_remains", "--user", str(learner.pk), stdout=out)
    assert "learning.LearnerEvent.learner" in out.getvalue()
    assert "accounts.User.email" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("privacy_remains", "--user", "0")


@pytest.mark.django_db
def test_an_author_cannot_be_erased_while_owning_courses(world, instructor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="owns courses"):
        privacy.user_erase(user=instructor, now=NOW)
    assert User.objects.filter(pk=instructor.pk).exists()


@pytest.mark.django_db
def test_deletion_needs_the_password_and_waits_for_the_grace_period(client, learner, settings):
    settings.PRIVACY_ERASURE_GRACE_DAYS = 14
    url = reverse("accounts:erasure_request")
    assert client.post(url, {"password": PASSWORD}).status_code == 302  # anonymous: login
    assert not ErasureRequest.objects.exists()

    client.force_login(learner)
    response = client.post(url, {"password": "wrong-password"})
    assert response.status_code == 400 and "not your password" in response.content.decode()
    assert client.post(url, {}).status_code == 400
    assert not ErasureRequest.objects.exists()

    before = timezone.now()
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    erasure = ErasureRequest.objects.get(user=learner)
    assert erasure.due_at >= before + timedelta(days=14)
    assert "will be deleted on" in client.get(reverse("accounts:privacy")).content.decode()

    # Not due yet: the nightly job leaves the account alone.
    process_due_erasures.apply(kwargs={"now": (before + timedelta(days=13)).isoformat()})
    assert User.objects.filter(pk=learner.pk).exists()

    # Cancelled, then asked again, then due: erased.
    assert client.post(reverse("accounts:erasure_cancel")).status_code == 302
    assert not ErasureRequest.objects.exists()
    client.post(url, {"password": PASSWORD})
    result = process_due_erasures.apply(
        kwargs={"now": (timezone.now() + timedelta(days=15)).isoformat()}
    ).result
    assert result["erased"] == 1
    assert not User.objects.filter(pk=learner.pk).exists()


@pytest.mark.django_db
def test_admin_sees_pending_erasures_and_erases_now(client, admin_user, instructor, learner):
    erasure = ErasureRequest.objects.create(
        user=learner, requested_at=NOW, due_at=NOW + timedelta(days=14)
    )
    changelist = reverse("admin:accounts_erasurerequest_changelist")
    client.force_login(instructor)
    assert client.get(changelist).status_code == 403
    response = client.post(changelist, {"action": "erase_now", "_selected_action": [erasure.pk]})
    assert User.objects.filter(pk=learner.pk).exists()

    client.force_login(admin_user)
    assert "alice@example.com" in client.get(changelist).content.decode()
    response = client.post(changelist, {"action": "erase_now", "_selected_action": [erasure.pk]})
    assert response.status_code == 302
    assert not User.objects.filter(pk=learner.pk).exists()
    erasure.refresh_from_db()
    assert erasure.user is None and erasure.processed_at is not None


# --- Profiling opt-out ----------------------------------------------------------------------


@pytest.mark.django_db
def test_opting_out_drops_risk_and_segment(client, world, learner):
    url = reverse("accounts:profiling")
    assert client.post(url, {"opt_out": "1"}).status_code == 302
    assert not LearnerProfile.objects.get(user=learner).profiling_opt_out

    client.force_login(learner)
    assert client.post(url, {"opt_out": "maybe"}).status_code == 400
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"opt_out": "1"}).status_code == 302
    profile = LearnerProfile.objects.get(user=learner)
    assert profile.profiling_opt_out and profile.segment is None
    assert not DropoutRisk.objects.filter(enrollment__learner=learner).exists()
    assert PendingJob.objects.filter(
        task_name=LEARNER_FOLLOW_UP, kwargs__learner_id=learner.pk
    ).exists()
    assert "You are opted out" in client.get(reverse("accounts:privacy")).content.decode()

    assert client.post(url, {"opt_out": "0"}).status_code == 302
    assert not LearnerProfile.objects.get(user=learner).profiling_opt_out


@pytest.mark.django_db
def test_at_risk_lists_opted_out_learners_as_not_scored(
    api, as_user, world, learner, instructor, other_instructor
):
    url = reverse("api-v1:ml:at-risk-not-scored")
    assert api.get(url).status_code == 401
    as_user(instructor)
    assert api.get(url).json()["results"] == []

    privacy.profiling_opt_out_set(profile=learner.profile, opt_out=True, now=NOW)
    (row,) = api.get(url).json()["results"]
    assert row == {
        "enrollment_id": world.enrollment.pk,
        "learner_id": learner.pk,
        "learner_name": "Alice Learner",
        "course_id": world.course.pk,
        "course_title": "Python Basics",
        "status": "not scored (opted out)",
    }
    as_user(other_instructor)
    assert api.get(url).json()["results"] == []
    as_user(learner)
    assert api.get(url).status_code == 403


@pytest.mark.django_db
def test_erasure_and_opt_out_api(api, as_user, learner, other_learner):
    erasure = reverse("api-v1:profile-erasure")
    profiling = reverse("api-v1:profile-profiling")
    assert api.post(erasure, {"password": PASSWORD}, format="json").status_code == 401
    assert api.post(profiling, {"profiling_opt_out": True}, format="json").status_code == 401

    as_user(learner)
    assert api.get(erasure).status_code == 404
    assert api.post(erasure, {"password": "nope"}, format="json").status_code == 400
    assert api.post(erasure, {}, format="json").status_code == 400
    response = api.post(erasure, {"password": PASSWORD}, format="json")
    assert response.status_code == 202 and response.json()["due_at"]
    assert api.get(erasure).json()["due_at"] == response.json()["due_at"]

    as_user(other_learner)  # Alice's request is not Bob's to see or cancel
    assert api.get(erasure).status_code == 404
    assert api.delete(erasure).status_code == 404
    as_user(learner)
    assert api.delete(erasure).status_code == 204
    assert not ErasureRequest.objects.exists()

    assert api.post(profiling, {"profiling_opt_out": "maybe"}, format="json").status_code == 400
    response = api.post(profiling, {"profiling_opt_out": True}, format="json")
    assert response.status_code == 200 and response.json() == {"profiling_opt_out": True}
    assert LearnerProfile.objects.get(user=learner).profiling_opt_out
    assert not LearnerProfile.objects.get(user=other_learner).profiling_opt_out
