"""The cached learner dashboard: served from Redis until a write moves the learner's version.

These tests commit (transaction=True): versions move on commit, and the cache is skipped
inside a transaction, so a test wrapped in one would never reach it. Each write path is
checked the way a learner would notice it: the dashboard read right after the write shows
the change (it equals a fresh computation and differs from the cached one before it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import redis.exceptions
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from assessments.models import AssessmentAttempt, Question
from assessments.services import attempt_start, attempt_submit
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Skill
from catalog.services import courses_unpublish
from catalog.tests.admin_forms import admin_form_data
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights import dashboard
from insights.dashboard import (
    CACHE_HEADER,
    SECTIONS,
    cached_learner_dashboard,
    learner_dashboard,
    refresh_learner_dashboard,
)
from insights.ml import registry
from insights.ml.dropout import score_active_enrollments, train_dropout
from insights.models import InstructorMessage, Recommendation
from insights.paths import generate_learning_path
from insights.recommendations import (
    RECOMMENDATION_TTL,
    recommendation_act,
    refresh_recommendations,
)
from insights.selectors import unread_instructor_messages
from insights.services import instructor_message_read, learning_path_generate
from insights.skills import recompute_learner_skills
from insights.tests.factories import LearnerSkillStateFactory
from insights.tests.helpers import NOW
from insights.tests.oulad_sample import write_oulad_sample
from learning.events import ingest_events
from learning.models import Enrollment, LearnerEvent, LearningGoal, LessonProgress
from learning.services import (
    enrollment_create,
    enrollment_drop,
    goal_create,
    goal_update,
    lesson_complete,
    lesson_position_update,
    lesson_start,
)
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearnerEventFactory,
    LearningGoalFactory,
)
from skillstudio.data_versions import (
    ACTIVITY,
    CATALOG_KEY,
    PROGRESS,
    QUIZ,
    RECOMMENDATIONS,
    learner_version_keys,
)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class World:
    learner: User
    skill: Skill
    course: Course
    lessons: list[Lesson]
    goal: LearningGoal


@pytest.fixture
def world(learner, instructor) -> World:
    """Enrolled in "Django" (3 lessons), a goal on its skill, one study session at 14:00 UTC."""
    skill = SkillFactory(slug="orm", name="ORM")
    course = CourseFactory(title="Django", owner=instructor, skills=[skill])
    module = ModuleFactory(course=course, title="Models", order=1)
    lessons = [
        LessonFactory(module=module, title=f"Lesson {order}", order=order, skills=[skill])
        for order in (1, 2, 3)
    ]
    EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(days=10))
    LearnerSkillStateFactory(learner=learner, skill=skill, level=3, mastery=0.3)
    goal = LearningGoalFactory(learner=learner, title="Back end")
    GoalSkillFactory(goal=goal, skill=skill, target_level=8)
    LearnerEvent.objects.bulk_create(
        LearnerEvent(
            event_id=uuid.uuid4(),
            learner=learner,
            event_type=LearnerEvent.Type.HEARTBEAT,
            occurred_at=NOW - timedelta(hours=1, minutes=minutes),
            received_at=NOW,
        )
        for minutes in (0, 5, 10)
    )
    refresh_recommendations(learner=learner, now=NOW)
    return World(learner=learner, skill=skill, course=course, lessons=lessons, goal=goal)


def fresh(learner: User) -> User:
    # As a request's user: nothing (such as the profile) remembered from earlier reads.
    return User.objects.get(pk=learner.pk)


def warm(learner: User) -> dict:
    """Fill the learner's entry and check the next read is served from it."""
    learner = fresh(learner)
    first, hit = cached_learner_dashboard(learner=learner, now=NOW)
    assert not hit
    again, hit = cached_learner_dashboard(learner=learner, now=NOW)
    assert hit
    assert again == first
    return first


def read_after_write(learner: User) -> dict:
    learner = fresh(learner)
    data, hit = cached_learner_dashboard(learner=learner, now=NOW)
    assert not hit, "the write did not move the learner's version"
    assert data == learner_dashboard(learner=learner, now=NOW)
    return data


def test_a_cached_dashboard_is_served_until_the_learner_writes(world):
    before = warm(world.learner)
    assert before["performance_summary"]["lessons_completed"] == 0
    assert [n["title"] for n in before["recommended_next_lessons"]] == ["Lesson 1"]

    lesson_complete(learner=world.learner, lesson=world.lessons[0], now=NOW)

    after = read_after_write(world.learner)
    assert after["performance_summary"]["lessons_completed"] == 1
    assert [n["title"] for n in after["recommended_next_lessons"]] == ["Lesson 2"]


def test_another_learners_write_leaves_the_entry_alone(world, other_learner):
    before = warm(world.learner)

    goal_create(
        learner=other_learner, title="Other", target_levels={"orm": 5}, weekly_hours=2, now=NOW
    )

    assert cached_learner_dashboard(learner=world.learner, now=NOW) == (before, True)


def test_a_rolled_back_write_leaves_the_cache_as_it_was(world):
    before = warm(world.learner)

    with pytest.raises(RuntimeError), transaction.atomic():
        lesson_complete(learner=world.learner, lesson=world.lessons[0], now=NOW)
        raise RuntimeError("the request failed after the write")

    assert cached_learner_dashboard(learner=world.learner, now=NOW) == (before, True)
    assert before == learner_dashboard(learner=world.learner, now=NOW)


def _heartbeats(world: World, _) -> None:
    ingest_events(
        learner=world.learner,
        events=[
            {
                "event_id": str(uuid.uuid4()),
                "type": "heartbeat",
                "occurred_at": (NOW - timedelta(days=2, minutes=minutes)).isoformat(),
                "lesson_id": world.lessons[0].pk,
            }
            for minutes in (0, 10, 20)
        ],
        now=NOW,
    )


def _new_course(world: World) -> Course:
    course = CourseFactory(title="Postgres")
    LessonFactory(module=ModuleFactory(course=course, order=1), title="Indexes", order=1)
    return course


def _enroll(world: World, course: Course) -> None:
    enrollment_create(learner=world.learner, course=course, now=NOW)


def _drop(world: World, _) -> None:
    enrollment_drop(enrollment=Enrollment.objects.get(learner=world.learner), now=NOW)


def _goal_create(world: World, _) -> None:
    goal_create(
        learner=world.learner, title="Data", target_levels={"orm": 6}, weekly_hours=3, now=NOW
    )


def _goal_update(world: World, _) -> None:
    goal_update(goal=world.goal, title="Back end, revised", now=NOW)


def _lesson_start(world: World, _) -> None:
    lesson_start(learner=world.learner, lesson=world.lessons[0], now=NOW)


def _lesson_position(world: World, _) -> None:
    lesson_position_update(
        learner=world.learner,
        lesson=world.lessons[0],
        position_seconds=600,
        seconds_spent=1800,
        now=NOW,
    )


def _open_attempt(world: World) -> tuple[AssessmentAttempt, Question]:
    assessment = AssessmentFactory(title="ORM quiz")
    question = QuestionFactory(assessment=assessment, skill=world.skill, order=1)
    ChoiceFactory(question=question, text="Right", is_correct=True, order=1)
    ChoiceFactory(question=question, text="Wrong", order=2)
    attempt = attempt_start(
        learner=world.learner, assessment=assessment, now=NOW - timedelta(minutes=5)
    )
    return attempt, question


def _attempt_submit(world: World, opened: tuple[AssessmentAttempt, Question]) -> None:
    attempt, question = opened
    right = question.choices.get(is_correct=True)
    attempt_submit(attempt=attempt, responses={question.pk: {"choices": [right.pk]}}, now=NOW)


def _recompute_skills(world: World, _) -> None:
    recompute_learner_skills(learner=world.learner, now=NOW)


def _path_snapshot(world: World, _) -> None:
    generate_learning_path(goal=world.goal, now=NOW)


def _complete_behind_the_engines_back(world: World) -> None:
    # A direct row write (no service, no version bump): only the refresh that follows
    # can tell the dashboard that its card now points at lesson 2.
    LessonProgress.objects.create(
        learner=world.learner,
        lesson=world.lessons[0],
        status=LessonProgress.Status.COMPLETED,
        started_at=NOW - timedelta(hours=2),
        completed_at=NOW - timedelta(hours=1),
    )


def _recommendations_refresh(world: World, _) -> None:
    refresh_recommendations(learner=world.learner, now=NOW)


def _recommendation_act(world: World, _) -> None:
    card = Recommendation.objects.filter(learner=world.learner, status="active").first()
    recommendation_act(recommendation=card, action="accepted", now=NOW)


def _recommendations_expire(world: World, _) -> None:
    # A refresh a week later: the cards past their expiry are expired (and replaced).
    refresh_recommendations(learner=world.learner, now=NOW + RECOMMENDATION_TTL)


def _catalogue_unpublish(world: World, _) -> None:
    courses_unpublish(courses=Course.objects.filter(pk=world.course.pk), now=NOW)


def _nothing(world: World) -> None:
    return None


# name: (prepare before the cache is warmed, the write under test)
WRITES = {
    "event ingestion": (_nothing, _heartbeats),
    "enrollment": (_new_course, _enroll),
    "enrollment drop": (_nothing, _drop),
    "goal create": (_nothing, _goal_create),
    "goal update": (_nothing, _goal_update),
    "lesson start": (_nothing, _lesson_start),
    "lesson position": (_nothing, _lesson_position),
    "attempt submit and skill update": (_open_attempt, _attempt_submit),
    "skill recompute": (_nothing, _recompute_skills),
    "path snapshot": (_nothing, _path_snapshot),
    "recommendation refresh": (_complete_behind_the_engines_back, _recommendations_refresh),
    "recommendation accepted": (_nothing, _recommendation_act),
    "recommendations expired": (_nothing, _recommendations_expire),
    "course unpublished": (_nothing, _catalogue_unpublish),
}


@pytest.mark.parametrize(("prepare", "write"), list(WRITES.values()), ids=list(WRITES))
def test_every_write_path_shows_on_the_next_dashboard_read(world, prepare, write):
    prepared = prepare(world)
    before = warm(world.learner)

    write(world, prepared)

    assert read_after_write(world.learner) != before


def test_starting_an_attempt_moves_the_version_though_the_dashboard_looks_the_same(world):
    # An open attempt is not on the dashboard today; the version still moves, so a
    # dashboard that starts showing open attempts needs no new invalidation.
    assessment = AssessmentFactory(title="ORM quiz")
    QuestionFactory(assessment=assessment, skill=world.skill, order=1)
    before = warm(world.learner)

    attempt_start(learner=world.learner, assessment=assessment, now=NOW)

    assert read_after_write(world.learner) == before


def test_an_instructor_admin_edit_shows_on_learner_dashboards(client, world, instructor):
    before = warm(world.learner)
    assert before["recommended_next_lessons"][0]["course_title"] == "Django"
    client.force_login(instructor)
    url = reverse("admin:catalog_course_change", args=[world.course.pk])

    response = client.post(url, admin_form_data(client.get(url), title="Django 5"))

    assert response.status_code == 302
    after = read_after_write(world.learner)
    assert after["recommended_next_lessons"][0]["course_title"] == "Django 5"


def test_an_admin_edit_of_a_learners_profile_shows_on_their_dashboard(client, world, admin_user):
    before = warm(world.learner)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[world.learner.pk])

    response = client.post(
        url, admin_form_data(client.get(url), **{"profile-0-timezone": "Asia/Tokyo"})
    )

    assert response.status_code == 302
    after = read_after_write(world.learner)
    # The study session at 14:00 UTC is at 23:00 in Tokyo.
    assert after["engagement"] != before["engagement"]


def test_a_profile_edit_through_the_api_shows_on_the_dashboard(client, world):
    before = warm(world.learner)
    token = AccessToken.for_user(world.learner)

    response = client.patch(
        reverse("api-v1:profile"),
        {"timezone": "Asia/Tokyo"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 200
    assert read_after_write(world.learner)["engagement"] != before["engagement"]


def _recorded_get_many(monkeypatch) -> list[list[str]]:
    """The keys of every ``cache.get_many`` call from now on (the real calls run)."""
    reads: list[list[str]] = []
    get_many = cache.get_many

    def recorded(keys, *args, **kwargs):
        reads.append(list(keys))
        return get_many(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", recorded)
    return reads


def _api_get(client, learner: User):
    return client.get(
        reverse("api-v1:ai-dashboard"), HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(learner)}"
    )


def test_a_warm_api_dashboard_runs_only_the_authentication_query(
    client, world, django_assert_num_queries, django_assert_max_num_queries
):
    learner = fresh(world.learner)
    with CaptureQueriesContext(connection) as computed:
        learner_dashboard(learner=learner, now=NOW)
    # Cold: the user lookup for the token, then at most the dashboard's own queries (the
    # cached path reads catalogue rows its two lock graphs share once: LockGraphs).
    with django_assert_max_num_queries(1 + len(computed)):
        cold = _api_get(client, world.learner)
    assert cold[CACHE_HEADER] == "miss"

    with django_assert_num_queries(1):
        warm_response = _api_get(client, world.learner)

    assert warm_response.status_code == 200
    assert warm_response[CACHE_HEADER] == "hit"
    assert warm_response.json() == cold.json()


def test_a_warm_dashboard_page_runs_only_the_user_query(
    client, world, django_assert_num_queries, monkeypatch
):
    client.force_login(world.learner)
    cold = client.get(reverse("learning:dashboard"))
    assert cold[CACHE_HEADER] == "miss"
    reads = _recorded_get_many(monkeypatch)

    with django_assert_num_queries(1):  # the user (the session comes from Redis)
        page = client.get(reverse("learning:dashboard"))

    # The data versions are read once, for the dashboard and the messages alike.
    version_keys = set(learner_version_keys(world.learner.pk))
    assert [keys for keys in reads if version_keys & set(keys)] == [
        [*learner_version_keys(world.learner.pk), CATALOG_KEY]
    ]

    assert page[CACHE_HEADER] == "hit"
    cards = Recommendation.objects.filter(learner=world.learner, status="active")
    # The next lesson; its weak skill's revision would be the same lesson: one card.
    assert [card.kind for card in cards] == ["next_lesson"]
    for card in cards:
        assert f'id="rec-{card.pk}"' in page.content.decode()


def test_redis_down_serves_the_dashboard_without_the_cache(client, world, monkeypatch):
    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    for method in ("get", "get_many", "set", "set_many", "add"):
        monkeypatch.setattr(cache, method, unreachable)

    response = _api_get(client, world.learner)

    assert response.status_code == 200
    assert response[CACHE_HEADER] == "miss"
    assert response.json()["recommended_next_lessons"][0]["title"] == "Lesson 1"


def test_an_unreachable_entry_store_computes_without_the_cache(world, monkeypatch, caplog):
    warm(world.learner)

    def unreachable(*args, **kwargs):
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(cache, "get", unreachable)
    data, hit = cached_learner_dashboard(learner=world.learner, now=NOW)

    assert not hit
    assert data == learner_dashboard(learner=world.learner, now=NOW)
    assert "Dashboard cache unreachable" in caplog.text


def test_dropout_support_recommendations_show_on_the_dashboard(tmp_path, learner):
    """The nightly scoring adds a support card for a learner at high risk."""
    registry.loader.clear()  # the process-wide loader may hold another test's model
    call_command("import_oulad", str(write_oulad_sample(tmp_path)), stdout=StringIO())
    scored_at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    train_dropout(enrollments=Enrollment.objects.all(), now=scored_at, days=[56])
    # Stopped 60 days ago and missed all three quizzes (as in test_ml_dropout).
    course = CourseFactory(title="Python Basics")
    for days_ago in (60, 50, 40):
        AssessmentFactory(course=course, due_at=scored_at - timedelta(days=days_ago))
    EnrollmentFactory(learner=learner, course=course, enrolled_at=scored_at - timedelta(days=70))
    LearnerEventFactory(
        learner=learner, course_id=course.id, occurred_at=scored_at - timedelta(days=60)
    )
    before = warm(learner)
    assert before["recommendations"] == []

    score_active_enrollments(now=scored_at)

    after = read_after_write(learner)
    registry.loader.clear()
    assert [(card["kind"], card["title"]) for card in after["recommendations"]] == [
        ("support", "Python Basics")
    ]


# ---------------------------------------------------------------- sections after a write
# Each write kind moves only its own data kinds on (skillstudio.data_versions), so the
# read right after it reuses the cached sections of the other kinds. For each kind: the
# read is a miss, it equals a from-scratch build (no stale section), exactly the sections
# reading the written kind were recomputed, and it costs fewer queries than a cold build.


def _lesson_complete(world, _) -> None:
    lesson_complete(learner=world.learner, lesson=world.lessons[0], now=NOW)


def _recommendation_skip(world, _) -> None:
    card = Recommendation.objects.filter(learner=world.learner, status="active").first()
    recommendation_act(recommendation=card, action="skipped", now=NOW)


def _reading(*kinds: str) -> set[str]:
    return {name for name, read in SECTIONS.items() if set(read) & set(kinds)}


# name: (prepare before the cache is warmed, the write, the kinds it moves, the most
# queries of the read after it; a cold read makes more, see below). The lock graphs the warm read
# loaded are memoised for the catalogue's version (learning.locks.LockGraphs).
WRITES = {
    # sessions, histograms and streak: one query (insights.analytics.activity_figures)
    "events batch": (_nothing, _heartbeats, [ACTIVITY], 1),
    # lessons, streak, enrollments and facts (1: learning.locks.lock_facts_and_enrollments_for),
    # revision (lessons studied, candidates); the completion retired the card on the lesson
    # (recommendations_retire_for_lesson): skipped and cards. Paces and next-up read the
    # paths, revision the goals' skills, from the cached sections of the goals (no query).
    # Revise is then empty beside a weak skill: why (1, insights.recommendations.
    # revision_rests_for: the lesson just completed rests).
    "lesson completion": (_nothing, _lesson_complete, [PROGRESS, RECOMMENDATIONS], 8),
    # levels, scores, quizzes, streak, difficulty, facts (1), revision (lessons studied,
    # candidates; the lock graph of courses it had not needed before); next-up reads the
    # cached enrollments and paths
    "quiz": (_open_attempt, _attempt_submit, [QUIZ], 7),
    # skipped, cards, revision (lessons studied, candidates); next-up from cached sections;
    # why Revise is empty (1, as above)
    "recommendation refresh": (
        _complete_behind_the_engines_back,
        _recommendations_refresh,
        [RECOMMENDATIONS],
        5,
    ),
    "recommendation skipped": (_nothing, _recommendation_skip, [RECOMMENDATIONS], 4),
}


@pytest.fixture
def computed_sections(monkeypatch):
    """The names of the sections computed, in order (the real computation runs)."""
    names: list[str] = []
    compute = dashboard._Gathering._section

    def recorded(self, name, learners):
        names.append(name)
        return compute(self, name, learners)

    monkeypatch.setattr(dashboard._Gathering, "_section", recorded)
    return names


@pytest.mark.parametrize(
    ("prepare", "write", "kinds", "queries"), list(WRITES.values()), ids=list(WRITES)
)
def test_the_read_after_a_write_recomputes_only_its_sections_and_is_not_stale(
    world, prepare, write, kinds, queries, computed_sections, django_assert_max_num_queries
):
    prepared = prepare(world)
    before = warm(world.learner)
    write(world, prepared)
    learner = fresh(world.learner)
    learner.profile  # noqa: B018 - as the request's user would have it loaded
    computed_sections.clear()

    with django_assert_max_num_queries(queries):
        data, hit = cached_learner_dashboard(learner=learner, now=NOW)

    assert not hit
    assert set(computed_sections) == _reading(*kinds)
    assert data == learner_dashboard(learner=fresh(world.learner), now=NOW)
    assert data != before or write is _recommendation_skip


def test_a_cold_build_computes_every_section_once(world, computed_sections):
    learner = fresh(world.learner)
    with CaptureQueriesContext(connection) as cold:
        cached_learner_dashboard(learner=learner, now=NOW)
    assert sorted(computed_sections) == sorted(SECTIONS)
    # Every after-write read above costs less than this.
    assert len(cold) > max(queries for *_, queries in WRITES.values())


def test_page_and_api_show_the_same_figures_after_a_write(
    client, world, django_assert_max_num_queries
):
    warm(world.learner)
    client.force_login(world.learner)
    client.get(reverse("learning:dashboard"))  # the messages cached, as on any earlier visit
    _heartbeats(world, None)
    _lesson_complete(world, None)
    # The user (the session comes from Redis) and the read after a completion (WRITES; the
    # events' activity query is among its reads); the unread messages stay cached.
    with django_assert_max_num_queries(1 + WRITES["lesson completion"][3]):
        page = client.get(reverse("learning:dashboard"))
    token = AccessToken.for_user(world.learner)
    api = client.get(reverse("api-v1:ai-dashboard"), HTTP_AUTHORIZATION=f"Bearer {token}")

    assert page.status_code == api.status_code == 200
    assert page[CACHE_HEADER] == "miss"
    assert api[CACHE_HEADER] == "hit"
    assert page.context["dash"] == api.json()
    assert [n["title"] for n in api.json()["recommended_next_lessons"]] == ["Lesson 2"]


def test_sections_cached_before_local_midnight_are_not_reused_after_it(world, computed_sections):
    warm(world.learner)
    _heartbeats(world, None)
    computed_sections.clear()
    tomorrow = NOW + timedelta(days=1)

    data, hit = cached_learner_dashboard(learner=fresh(world.learner), now=tomorrow)

    assert not hit
    assert sorted(computed_sections) == sorted(SECTIONS)
    assert data == learner_dashboard(learner=fresh(world.learner), now=tomorrow)


def test_a_completions_follow_up_recomputes_only_what_its_refresh_moved(world, computed_sections):
    """The learner completes a lesson and opens the dashboard at once (it recomputes what
    the completion moved); the follow-up then refreshes the recommendations and builds the
    next visit's dashboard from the sections still valid: only those reading
    recommendations are computed again, and that visit is served whole from the cache."""
    warm(world.learner)
    lesson_complete(learner=fresh(world.learner), lesson=world.lessons[0], now=NOW)
    cached_learner_dashboard(learner=fresh(world.learner), now=NOW)
    refresh_recommendations(learner=fresh(world.learner), now=NOW)
    computed_sections.clear()

    assert refresh_learner_dashboard(learner_id=world.learner.pk, now=NOW)

    assert set(computed_sections) == _reading(RECOMMENDATIONS)
    data, hit = cached_learner_dashboard(learner=fresh(world.learner), now=NOW)
    assert hit
    assert data == learner_dashboard(learner=fresh(world.learner), now=NOW)
    assert [lesson["title"] for lesson in data["recommended_next_lessons"]] == ["Lesson 2"]


def test_the_follow_up_of_a_learner_gone_computes_nothing(world, computed_sections):
    learner_id = world.learner.pk
    User.objects.filter(pk=learner_id).delete()

    assert not refresh_learner_dashboard(learner_id=learner_id, now=NOW)
    assert computed_sections == []


def test_the_follow_up_inside_a_transaction_computes_nothing(world, computed_sections):
    """Nothing computed there could be stored (the cache is not filled inside one)."""
    with transaction.atomic():
        assert not refresh_learner_dashboard(learner_id=world.learner.pk, now=NOW)
    assert computed_sections == []


def test_unread_messages_stay_cached_through_study_and_move_when_read(
    world, instructor, django_assert_num_queries
):
    message = InstructorMessage.objects.create(
        learner=world.learner,
        sender=instructor,
        course=world.course,
        body="Need a hand?",
        created_at=NOW,
    )
    assert [card.body for card in unread_instructor_messages(learner=world.learner)] == [
        "Need a hand?"
    ]

    _heartbeats(world, None)  # studying does not touch messages: still cached
    with django_assert_num_queries(0):
        cards = unread_instructor_messages(learner=world.learner)
    assert [card.body for card in cards] == ["Need a hand?"]

    instructor_message_read(message=message, now=NOW)
    assert unread_instructor_messages(learner=world.learner) == []


def test_a_completion_on_a_path_reads_the_paths_and_goal_skills_from_the_cache(computed_sections):
    """On the demo catalogue: "Ship a site" asks for HTML and CSS, so the path leaves Web
    Foundations' two JavaScript lessons out. Completing its last lesson on the goal moves
    the goal's pace and empties "Next lessons" for the course; the read after it takes the
    paths and the goals' skills from the sections cached before (no snapshot or goal-skill
    query), and still equals a from-scratch build."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = LearningGoalFactory(learner=learner, title="Ship a site")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="html_css"), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    web = Course.objects.get(slug="web-foundations")
    enrollment_create(learner=learner, course=web, now=NOW)
    first, last = (
        Lesson.objects.get(title=title)
        for title in ("Semantic HTML", "Layout with flexbox and grid")
    )
    lesson_complete(learner=learner, lesson=first, now=NOW)
    before = warm(learner)
    assert [card["title"] for card in before["recommended_next_lessons"]] == [last.title]

    lesson_complete(learner=learner, lesson=last, now=NOW)
    computed_sections.clear()
    with CaptureQueriesContext(connection) as read:
        data, hit = cached_learner_dashboard(learner=fresh(learner), now=NOW)

    assert not hit
    assert "paths" not in computed_sections and "goal_standing" not in computed_sections
    assert {"goal_paces", "next_up", "revision"} <= set(computed_sections)
    tables = " ".join(query["sql"] for query in read.captured_queries)
    assert "insights_learningpathsnapshot" not in tables
    assert "learning_goalskill" not in tables
    assert data == learner_dashboard(learner=fresh(learner), now=NOW)
    [pace_before], [pace_after] = (
        [goal_card["pace"]["progress_percent"] for goal_card in dash["current_goals"]]
        for dash in (before, data)
    )
    assert pace_after > pace_before
    assert [card["course_id"] for card in data["recommended_next_lessons"]] == []
