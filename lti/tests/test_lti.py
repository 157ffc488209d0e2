"""LTI 1.3: a test platform (our keys, signed id_tokens, token/AGS/NRPS endpoints served by
a local HTTP server thread) launches SkillStudio the way an LMS does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from jwcrypto.jwk import JWK
from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration, LtiUser

from accounts.models import User
from assessments.models import AssessmentAttempt
from insights.models import PendingJob
from learning.models import Enrollment
from lti import services
from lti.grades import SEND_SCORE_TASK
from lti.models import LtiGradeLink
from lti.tasks import send_score
from skillstudio.testing import build_world

ISSUER = "https://lms.example"
CLIENT_ID = "skillstudio-client"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


class Platform:
    """The LMS we do not own: its keys and its token, grade and roster endpoints."""

    def __init__(self) -> None:
        self.key = JWK.generate(kty="RSA", size=2048, kid="platform-key-1")
        self.other_key = JWK.generate(kty="RSA", size=2048, kid="platform-key-1")
        self.requests: list[dict] = []
        self.members: list[dict] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                platform.requests.append({"method": "GET", "path": self.path})
                if self.path == "/jwks":
                    public = json.loads(platform.key.export_public())
                    self._answer({"keys": [{**public, "alg": "RS256", "use": "sig"}]})
                elif self.path.startswith("/memberships"):
                    self._answer(
                        {"id": self.path, "context": {"id": "ctx-1"}, "members": platform.members}
                    )
                else:
                    self._answer({}, 404)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                platform.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "body": raw,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )
                if self.path == "/token":
                    self._answer(
                        {
                            "access_token": "platform-token",
                            "token_type": "Bearer",
                            "expires_in": 3600,
                        }
                    )
                elif self.path.endswith("/scores"):
                    self._answer({})
                else:
                    self._answer({}, 404)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def posts(self, suffix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith(suffix)]

    def sign(self, claims: dict, *, key: JWK | None = None) -> str:
        pem = (key or self.key).export_to_pem(private_key=True, password=None)
        return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "platform-key-1"})


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform()
    yield server
    server.close()


@pytest.fixture
def registration(db, platform) -> LtiRegistration:
    Key.objects.generate()
    registration = LtiRegistration.objects.create(
        name="Test LMS",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        auth_url=f"{platform.url}/auth",
        token_url=f"{platform.url}/token",
        keyset_url=f"{platform.url}/jwks",
    )
    LtiDeployment.objects.create(registration=registration, deployment_id="dep-1", is_active=True)
    return registration


@pytest.fixture
def world(learner, instructor):
    w = build_world(learner=learner, instructor=instructor)
    w.assessment.lesson = w.lesson
    w.assessment.save(update_fields=["lesson"])
    return w


def login_step(client, registration) -> dict:
    """The platform starts the OIDC login; we answer with a redirect to its auth URL."""
    response = client.get(
        reverse("lti:login", args=[registration.uuid]),
        {
            "iss": ISSUER,
            "login_hint": "hint",
            "client_id": CLIENT_ID,
            "target_link_uri": "http://testserver/lti/launch/",
            "lti_message_hint": "m",
        },
    )
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["redirect_uri"] == "http://testserver/lti/launch/"
    return params


def claims(nonce: str, *, target: str, sub: str = "platform-user-7", **overrides) -> dict:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "name": "Ann Launch",
        "email": "alice@example.com",  # an existing account's address: never used to link
        LTI + "deployment_id": "dep-1",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "roles": [LEARNER_ROLE],
        LTI + "resource_link": {"id": "rl-1", "title": "Variables"},
        LTI + "target_link_uri": "http://testserver/lti/launch/",
        LTI + "context": {"id": "ctx-1", "title": "Python 101"},
        LTI + "custom": {"skillstudio": target},
    }
    body.update(overrides)
    return body


def launch(client, platform, registration, *, target: str, key=None, **overrides):
    params = login_step(client, registration)
    token = platform.sign(claims(params["nonce"], target=target, **overrides), key=key)
    response = client.post(
        reverse("lti:launch"),
        {"state": params["state"], "id_token": token},
        HTTP_ORIGIN="https://school.lms.example",
    )
    return response, params, token


def run_score_jobs() -> list:
    return [
        send_score.apply(kwargs=job.kwargs, task_id=str(job.task_id))
        for job in PendingJob.objects.filter(task_name=SEND_SCORE_TASK, status="pending")
    ]


@pytest.mark.django_db
def test_a_launched_lesson_quiz_score_reaches_the_platform(
    client, platform, registration, world, learner
):
    ags = {
        "scope": [SCORE_SCOPE],
        "lineitem": f"{platform.url}/lineitems/1",
        "lineitems": f"{platform.url}/lineitems",
    }
    response, _, _ = launch(
        client, platform, registration, target=f"lesson:{world.lesson.pk}", **{AGS: ags}
    )
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("learning:lesson", args=[world.lesson.pk])
    # A new account, linked to the platform's subject; not Alice's, whatever the e-mail says.
    lti_user = LtiUser.objects.get(registration=registration, sub="platform-user-7")
    user = lti_user.auth_user
    assert user is not None and user != learner
    assert user.email.endswith("@" + services.ACCOUNT_DOMAIN) and not user.has_usable_password()
    assert user.full_name == "Ann Launch"
    # Signed in, and the pages may be framed by the platform only.
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["samesite"] == "None" and session_cookie["secure"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "X-Frame-Options" not in page
    assert "frame-ancestors 'self' https://school.lms.example" in page["Content-Security-Policy"]

    # The learner takes the lesson's quiz through the pages.
    started = client.post(reverse("assessments:start", args=[world.assessment.pk]))
    assert started.status_code == 302, started.content
    attempt = AssessmentAttempt.objects.get(learner=user)
    right = world.question.choices.get(is_correct=True)
    submitted = client.post(
        reverse("assessments:attempt", args=[attempt.pk]), {f"q{world.question.pk}": right.pk}
    )
    assert submitted.status_code in (200, 302), submitted.content
    attempt.refresh_from_db()
    assert attempt.score == 100
    # The submit only queued the passback; the job sends it.
    assert platform.posts("/scores") == []
    assert [r.result for r in run_score_jobs()] == [1]
    (score,) = platform.posts("/scores")
    assert score["path"] == "/lineitems/1/scores"
    assert score["headers"]["authorization"] == "Bearer platform-token"
    assert score["headers"]["content-type"] == "application/vnd.ims.lis.v1.score+json"
    body = json.loads(score["body"])
    assert body["userId"] == "platform-user-7"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (100.0, 100)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    # The token request is a client-credentials grant signed with our key.
    (token_request,) = platform.posts("/token")
    assert "client_credentials" in token_request["body"]

    # A second launch by the same platform user signs in the same account.
    client.logout()
    again, _, _ = launch(client, platform, registration, target=f"quiz:{world.assessment.pk}")
    assert again.status_code == 302
    assert again["Location"] == reverse("assessments:detail", args=[world.assessment.pk])
    assert User.objects.filter(email__endswith=services.ACCOUNT_DOMAIN).count() == 1


def assert_nothing_created(registration) -> None:
    assert not LtiUser.objects.exists()
    assert not LtiContext.objects.exists()
    assert not User.objects.filter(email__endswith=services.ACCOUNT_DOMAIN).exists()
    assert list(LtiDeployment.objects.values_list("deployment_id", flat=True)) == ["dep-1"]


@pytest.mark.django_db
def test_a_bad_signature_is_refused(client, platform, registration, world):
    response, _, _ = launch(
        client, platform, registration, target=f"lesson:{world.lesson.pk}", key=platform.other_key
    )
    assert response.status_code == 403
    assert b"LTI launch refused" in response.content
    assert_nothing_created(registration)


@pytest.mark.django_db
def test_an_expired_token_is_refused(client, platform, registration, world):
    past = int(time.time()) - 3600
    response, _, _ = launch(
        client, platform, registration, target=f"lesson:{world.lesson.pk}", iat=past - 60, exp=past
    )
    assert response.status_code == 403
    assert b"expired" in response.content
    assert_nothing_created(registration)


@pytest.mark.django_db
def test_an_unknown_deployment_is_refused_and_not_recorded(client, platform, registration, world):
    response, _, _ = launch(
        client,
        platform,
        registration,
        target=f"lesson:{world.lesson.pk}",
        **{LTI + "deployment_id": "dep-unknown"},
    )
    assert response.status_code == 403
    assert b"deployment" in response.content
    assert_nothing_created(registration)


@pytest.mark.django_db
def test_a_replayed_nonce_is_refused(client, platform, registration, world):
    response, params, token = launch(
        client, platform, registration, target=f"lesson:{world.lesson.pk}"
    )
    assert response.status_code == 302
    replay = client.post(reverse("lti:launch"), {"state": params["state"], "id_token": token})
    assert replay.status_code == 403
    assert b"nonce" in replay.content
    assert LtiUser.objects.count() == 1


@pytest.mark.django_db
def test_an_unpublished_or_missing_target_is_a_clear_400(client, platform, registration, world):
    response, _, _ = launch(
        client, platform, registration, target=f"course:{world.draft_course.pk}"
    )
    assert response.status_code == 400
    assert b"not published" in response.content
    assert_nothing_created(registration)
    response = client.post(reverse("lti:launch"), {"state": "x", "id_token": "not-a-jwt"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_teacher_picks_a_lesson_by_deep_linking(client, platform, registration, world):
    settings_claim = {
        "deep_link_return_url": f"{platform.url}/deep-link-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
    }
    overrides = {
        LTI + "message_type": "LtiDeepLinkingRequest",
        LTI + "roles": [TEACHER_ROLE],
        DL: settings_claim,
    }
    overrides[LTI + "resource_link"] = None
    response, _, _ = launch(client, platform, registration, target="", **overrides)
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("lti:deep_link")
    picker = client.get(reverse("lti:deep_link"))
    assert picker.status_code == 200
    assert f"lesson:{world.lesson.pk}".encode() in picker.content
    bad = client.post(reverse("lti:deep_link"), {"target": f"course:{world.draft_course.pk}"})
    assert bad.status_code == 400
    chosen = client.post(reverse("lti:deep_link"), {"target": f"lesson:{world.lesson.pk}"})
    assert chosen.status_code == 200
    assert f'action="{platform.url}/deep-link-return"'.encode() in chosen.content
    assert f"form-action 'self' {platform.url}" in chosen["Content-Security-Policy"]
    token = chosen.content.decode().split('name="JWT" value="')[1].split('"')[0]
    tool_key = Key.objects.active().latest()
    message = jwt.decode(token, tool_key.public_key, algorithms=["RS256"], audience=ISSUER)
    (item,) = message["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["custom"] == {"skillstudio": f"lesson:{world.lesson.pk}"}
    assert item["url"] == "http://testserver/lti/launch/"
    assert item["lineItem"]["scoreMaximum"] == 100


@pytest.mark.django_db
def test_a_learner_cannot_deep_link(client, platform, registration, world):
    overrides = {
        LTI + "message_type": "LtiDeepLinkingRequest",
        DL: {
            "deep_link_return_url": f"{platform.url}/r",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
        },
    }
    response, _, _ = launch(client, platform, registration, target="", **overrides)
    assert response.status_code == 403
    assert client.get(reverse("lti:deep_link")).status_code == 403


@pytest.mark.django_db
def test_a_class_is_pre_enrolled_from_its_roster(client, platform, registration, world, learner):
    response, _, _ = launch(client, platform, registration, target=f"course:{world.course.pk}")
    assert response.status_code == 302
    context = LtiContext.objects.get()
    context.memberships_url = f"{platform.url}/memberships"
    context.save(update_fields=["memberships_url"])
    platform.members = [
        {"user_id": "platform-user-7", "roles": [LEARNER_ROLE], "status": "Active"},
        {"user_id": "platform-user-8", "roles": [LEARNER_ROLE], "status": "Active", "name": "Bo"},
        {"user_id": "teacher-1", "roles": [TEACHER_ROLE], "status": "Active"},
        {"user_id": "gone-1", "roles": [LEARNER_ROLE], "status": "Inactive"},
    ]
    out = StringIO()
    call_command(
        "lti_enrol_class", "--context", str(context.pk), "--course", world.course.slug, stdout=out
    )
    assert "2 learner(s) enrolled" in out.getvalue()
    enrolled = Enrollment.objects.filter(
        course=world.course, learner__lti_users__registration=registration
    )
    assert sorted(enrolled.values_list("learner__lti_users__sub", flat=True)) == [
        "platform-user-7",
        "platform-user-8",
    ]
    call_command(
        "lti_enrol_class", "--context", str(context.pk), "--course", world.course.slug, stdout=out
    )
    assert enrolled.count() == 2  # idempotent
    with pytest.raises(CommandError, match="No published course"):
        call_command(
            "lti_enrol_class", "--context", str(context.pk), "--course", world.draft_course.slug
        )


@pytest.mark.django_db
def test_jwks_publishes_the_active_keys_and_rotation(client, registration):
    first = Key.objects.get()
    call_command("rotate_keys", "--deactivate-after", "0", stdout=StringIO())
    keys = client.get(reverse("lti:jwks")).json()["keys"]
    assert [k["kid"] for k in keys] != [] and str(first) not in [k["kid"] for k in keys]
    assert all(k["alg"] == "RS256" and "d" not in k for k in keys)


@pytest.mark.django_db
def test_a_normal_session_keeps_strict_framing(client, learner, world):
    client.force_login(learner)
    page = client.get(reverse("learning:lesson", args=[world.lesson.pk]))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


@pytest.mark.django_db
def test_erasure_removes_the_platform_account_and_grade_links(
    client, platform, registration, world
):
    from django.utils import timezone

    from accounts import privacy

    ags = {"scope": [SCORE_SCOPE], "lineitem": f"{platform.url}/lineitems/1"}
    launch(client, platform, registration, target=f"quiz:{world.assessment.pk}", **{AGS: ags})
    user = LtiUser.objects.get().auth_user
    assert LtiGradeLink.objects.filter(learner=user).count() == 1
    exported = {kind: list(rows(user.pk)) for kind, rows in privacy.EXPORT_KINDS.items()}
    assert [a["sub"] for a in exported["lti_accounts"]] == ["platform-user-7"]
    assert exported["lti_accounts"][0]["email"] == "alice@example.com"
    assert [g["assessment_id"] for g in exported["lti_grade_links"]] == [world.assessment.pk]
    privacy.user_erase(user=user, now=timezone.now())
    assert not LtiUser.objects.exists() and not LtiGradeLink.objects.exists()
