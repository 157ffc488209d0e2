"""No GET writes anything: every learner page and API read endpoint, walked as the demo
learner (history, a goal with a path, quizzes, never refreshed) and as a learner who has
just signed up, leaves every table as it was.

"As it was": the row count of every model (django.apps) and, where a table has an
``updated_at`` column, its latest value, so an update in place is caught too. Caches in
Redis may fill; the database does not change.

Every named route that answers GET must be walked here (or be listed as not a learner
read, with the reason), so a new page or endpoint cannot slip past this test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db.models import Count, Max
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_register
from assessments.models import Assessment, AssessmentAttempt
from assessments.services import attempt_start, skill_check_start
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson
from insights.services import learning_path_generate
from learning.models import Enrollment, LearningGoal, LessonProgress
from skillstudio.devstack import DEMO_ACCOUNTS

pytestmark = pytest.mark.django_db

# Routes that do not serve a learner's read: writes (POST only) and the API's docs.
NOT_LEARNER_READS = {
    "accounts:logout",  # an action (POST), not a page
    "accounts:export_request",
    "accounts:profiling",
    "accounts:erasure_request",
    "accounts:erasure_cancel",
    "catalog:course_enroll",
    "catalog:course_leave",
    "catalog:lesson_tutor",  # POST only (a provider call); off without a provider
    "learning:lesson_start",
    "learning:goal_abandon",
    "learning:goal_achieve",
    # A one-time link from the reset e-mail (its GET only stores the token in the session
    # and redirects); the e-mail test follows it.
    "accounts:password_reset_confirm",
    "learning:lesson_complete",
    "assessments:start",
    "assessments:skill_check",
    "assessments:course_challenge",
    "insights:path_generate",
    "insights:recommendation_action",
    "insights:message_read",
    "api-schema",  # the OpenAPI document: no learner data, and slow to build
    "api-docs",
    "api-v1:auth-register",
    "api-v1:profile-profiling",  # POST only
    "api-v1:auth-login",
    "api-v1:auth-refresh",
    "api-v1:auth-logout",
    "api-v1:lesson-start",
    "api-v1:lesson-tutor",  # POST only (a provider call); off without a provider
    "api-v1:lesson-complete",
    "api-v1:lesson-position",
    "api-v1:event-batch",
    "api-v1:ai-recommendation-action",
    "api-v1:ai-generate-learning-path",
    "api-v1:goal-abandon",
    "api-v1:goal-achieve",
    "api-v1:auth-password-reset",
    "api-v1:auth-password-reset-confirm",
    "api-v1:attempt-submit",
    "api-v1:attempt-answer",
    "api-v1:attempt-skill-check",
    "api-v1:attempt-course-challenge",
    "api-v1:not-found",
    "admin-login",  # the staff sign-in form (Django admin), not a learner page
}
LEARNER_NAMESPACES = {
    "",
    "accounts",
    "catalog",
    "learning",
    "assessments",
    "insights",
    "api-v1",
    "api-v1:ml",
}


def _route_names(patterns=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            child = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            names |= _route_names(pattern.url_patterns, child)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace in LEARNER_NAMESPACES:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def database_state() -> dict[str, tuple]:
    """Per model: (row count, latest updated_at when it has one)."""
    state = {}
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        fields = {f.name for f in model._meta.concrete_fields}
        query = model._default_manager.all()
        if "updated_at" in fields:
            state[model._meta.label] = tuple(
                query.aggregate(n=Count("pk"), at=Max("updated_at")).values()
            )
        else:
            state[model._meta.label] = (query.count(),)
    return state


@dataclass
class Read:
    name: str  # the route name, for the coverage check
    url: str
    htmx: bool = False


def learner_reads(learner: User) -> list[Read]:
    """Every learner GET with real ids from the learner's own world."""
    goal = LearningGoal.objects.filter(learner=learner).first()
    enrollment = Enrollment.objects.filter(learner=learner).first()
    progress = LessonProgress.objects.filter(learner=learner).first()
    attempts = AssessmentAttempt.objects.filter(learner=learner).order_by("submitted_at")
    enrolled = Enrollment.objects.filter(learner=learner).values("course")
    # The risky lesson page: unlocked, in a course the learner has not joined.
    fresh_lesson = (
        Lesson.objects.filter(module__course__status=Course.Status.PUBLISHED, prerequisites=None)
        .exclude(module__course__in=enrolled)
        .select_related("module__course")
        .first()
    )
    course = fresh_lesson.module.course
    module = fresh_lesson.module
    quiz = Assessment.objects.filter(is_published=True).order_by("pk").first()
    reads = [
        Read("home", reverse("home")),
        Read("healthz", reverse("healthz")),
        Read("accounts:signup", reverse("accounts:signup")),
        Read("accounts:login", reverse("accounts:login")),
        Read("accounts:password_change", reverse("accounts:password_change")),
        Read("accounts:password_change_done", reverse("accounts:password_change_done")),
        Read("accounts:account", reverse("accounts:account")),
        Read("accounts:password_reset", reverse("accounts:password_reset")),
        Read("accounts:password_reset_done", reverse("accounts:password_reset_done")),
        Read("accounts:password_reset_complete", reverse("accounts:password_reset_complete")),
        Read("learning:goal_new", reverse("learning:goal_new")),
        Read("catalog:course_list", reverse("catalog:course_list")),
        Read("catalog:course_list", reverse("catalog:course_list") + "?q=python", htmx=True),
        Read("catalog:course_detail", course.get_absolute_url()),
        Read("learning:dashboard", reverse("learning:dashboard")),
        Read("learning:dashboard", reverse("learning:dashboard"), htmx=True),
        Read("learning:onboarding", reverse("learning:onboarding")),
        Read("learning:lesson", fresh_lesson.get_absolute_url()),
        Read("assessments:detail", reverse("assessments:detail", args=[quiz.pk])),
        Read("insights:paths", reverse("insights:paths")),
        Read("insights:progress", reverse("insights:progress")),
        Read("api-v1:profile", "/api/v1/profile"),
        Read("api-v1:skill-list", "/api/v1/skills"),
        Read("api-v1:course-list", "/api/v1/courses/"),
        Read("api-v1:course-detail", f"/api/v1/courses/{course.pk}/"),
        Read("api-v1:course-outline", f"/api/v1/courses/{course.pk}/outline/"),
        Read("api-v1:module-list", f"/api/v1/courses/{course.pk}/modules/"),
        Read("api-v1:module-detail", f"/api/v1/courses/{course.pk}/modules/{module.pk}/"),
        Read("api-v1:lesson-list", f"/api/v1/courses/{course.pk}/modules/{module.pk}/lessons/"),
        Read(
            "api-v1:lesson-detail",
            f"/api/v1/courses/{course.pk}/modules/{module.pk}/lessons/{fresh_lesson.pk}/",
        ),
        Read("api-v1:goal-list", "/api/v1/learning/goals/"),
        Read("api-v1:enrollment-list", "/api/v1/learning/enrollments/"),
        Read("api-v1:progress-list", "/api/v1/learning/progress/"),
        Read("api-v1:assessment-list", "/api/v1/assessments/"),
        Read("api-v1:assessment-detail", f"/api/v1/assessments/{quiz.pk}/"),
        # An instructor's endpoint: a learner's read is refused, and still writes nothing.
        Read("api-v1:question-list", f"/api/v1/assessments/{quiz.pk}/questions/"),
        Read(
            "api-v1:question-detail",
            f"/api/v1/assessments/{quiz.pk}/questions/{quiz.questions.first().pk}/",
        ),
        Read("api-v1:attempt-list", "/api/v1/attempts/"),
        Read("api-v1:ai-dashboard", "/api/v1/ai/dashboard"),
        Read("api-v1:ai-recommendations", "/api/v1/ai/recommendations"),
        Read("api-v1:ml:at-risk-list", "/api/v1/ml/at-risk"),
        Read("api-v1:ml:at-risk-not-scored", "/api/v1/ml/at-risk/not-scored"),
        Read("accounts:privacy", reverse("accounts:privacy")),
        Read("accounts:export_download", reverse("accounts:export_download", args=["none"])),
        Read("api-v1:profile-export", "/api/v1/profile/export"),
        Read("api-v1:profile-erasure", "/api/v1/profile/erasure"),
        Read("api-v1:profile-export-download", "/api/v1/profile/export/none"),
        Read("api-v1:ml:my-risk-list", "/api/v1/ml/my-risks"),
        Read("api-v1:ml:similar-courses", f"/api/v1/ml/courses/{course.pk}/similar"),
        Read("api-v1:ml:lessons-like-yours", "/api/v1/ml/recommended-lessons"),
        Read("api-v1:ml:segments", "/api/v1/ml/segments"),
        Read("api-v1:ml:courses-like-yours", "/api/v1/ml/recommended-courses"),
        Read("api-v1:catalog-search", "/api/v1/search?q=python"),
        Read("api-v1:lesson-related", f"/api/v1/lessons/{fresh_lesson.pk}/related"),
        Read("api-v1:lesson-ask", f"/api/v1/lessons/{fresh_lesson.pk}/ask?question=loops"),
        Read(
            "catalog:lesson_ask",
            reverse("catalog:lesson_ask", args=[fresh_lesson.pk]) + "?question=loops",
        ),
    ]
    if goal is not None:
        reads += [
            Read("insights:path", reverse("insights:path", args=[goal.pk])),
            Read("learning:goal_edit", reverse("learning:goal_edit", args=[goal.pk])),
            Read("api-v1:goal-detail", f"/api/v1/learning/goals/{goal.pk}/"),
            Read("api-v1:ai-learning-path", f"/api/v1/ai/learning-path?goal_id={goal.pk}"),
            Read(
                "api-v1:ai-learning-path-history",
                f"/api/v1/ai/learning-path/history?goal_id={goal.pk}",
            ),
        ]
    if enrollment is not None:
        joined = enrollment.course.modules.first().lessons.first()
        reads += [
            Read("learning:lesson", joined.get_absolute_url()),
            Read("catalog:course_detail", enrollment.course.get_absolute_url()),
            Read("api-v1:enrollment-detail", f"/api/v1/learning/enrollments/{enrollment.pk}/"),
            Read("api-v1:ml:my-risk-detail", f"/api/v1/ml/my-risks/{enrollment.pk}"),
            Read("api-v1:ml:at-risk-detail", f"/api/v1/ml/at-risk/{enrollment.pk}"),
        ]
    if progress is not None:
        reads.append(Read("api-v1:progress-detail", f"/api/v1/learning/progress/{progress.pk}/"))
    for attempt in attempts:  # the open one (the form) and the submitted ones (results)
        reads += [
            Read("assessments:attempt", reverse("assessments:attempt", args=[attempt.pk])),
            Read("api-v1:attempt-detail", f"/api/v1/attempts/{attempt.pk}/"),
            Read("api-v1:attempt-next-question", f"/api/v1/attempts/{attempt.pk}/next-question/"),
        ]
    return reads


@pytest.fixture
def demo_learner() -> User:
    now = timezone.now()
    seed_demo(now=now)
    learner = User.objects.get(email=DEMO_ACCOUNTS[0][1])
    for goal in LearningGoal.objects.filter(learner=learner):
        learning_path_generate(goal=goal, now=now)
    quiz = Assessment.objects.filter(is_published=True).exclude(attempts__learner=learner).first()
    attempt_start(learner=learner, assessment=quiz, now=now)  # an open attempt to look at
    # And an open adaptive one: its page and progress are reads too.
    skill_check_start(learner=learner, skill=quiz.questions.first().skill, now=now)
    return learner


@pytest.fixture
def new_learner(demo_learner) -> User:
    """Just signed up: no goal yet, recommendations never refreshed (the demo world)."""
    return user_register(email="new@example.com", password="a-long-unusual-passphrase")


def _walk(learner: User, client, api: APIClient, reads: list[Read]) -> dict[str, int]:
    statuses = {}
    for read in reads:
        headers = {"HX-Request": "true"} if read.htmx else {}
        door = api if read.url.startswith("/api/") else client
        response = door.get(read.url, headers=headers)
        assert response.status_code < 500, read.url
        statuses[read.url] = response.status_code
    return statuses


@pytest.mark.parametrize("who", ["demo_learner", "new_learner"])
def test_learner_gets_leave_the_database_unchanged(who, request, client):
    learner = request.getfixturevalue(who)
    reads = learner_reads(learner)
    client.force_login(learner)  # the session row exists before the walk
    api = APIClient()
    api.force_authenticate(learner)
    before = database_state()

    statuses = _walk(learner, client, api, reads)

    assert database_state() == before
    # The pages a learner uses were really served, not refused.
    served = {read.name for read in reads if statuses[read.url] == 200}
    assert {
        "learning:dashboard",
        "learning:lesson",
        "catalog:course_detail",
        "api-v1:ai-recommendations",
        "api-v1:ai-dashboard",
    } <= served
    if who == "demo_learner":
        assert {"insights:path", "assessments:attempt", "api-v1:ai-learning-path"} <= served


def test_every_learner_get_route_is_walked(demo_learner):
    walked = {read.name for read in learner_reads(demo_learner)}

    assert _route_names() - NOT_LEARNER_READS - walked == set()
    assert walked <= _route_names()
