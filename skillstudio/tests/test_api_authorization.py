"""Authorization matrix: every /api/v1/ endpoint and method, as six kinds of caller.

The endpoints are discovered from the URLconf, so an endpoint added without a
row in MATRIX fails ``test_every_endpoint_has_a_row`` and its own case.
Statuses: 401 anonymous where sign-in is needed, 403 for a visible object the
caller may not change, 404 for an object that is not theirs (never a 403 that
would confirm it exists). Admins reach every learner's objects (SPEC §5: "admins
everything"), except acting as the learner: answering their quiz, their "my" views.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from skillstudio.testing import PASSWORD, World, build_world

ROLES = ("anonymous", "learner", "other_learner", "instructor", "other_instructor", "admin")
PREFIX = "api/v1/"


def discover_endpoints() -> list[tuple[str, str]]:
    """(url name, HTTP method) for every route under /api/v1/, from the URLconf."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str = "") -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                # Namespaces below v1 (e.g. "ml") are part of the name to reverse.
                below_v1 = route.startswith(PREFIX) and route != PREFIX
                inner = pattern.namespace if below_v1 else None
                walk(pattern.url_patterns, route, f"{namespace}{inner}:" if inner else namespace)
            elif isinstance(pattern, URLPattern) and route.startswith(PREFIX):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions:
                    methods = list(actions)
                else:
                    cls = callback.cls
                    methods = [
                        m
                        for m in cls.http_method_names
                        if m not in ("head", "options") and hasattr(cls, m)
                    ]
                found.extend((f"{namespace}{pattern.name}", m.upper()) for m in methods)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ROLES, statuses, strict=True))


PUBLIC_READ = row(200, 200, 200, 200, 200, 200)
SIGNED_IN = row(401, 200, 200, 200, 200, 200)
CREATED_BY_ANY_USER = row(401, 201, 201, 201, 201, 201)
AUTHOR_CREATES = row(401, 403, 403, 201, 201, 201)
OWNER_AUTHOR_CHANGES = row(401, 403, 403, 200, 403, 200)
OWNER_AUTHOR_DELETES = row(401, 403, 403, 204, 403, 204)
# Questions carry the answer key: invisible (404) to everyone but author and admin.
KEY_READ = row(401, 404, 404, 200, 404, 200)
KEY_CREATE = row(401, 404, 404, 201, 404, 201)
KEY_DELETE = row(401, 404, 404, 204, 404, 204)
LEARNER_OWN = row(401, 200, 404, 404, 404, 404)
ADMIN_TOO = row(401, 200, 404, 404, 404, 200)
ADMIN_TOO_DELETE = row(401, 204, 404, 404, 404, 204)
OPEN_TO_ALL = row(200, 200, 200, 200, 200, 200)
OPEN_TO_ALL_CREATED = row(201, 201, 201, 201, 201, 201)
OPEN_TO_ALL_ACCEPTED = row(202, 202, 202, 202, 202, 202)
# Open to everyone; the matrix's body carries a link that is not valid.
OPEN_TO_ALL_BAD_LINK = row(400, 400, 400, 400, 400, 400)

NOT_FOUND = row(404, 404, 404, 404, 404, 404)
INSTRUCTORS_ONLY = row(401, 403, 403, 200, 200, 200)

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("ml:at-risk-not-scored", "GET"): INSTRUCTORS_ONLY,
    ("not-found", "GET"): NOT_FOUND,
    ("not-found", "POST"): NOT_FOUND,
    ("not-found", "PUT"): NOT_FOUND,
    ("not-found", "PATCH"): NOT_FOUND,
    ("not-found", "DELETE"): NOT_FOUND,
    ("auth-register", "POST"): OPEN_TO_ALL_CREATED,
    ("auth-login", "POST"): OPEN_TO_ALL,
    ("auth-refresh", "POST"): OPEN_TO_ALL,
    ("auth-logout", "POST"): OPEN_TO_ALL,
    ("auth-password-reset", "POST"): OPEN_TO_ALL_ACCEPTED,
    ("auth-password-reset-confirm", "POST"): OPEN_TO_ALL_BAD_LINK,
    ("profile", "GET"): SIGNED_IN,
    ("profile", "PATCH"): SIGNED_IN,
    # Only the learner has an export (request_for makes one); a new one is anyone's to ask.
    ("profile-export", "GET"): LEARNER_OWN,
    ("profile-export", "POST"): row(401, 202, 202, 202, 202, 202),
    ("profile-export-download", "GET"): LEARNER_OWN,
    ("profile-profiling", "POST"): SIGNED_IN,
    # Nobody has asked for erasure in the world; anyone may ask with their own password
    # (the admin fixture has another one than the body sends: a wrong password is a 400).
    ("profile-erasure", "GET"): row(401, 404, 404, 404, 404, 404),
    ("profile-erasure", "POST"): row(401, 202, 202, 202, 202, 400),
    ("profile-erasure", "DELETE"): row(401, 404, 404, 404, 404, 404),
    ("skill-list", "GET"): PUBLIC_READ,
    ("catalog-search", "GET"): PUBLIC_READ,
    ("lesson-related", "GET"): SIGNED_IN,
    ("lesson-ask", "GET"): SIGNED_IN,
    # No tutor provider here: 404 for everyone signed in (the tutor's own tests run it
    # against a fake provider, with owner / other learner / draft course cases).
    ("lesson-tutor", "POST"): row(401, 404, 404, 404, 404, 404),
    ("course-list", "GET"): PUBLIC_READ,
    ("course-list", "POST"): AUTHOR_CREATES,
    ("course-detail", "GET"): PUBLIC_READ,
    ("course-detail", "PUT"): OWNER_AUTHOR_CHANGES,
    ("course-detail", "PATCH"): OWNER_AUTHOR_CHANGES,
    ("course-detail", "DELETE"): OWNER_AUTHOR_DELETES,
    ("course-outline", "GET"): PUBLIC_READ,
    ("module-list", "GET"): PUBLIC_READ,
    ("module-list", "POST"): row(401, 403, 403, 201, 403, 201),
    ("module-detail", "GET"): PUBLIC_READ,
    ("module-detail", "PUT"): OWNER_AUTHOR_CHANGES,
    ("module-detail", "PATCH"): OWNER_AUTHOR_CHANGES,
    ("module-detail", "DELETE"): OWNER_AUTHOR_DELETES,
    ("lesson-list", "GET"): PUBLIC_READ,
    ("lesson-list", "POST"): row(401, 403, 403, 201, 403, 201),
    ("lesson-detail", "GET"): PUBLIC_READ,
    ("lesson-detail", "PUT"): OWNER_AUTHOR_CHANGES,
    ("lesson-detail", "PATCH"): OWNER_AUTHOR_CHANGES,
    ("lesson-detail", "DELETE"): OWNER_AUTHOR_DELETES,
    ("goal-list", "GET"): SIGNED_IN,
    ("goal-list", "POST"): CREATED_BY_ANY_USER,
    ("goal-detail", "GET"): ADMIN_TOO,
    ("goal-detail", "PUT"): ADMIN_TOO,
    ("goal-detail", "PATCH"): ADMIN_TOO,
    ("goal-detail", "DELETE"): ADMIN_TOO_DELETE,
    ("goal-abandon", "POST"): ADMIN_TOO,
    ("goal-achieve", "POST"): ADMIN_TOO,
    ("enrollment-list", "GET"): SIGNED_IN,
    ("enrollment-list", "POST"): CREATED_BY_ANY_USER,
    ("enrollment-detail", "GET"): ADMIN_TOO,
    ("enrollment-detail", "DELETE"): ADMIN_TOO_DELETE,
    ("progress-list", "GET"): SIGNED_IN,
    ("progress-detail", "GET"): ADMIN_TOO,
    ("lesson-start", "POST"): SIGNED_IN,
    ("lesson-complete", "POST"): SIGNED_IN,
    ("lesson-position", "POST"): SIGNED_IN,
    ("event-batch", "POST"): SIGNED_IN,
    ("assessment-list", "GET"): SIGNED_IN,
    ("assessment-list", "POST"): AUTHOR_CREATES,
    ("assessment-detail", "GET"): SIGNED_IN,
    ("assessment-detail", "PUT"): OWNER_AUTHOR_CHANGES,
    ("assessment-detail", "PATCH"): OWNER_AUTHOR_CHANGES,
    ("assessment-detail", "DELETE"): OWNER_AUTHOR_DELETES,
    ("question-list", "GET"): KEY_READ,
    ("question-list", "POST"): KEY_CREATE,
    ("question-detail", "GET"): KEY_READ,
    ("question-detail", "PUT"): KEY_READ,
    ("question-detail", "PATCH"): KEY_READ,
    ("question-detail", "DELETE"): KEY_DELETE,
    ("attempt-list", "GET"): SIGNED_IN,
    ("attempt-list", "POST"): CREATED_BY_ANY_USER,
    ("attempt-detail", "GET"): ADMIN_TOO,
    ("attempt-submit", "POST"): row(401, 200, 404, 404, 404, 403),
    # The world's attempt is answered all at once: answering it question by question, or
    # asking for its next question, is a 400 for whoever may reach it
    # (assessments/tests/test_adaptive_doors.py covers adaptive attempts).
    ("attempt-answer", "POST"): row(401, 400, 404, 404, 404, 403),
    ("attempt-next-question", "GET"): row(401, 400, 404, 404, 404, 400),
    ("attempt-skill-check", "POST"): CREATED_BY_ANY_USER,
    ("attempt-course-challenge", "POST"): CREATED_BY_ANY_USER,
    ("ai-dashboard", "GET"): SIGNED_IN,
    ("ai-recommendations", "GET"): SIGNED_IN,
    ("ai-recommendation-action", "POST"): row(401, 200, 404, 404, 404, 403),
    ("ai-learning-path", "GET"): ADMIN_TOO,
    # The world's goal already has this path: re-planning changes nothing, so 200 (no new
    # version) rather than 201.
    ("ai-generate-learning-path", "POST"): row(401, 200, 404, 404, 404, 200),
    ("ai-learning-path-history", "GET"): ADMIN_TOO,
    # Predictive models (insights.ml_api): risk lists are for instructors (a learner is
    # refused by role, 403); one enrollment's risk only for its course's instructor.
    ("ml:at-risk-list", "GET"): INSTRUCTORS_ONLY,
    ("ml:at-risk-detail", "GET"): row(401, 403, 403, 200, 404, 200),
    ("ml:segments", "GET"): INSTRUCTORS_ONLY,
    ("ml:my-risk-list", "GET"): SIGNED_IN,
    ("ml:my-risk-detail", "GET"): LEARNER_OWN,
    ("ml:similar-courses", "GET"): PUBLIC_READ,
    ("ml:courses-like-yours", "GET"): SIGNED_IN,
    ("ml:lessons-like-yours", "GET"): SIGNED_IN,
}


def request_for(name: str, method: str, w: World) -> tuple[dict, str, dict | None]:
    """(url kwargs, query string, JSON body) that an authorised caller would send."""
    course, module, lesson = w.course, w.module, w.lesson
    kwargs: dict = {
        "course-detail": {"pk": course.pk},
        "course-outline": {"pk": course.pk},
        "module-list": {"course_id": course.pk},
        "module-detail": {"course_id": course.pk, "pk": module.pk},
        "lesson-list": {"course_id": course.pk, "module_id": module.pk},
        "lesson-detail": {"course_id": course.pk, "module_id": module.pk, "pk": lesson.pk},
        "goal-detail": {"pk": w.goal.pk},
        "goal-abandon": {"pk": w.goal.pk},
        "goal-achieve": {"pk": w.goal.pk},
        "enrollment-detail": {"pk": w.enrollment.pk},
        "progress-detail": {"pk": w.progress.pk},
        "lesson-start": {"lesson_id": lesson.pk},
        "lesson-complete": {"lesson_id": lesson.pk},
        "lesson-position": {"lesson_id": lesson.pk},
        "lesson-related": {"lesson_id": lesson.pk},
        "lesson-ask": {"lesson_id": lesson.pk},
        "lesson-tutor": {"lesson_id": lesson.pk},
        "assessment-detail": {"pk": w.assessment.pk},
        "question-list": {"assessment_id": w.assessment.pk},
        "question-detail": {"assessment_id": w.assessment.pk, "pk": w.question.pk},
        "attempt-detail": {"pk": w.attempt.pk},
        "attempt-submit": {"pk": w.attempt.pk},
        "attempt-answer": {"pk": w.attempt.pk},
        "attempt-next-question": {"pk": w.attempt.pk},
        "ai-recommendation-action": {"pk": w.recommendation.pk},
        "ml:at-risk-detail": {"enrollment_id": w.enrollment.pk},
        "ml:my-risk-detail": {"enrollment_id": w.enrollment.pk},
        "ml:similar-courses": {"course_id": course.pk},
    }.get(name, {})
    if name.startswith("profile-export"):
        token = _learners_export_token(w)
        if name == "profile-export-download":
            kwargs = {"token": token}
    if (name, method) == ("course-detail", "DELETE"):
        # The main course has learners (deleting it is refused with a 400).
        kwargs = {"pk": w.spare_course.pk}
    if (name, method) == ("assessment-detail", "DELETE"):
        kwargs = {"pk": w.spare_assessment.pk}
    # The learner has progress in the main module (deleting it is refused with a 400).
    if (name, method) == ("module-detail", "DELETE"):
        kwargs = {"course_id": course.pk, "pk": w.spare_module.pk}
    if (name, method) == ("lesson-detail", "DELETE"):
        kwargs = {"course_id": course.pk, "module_id": w.spare_module.pk, "pk": w.spare_lesson.pk}
    query = (
        f"goal_id={w.goal.pk}" if name in ("ai-learning-path", "ai-learning-path-history") else ""
    )
    if name == "catalog-search":
        query = "q=python"
    if name == "lesson-ask":
        query = "question=python"
    question_body = {
        "kind": "true_false",
        "prompt": "Python is dynamically typed.",
        "skill": "python",
        "choices": [{"text": "True", "is_correct": True}, {"text": "False"}],
    }
    bodies = {
        ("auth-register", "POST"): {"email": "new@example.com", "password": "Str0ng-pass-phrase"},
        ("auth-login", "POST"): {"email": "alice@example.com", "password": PASSWORD},
        ("auth-refresh", "POST"): {"refresh": w.refresh_token},
        ("auth-logout", "POST"): {"refresh": w.refresh_token},
        ("auth-password-reset", "POST"): {"email": "alice@example.com"},
        ("auth-password-reset-confirm", "POST"): {
            "uid": "MQ",
            "token": "not-a-token",
            "new_password": "Str0ng-pass-phrase",
        },
        ("profile", "PATCH"): {"timezone": "Europe/Paris"},
        ("profile-profiling", "POST"): {"profiling_opt_out": True},
        ("profile-erasure", "POST"): {"password": PASSWORD},
        ("course-list", "POST"): {"title": "New course", "estimated_hours": 3},
        ("course-detail", "PUT"): {"title": "Renamed", "estimated_hours": 4, "status": "published"},
        ("course-detail", "PATCH"): {"title": "Renamed"},
        ("module-list", "POST"): {"title": "More", "order": 3},
        ("module-detail", "PUT"): {"title": "Renamed", "order": 1},
        ("module-detail", "PATCH"): {"title": "Renamed"},
        ("lesson-list", "POST"): {"title": "Loops", "order": 2},
        ("lesson-detail", "PUT"): {"title": "Renamed", "order": 1},
        ("lesson-detail", "PATCH"): {"title": "Renamed"},
        ("goal-list", "POST"): {"title": "Data", "target_levels": {"python": 5}, "weekly_hours": 3},
        ("goal-detail", "PUT"): {"title": "New", "target_levels": {"python": 8}, "weekly_hours": 4},
        ("goal-detail", "PATCH"): {"weekly_hours": 6},
        ("enrollment-list", "POST"): {"course": course.pk},
        ("lesson-position", "POST"): {"position_seconds": 30, "seconds_spent": 30},
        ("event-batch", "POST"): {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "heartbeat",
                    "occurred_at": timezone.now().isoformat(),
                }
            ]
        },
        ("assessment-list", "POST"): {"title": "New quiz"},
        ("assessment-detail", "PUT"): {"title": "Renamed quiz"},
        ("assessment-detail", "PATCH"): {"passing_score": 70},
        ("question-list", "POST"): question_body,
        ("question-detail", "PUT"): question_body | {"order": 1},
        ("question-detail", "PATCH"): {"prompt": "Reworded?"},
        ("attempt-list", "POST"): {"assessment": w.assessment.pk},
        ("attempt-submit", "POST"): {"responses": {}, "allow_unanswered": True},
        ("attempt-answer", "POST"): {"question": w.question.pk},
        ("attempt-skill-check", "POST"): {"skill": "python"},
        ("attempt-course-challenge", "POST"): {"course": course.pk},
        ("ai-recommendation-action", "POST"): {"action": "accepted"},
        ("ai-generate-learning-path", "POST"): {"goal_id": w.goal.pk},
        ("lesson-tutor", "POST"): {"question": "python"},
    }
    return kwargs, query, bodies.get((name, method))


def _learners_export_token(w: World) -> str:
    """A ready export of the world's learner (the goal's owner), as its download token."""
    from accounts import privacy

    export = privacy.data_export_request(learner=w.goal.learner, now=timezone.now())
    privacy.data_export_build(export_id=export.pk, now=timezone.now())
    return privacy.data_export_token(export)


ENDPOINTS = discover_endpoints()


def test_every_endpoint_has_a_row_and_every_row_an_endpoint():
    assert set(ENDPOINTS) - set(MATRIX) == set(), "endpoints without a row in MATRIX"
    assert set(MATRIX) - set(ENDPOINTS) == set(), "rows for endpoints that no longer exist"


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), ENDPOINTS, ids=[f"{n}:{m}" for n, m in ENDPOINTS])
def test_status_per_role(
    name, method, learner, other_learner, instructor, other_instructor, admin_user
):
    expected = MATRIX.get((name, method))
    if expected is None:
        pytest.fail(f"{method} {name} has no row in MATRIX")
    world = build_world(learner=learner, instructor=instructor)
    users = {
        "anonymous": None,
        "learner": learner,
        "other_learner": other_learner,
        "instructor": instructor,
        "other_instructor": other_instructor,
        "admin": admin_user,
    }
    kwargs, query, body = request_for(name, method, world)
    if name == "not-found":
        url = "/api/v1/no/such/endpoint"
    else:
        url = reverse(f"api-v1:{name}", kwargs=kwargs) + (f"?{query}" if query else "")

    got: dict[str, int] = {}
    for role in ROLES:
        client = APIClient()
        client.force_authenticate(users[role])
        # Each caller meets the same world: what one role changed is rolled back.
        try:
            with transaction.atomic():
                response = getattr(client, method.lower())(url, body, format="json")
                raise _Rollback
        except _Rollback:
            pass
        got[role] = response.status_code
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}

    assert got == expected
