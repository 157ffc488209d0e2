"""Issue 13, QA walk on the demo data: what the learner is sent to next passes over the
lessons their path lets them skip (next-lesson cards, the dashboard, struggle support cards,
where completing a lesson leads), an empty "Next lessons" says why, and a course locked by a
prerequisite says truthfully that the lessons the learner started stay open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from assessments.services import attempt_start, attempt_submit
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Skill
from catalog.services import course_unpublish
from insights.dashboard import NOTHING_NEXT, learner_dashboard
from insights.models import Recommendation
from insights.recommendations import (
    next_lessons_for,
    refresh_recommendations,
    revision_lessons_for,
)
from insights.services import learning_path_generate
from insights.sim.driver import response_for
from insights.struggle import detect_struggle_for
from insights.tests.factories import LearnerSkillStateFactory
from learning.models import LearningGoal, LessonProgress
from learning.selectors import course_outline
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory
from skillstudio.devstack import DEMO_ACCOUNTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
# The pages read the clock: the demo story is told up to now.
NOW = timezone.now()
RESOURCES = "Resources, verbs and status codes"  # Lea's lesson in progress, skippable on REST


@pytest.fixture
def lea():
    """The demo learner with the path her goal gets: it lists the Flask lesson she started,
    "Resources, verbs and status codes", to skip (REST APIs proficient on 4 answers)."""
    seed_demo(now=NOW)
    [email] = [email for role, email, _ in DEMO_ACCOUNTS if role == "learner"]
    learner = User.objects.get(email=email)
    learning_path_generate(goal=LearningGoal.objects.get(learner=learner), now=NOW)
    resources = Lesson.objects.get(title=RESOURCES)
    outline = course_outline(
        learner=learner, course=resources.module.course, now=NOW, path_skips=True
    )
    [item] = [i for m in outline.modules for i in m.lessons if i.lesson == resources]
    assert item.skip_reason == "REST APIs proficient on 4 answers"
    assert item.status == LessonProgress.Status.IN_PROGRESS and not item.locked
    return learner


def test_next_lessons_and_support_cards_pass_over_the_started_lesson_the_path_skips(lea):
    resources = Lesson.objects.get(title=RESOURCES)

    [next_up] = next_lessons_for(learner_ids=[lea.pk], now=NOW).values()
    cards = refresh_recommendations(learner=lea, now=NOW)
    struggle = detect_struggle_for(learner_ids=[lea.pk], now=NOW)[lea.pk]

    assert resources.pk not in [item.lesson_id for item in next_up]
    assert next_up, "the SQL course still has a lesson to take"
    assert all(resources.get_absolute_url() != card.url for card in cards)
    assert not any(RESOURCES in reason for reason in struggle.reasons)
    assert "stalled_progress" not in struggle.signals


def test_course_page_continue_passes_over_the_skippable_lesson(client, lea):
    flask = Course.objects.get(slug="python-backend-flask")
    client.force_login(lea)

    html = client.get(flask.get_absolute_url()).content.decode()

    assert f"Continue: {RESOURCES}" not in html
    assert "You can skip this: REST APIs proficient on 4 answers." in html


def test_locked_course_headline_says_the_started_lessons_stay_open(client, lea):
    """Flask builds on SQL and PostgreSQL, which Lea has not met; she started three Flask
    lessons (before the lock applied), so those stay open and the page says so."""
    flask = Course.objects.get(slug="python-backend-flask")
    partly = (
        "Some lessons are locked: 1 of 4 wait for what the course builds on; "
        "the 3 lessons you started stay open"
    )
    client.force_login(lea)
    html = client.get(flask.get_absolute_url()).content.decode()
    assert partly in html
    assert "This course is locked" not in html

    other = LearnerFactory()
    client.force_login(other)
    other_html = client.get(flask.get_absolute_url()).content.decode()
    assert "This course is locked" in other_html and "Some lessons are locked" not in other_html

    client.logout()
    anonymous = client.get(flask.get_absolute_url()).content.decode()
    assert "This course is locked" in anonymous and "Some lessons are locked" not in anonymous


def test_api_outline_says_which_lessons_stay_open(as_user, api, lea):
    flask = Course.objects.get(slug="python-backend-flask")
    url = f"/api/v1/courses/{flask.pk}/outline/"

    mine = as_user(lea).get(url).json()
    theirs = as_user(LearnerFactory()).get(url).json()

    assert mine["locked"] is True  # the course's prerequisite is still unmet
    assert mine["lessons_locked"] == 1
    assert mine["lock_headline"].startswith("Some lessons are locked: 1 of 4")
    assert [lesson["locked"] for lesson in mine["modules"][0]["lessons"]][:1] == [False]
    assert theirs["locked"] is True and theirs["lessons_locked"] == 4
    assert theirs["lock_headline"] == "This course is locked"
    anonymous = api.get(url)
    assert anonymous.status_code in (200, 401)
    if anonymous.status_code == 200:
        assert anonymous.json()["lock_headline"] == "This course is locked"


def _python_shown(learner) -> None:
    """Python proficient on 6 answers of 5 questions, practised yesterday."""
    LearnerSkillStateFactory(
        learner=learner,
        skill=Skill.objects.get(slug="python"),
        mastery=0.85,
        level=9,
        evidence_count=6,
        correct_count=5,
        distinct_questions=5,
        last_practiced_at=NOW - timedelta(days=1),
    )


@pytest.fixture
def bert(learner):
    """A new learner who showed Python (not data structures) on a goal for data structures:
    his path keeps Python Fundamentals but lets him skip its Python-only lessons."""
    seed_demo(now=NOW)
    _python_shown(learner)
    goal = LearningGoalFactory(learner=learner, title="Data structures")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="data_structures"), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    course = Course.objects.get(slug="python-fundamentals")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(days=1))
    outline = course_outline(learner=learner, course=course, now=NOW, path_skips=True)
    lessons = [item for module in outline.modules for item in module.lessons]
    assert [bool(item.skip_reason) for item in lessons] == [True, True, True, False]
    return learner


def test_skimming_the_last_unskippable_lesson_leads_to_the_course_not_a_skippable_one(
    client, bert, other_learner
):
    course = Course.objects.get(slug="python-fundamentals")
    last = Lesson.objects.filter(module__course=course).order_by("module__order", "order").last()
    url = reverse("learning:lesson_complete", args=[last.pk])

    client.logout()
    assert client.post(url, {"confirm_skim": "1"}).status_code == 302  # to the login page
    assert not LessonProgress.objects.filter(learner=bert, lesson=last).exists()
    client.force_login(other_learner)  # not enrolled: refused, nothing recorded for Bert
    client.post(url, {"confirm_skim": "1"})
    assert not LessonProgress.objects.filter(learner=bert, lesson=last).exists()

    client.force_login(bert)
    response = client.post(url, {"confirm_skim": "1"})

    assert response.status_code == 302
    assert response["Location"] == course.get_absolute_url()
    assert LessonProgress.objects.get(learner=bert, lesson=last).status == "completed"
    dashboard = learner_dashboard(learner=bert, now=NOW + timedelta(minutes=1))
    assert dashboard["recommended_next_lessons"] == []
    assert dashboard["next_lessons_note"] == NOTHING_NEXT
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert "Nothing to take next in your courses" in page
    assert "Enroll in a course from" not in page
    # The API says the same.
    assert client.get("/api/v1/ai/dashboard").json()["next_lessons_note"] == NOTHING_NEXT


def _gets_data_structures_wrong(learner: User, *, since) -> None:
    """The Python Fundamentals quiz taken three times from ``since`` (a struggling topic
    needs three answers, the quiz has one on it), data structures wrong, the rest right."""
    quiz = Assessment.objects.get(title="Python Fundamentals quiz")
    for minutes in (0, 20, 40):
        at = since + timedelta(minutes=minutes)
        attempt = attempt_start(learner=learner, assessment=quiz, now=at)
        attempt_submit(
            attempt=attempt,
            responses={
                q.pk: response_for(q, q.choices.all(), correct=q.skill.slug != "data_structures")
                for q in quiz.questions.select_related("skill")
            },
            now=at + timedelta(minutes=10),
        )


def test_the_lesson_just_skimmed_is_not_the_revision_step_named_next(client, bert):
    """Bert gets his data structures questions wrong in the Python Fundamentals quiz: the
    dashboard's message sends him to "Lists, dicts, sets and tuples". Once he skims it, it
    is not named again at once (it comes back for review a day later)."""
    _gets_data_structures_wrong(bert, since=NOW)
    lists = Lesson.objects.get(title="Lists, dicts, sets and tuples")
    before = learner_dashboard(learner=bert, now=NOW + timedelta(minutes=51))
    # Not yet studied, it is his next lesson: named by the message, not also under "Revise".
    assert [item["lesson_id"] for item in before["recommended_next_lessons"]] == [lists.pk]
    assert before["revision_recommendations"] == []
    assert "Lists, dicts, sets and tuples" in str(before["ai_insights"])

    client.force_login(bert)
    client.post(reverse("learning:lesson_complete", args=[lists.pk]), {"confirm_skim": "1"})
    after = learner_dashboard(learner=bert, now=timezone.now())
    later = learner_dashboard(learner=bert, now=timezone.now() + timedelta(days=2))

    assert lists.pk not in [item["lesson_id"] for item in after["revision_recommendations"]]
    assert "Lists, dicts, sets and tuples" not in str(after["ai_insights"])
    assert [item["lesson_id"] for item in later["revision_recommendations"]] == [lists.pk]


def test_a_course_with_only_skippable_lessons_left_points_to_the_next_course_on_the_path(
    client, learner
):
    """The QA walk: after the last lesson Nina had to take, the course page at 50 % had no
    Continue and no word on where to go. It now says the rest is skippable and links the
    next course of her path."""
    seed_demo(now=NOW)
    _python_shown(learner)
    goal = LearningGoalFactory(learner=learner, title="Data work")
    for slug in ("data_structures", "sql"):
        GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug=slug), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    fundamentals = Course.objects.get(slug="python-fundamentals")
    sql = Course.objects.get(slug="sql-and-postgresql")
    EnrollmentFactory(learner=learner, course=fundamentals, enrolled_at=NOW - timedelta(days=1))
    last = Lesson.objects.filter(module__course=fundamentals).order_by("module__order", "order")
    client.force_login(learner)
    before = client.get(fundamentals.get_absolute_url()).content.decode()
    assert f"Continue: {last.last().title}" in before
    assert 'id="nothing-left"' not in before

    client.post(reverse("learning:lesson_complete", args=[last.last().pk]), {"confirm_skim": "1"})
    html = client.get(fundamentals.get_absolute_url()).content.decode()

    assert "Continue:" not in html
    assert "Nothing left here that your learning path asks for: it lets you skip the rest." in html
    assert f'href="{sql.get_absolute_url()}">SQL and PostgreSQL</a>' in html
    # Not enrolled, nothing of the kind; anonymous neither.
    client.force_login(LearnerFactory())
    assert 'id="nothing-left"' not in client.get(fundamentals.get_absolute_url()).content.decode()
    client.logout()
    assert 'id="nothing-left"' not in client.get(fundamentals.get_absolute_url()).content.decode()


def test_a_refused_accept_over_htmx_also_refreshes_next_lessons_and_revise(client, bert):
    """QA walk (issue 13): Accept on a card whose course was unpublished since is refused
    and the card loses its links, but "Next lessons" and "Revise" kept linking into that
    course until a reload. The refused response now carries both panels, read as the page
    reads them, for htmx to swap in out of band."""
    earlier = timezone.now() - timedelta(hours=2)
    _gets_data_structures_wrong(bert, since=earlier)
    fundamentals = Course.objects.get(slug="python-fundamentals")
    lists = Lesson.objects.get(title="Lists, dicts, sets and tuples")
    cards = refresh_recommendations(learner=bert, now=earlier + timedelta(hours=1))
    card = next(rec for rec in cards if rec.lesson_id == lists.pk)
    client.force_login(bert)
    lesson_link = f'href="{reverse("learning:lesson", args=[lists.pk])}"'
    page = client.get(reverse("learning:dashboard")).content.decode()
    # The next lesson, not also a revision on the same page (QA walk, issue 13).
    assert lesson_link in page.split('id="next-lessons"')[1].split("</section>")[0]
    assert lesson_link not in page.split('id="revision"')[1].split("</section>")[0]
    course_unpublish(course=fundamentals, now=timezone.now())

    html = client.post(
        reverse("insights:recommendation_action", args=[card.pk, "accept"]),
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "no longer available" in html
    assert lesson_link not in html
    next_panel = html.split('<section id="next-lessons"')[1].split("</section>")[0]
    revise_panel = html.split('<section id="revision"')[1].split("</section>")[0]
    assert next_panel.startswith(' aria-labelledby="next-heading" hx-swap-oob="true">')
    assert revise_panel.startswith(' aria-labelledby="revision-heading" hx-swap-oob="true">')
    assert "Nothing to revise right now." in revise_panel
    # A plain page load shows the same panels (no oob attribute outside htmx).
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert lesson_link not in page and "hx-swap-oob" not in page


def test_a_revision_card_stored_before_a_skim_leaves_with_the_skim(client, as_user, learner):
    """QA walk (issue 13): a lesson just skimmed is not offered for revision for a day
    (REVISION_REST), but the revision card stored before the skim stayed on the dashboard
    until the deferred refresh ran. The completion retires the cards on that lesson."""
    seed_demo(now=NOW)
    LearnerSkillStateFactory(
        learner=learner,
        skill=Skill.objects.get(slug="html_css"),
        mastery=0.2,
        level=2,
        last_practiced_at=timezone.now() - timedelta(days=1),
    )
    semantic = Lesson.objects.get(title="Semantic HTML")
    [card] = refresh_recommendations(learner=learner, now=timezone.now() - timedelta(minutes=5))
    assert (card.kind, card.lesson) == (Recommendation.Kind.REVISION, semantic)
    lesson_link = f'href="{reverse("learning:lesson", args=[semantic.pk])}"'
    client.force_login(learner)
    assert lesson_link in _cards_panel(client.get(reverse("learning:dashboard")))

    client.post(reverse("learning:lesson_complete", args=[semantic.pk]), {"confirm_skim": "1"})

    assert LessonProgress.objects.get(learner=learner, lesson=semantic).skimmed
    card.refresh_from_db()
    assert card.status == Recommendation.Status.EXPIRED
    assert lesson_link not in _cards_panel(client.get(reverse("learning:dashboard")))
    listed = as_user(learner).get("/api/v1/ai/recommendations").json()
    assert semantic.title not in str(listed)
    # The deferred refresh agrees: the lesson rests from revision.
    cards = refresh_recommendations(learner=learner, now=timezone.now())
    assert semantic.pk not in [rec.lesson_id for rec in cards]


def _cards_panel(response) -> str:
    """The dashboard's "Recommended for you" section."""
    return response.content.decode().split('id="recs-heading"')[1].split("</section>")[0]


def _recommended_section(page: str) -> str:
    return page.split('<h2 id="recs-heading">')[1].split("</section>")[0]


def test_no_recommendations_is_said_only_when_the_page_has_nothing_to_suggest(
    client, bert, other_learner
):
    """QA walk (issue 13): once Bert set his only card aside, "No recommendations right now"
    showed beside a Revise panel that still suggested a lesson."""
    earlier = timezone.now() - timedelta(hours=2)
    _gets_data_structures_wrong(bert, since=earlier)
    [card] = refresh_recommendations(learner=bert, now=earlier + timedelta(hours=1))
    client.force_login(bert)

    client.post(reverse("insights:recommendation_action", args=[card.pk, "skip"]))
    page = client.get(reverse("learning:dashboard")).content.decode()

    revise = page.split('id="revision"')[1].split("</section>")[0]
    assert "Lists, dicts, sets and tuples" in revise
    section = _recommended_section(page)
    assert "No recommendations right now" not in section
    assert "Nothing new to suggest beyond the lessons to revise on this page." in section
    # A learner with nothing anywhere on the page is told so.
    client.force_login(other_learner)
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert 'id="no-recommendations"' in _recommended_section(page)
    assert "Nothing to revise right now." in page


def test_the_next_lesson_is_not_also_a_revision_card_on_the_dashboard(client, as_user, learner):
    """QA walk (issue 13): a new learner whose diagnostic found Python not known, enrolled
    in Python Fundamentals, saw its first lesson as "Next lesson" and, on the same page,
    under "Revise" ("Study Python with …"), though they never studied it. A lesson shown as
    next is not also a revision; the rest of "Revise" stays (cards and panel alike)."""
    seed_demo(now=NOW)
    python = Skill.objects.get(slug="python")
    goal = LearningGoalFactory(learner=learner, title="Backend")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    # Three wrong diagnostic answers: mastery 0.001 (README, "Skill levels").
    LearnerSkillStateFactory(
        learner=learner,
        skill=python,
        level=1,
        mastery=0.001,
        evidence_count=3,
        correct_count=0,
        distinct_questions=3,
        last_practiced_at=NOW - timedelta(hours=1),
    )
    fundamentals = Course.objects.get(slug="python-fundamentals")
    EnrollmentFactory(learner=learner, course=fundamentals, enrolled_at=NOW - timedelta(hours=1))
    [first] = next_lessons_for(learner_ids=[learner.pk], now=NOW)[learner.pk]
    chosen = revision_lessons_for(learners=[learner], now=NOW)[learner.pk]
    assert first.lesson_id in [item.lesson_id for item in chosen], "the QA walk's overlap"

    data = learner_dashboard(learner=learner, now=NOW)
    client.force_login(learner)
    html = client.get(reverse("learning:dashboard")).content.decode()
    body = as_user(learner).get("/api/v1/ai/dashboard").json()
    cards = refresh_recommendations(learner=learner, now=NOW)

    assert [item["lesson_id"] for item in data["recommended_next_lessons"]] == [first.lesson_id]
    shown = [item["lesson_id"] for item in data["revision_recommendations"]]
    assert shown == [item.lesson_id for item in chosen if item.lesson_id != first.lesson_id]
    assert [item["lesson_id"] for item in body["revision_recommendations"]] == shown
    revise = html[html.index('id="revision"') :]
    assert first.title not in revise[: revise.index("</section>")]
    assert not [
        card
        for card in cards
        if card.kind == Recommendation.Kind.REVISION and card.lesson_id == first.lesson_id
    ]


def test_the_path_says_how_a_courses_stated_hours_become_its_hours_on_the_path(
    client, as_user, lea
):
    """QA walk: a course shown as "20 h" read "4.3 h" on the path once a check spared
    lessons, with nothing relating the two. The demo Flask course states 20 h and has 140
    lesson minutes; Lea can skip "Resources, verbs and status codes" (30 minutes), so the
    item keeps 110/140 of the 20 h, and both page and API say so with the lessons listed."""
    goal = LearningGoal.objects.get(learner=lea)
    flask = Course.objects.get(title="Python Backend Development with Flask")
    assert flask.estimated_hours == 20
    client.force_login(lea)

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()
    payload = as_user(lea).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()

    [item] = [i for i in payload["learning_path"] if i["id"] == flask.pk]
    note = (
        "15.7 h of the course's 20 h: the 3 of its 4 lessons the path asks for (110 of its "
        "140 lesson minutes) and that share of its practice"
    )
    assert (item["estimated_hours"], item["hours_note"]) == (15.7, note)
    assert [lesson["title"] for lesson in item["skip_lessons"]] == [RESOURCES]
    assert escape(f"{note[0].upper()}{note[1:]}.") in html
    assert f">{RESOURCES}</a> · REST APIs proficient on 4 answers" in html
    other = as_user(LearnerFactory()).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}")
    assert other.status_code == 404
    # The course page and its card state its hours in the same terms ("20.0 h" before).
    course_page = client.get(flask.get_absolute_url()).content.decode()
    assert "20 h: 4 lessons (140 min) and their practice" in course_page
    catalogue = client.get(reverse("catalog:course_list")).content.decode()
    assert "Intermediate · 20 h · by" in catalogue and "20.0 h" not in catalogue
