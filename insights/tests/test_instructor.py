"""Instructor insight pages (R-INSTR): scope, actions, messages, CSV and query bounds."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from assessments.models import AssessmentAttempt
from insights.instructor import FILTER_LABELS, FILTERS, review_outcomes
from insights.management.commands.evaluate_dropout_model import review_lines
from insights.models import (
    DropoutRisk,
    InstructorMessage,
    ItemAnalysisRun,
    PendingJob,
    QuestionItemAnalysis,
    RiskReview,
)
from insights.services import instructor_message_email
from insights.tests.factories import LearnerSkillStateFactory
from learning.models import Enrollment, LessonProgress
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory
from skillstudio.testing import build_world
from skillstudio.tests.test_read_only_gets import database_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(learner, instructor):
    return build_world(learner=learner, instructor=instructor)


def _pages(w) -> dict[str, str]:
    c = w.course.pk
    return {
        "overview": reverse("teach:course", args=[c]),
        "learners": reverse("teach:learners", args=[c]),
        "csv": reverse("teach:learners_csv", args=[c]),
        "at_risk": reverse("teach:at_risk", args=[c]),
        "learner": reverse("teach:learner", args=[c, w.enrollment.learner_id]),
        "items": reverse("teach:item_analysis", args=[w.assessment.pk]),
    }


PAGE_NAMES = ["overview", "learners", "csv", "at_risk", "learner", "items"]


@pytest.mark.parametrize("page", PAGE_NAMES)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("instructor", 200),
        ("admin_user", 200),
        ("other_instructor", 404),
        ("learner", 404),
    ],
)
def test_each_page_is_for_the_course_owner_and_admins(client, world, request, page, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_pages(world)[page]).status_code == status


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_anonymous_is_sent_to_log_in(client, world, page):
    response = client.get(_pages(world)[page])
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_course_list_shows_own_courses_only(client, world, other_instructor, learner):
    client.force_login(other_instructor)
    assert "Python Basics" not in client.get(reverse("teach:courses")).content.decode()
    client.force_login(world.course.owner)
    assert "Python Basics" in client.get(reverse("teach:courses")).content.decode()
    client.force_login(learner)
    assert client.get(reverse("teach:courses")).status_code == 403


def test_admin_index_and_course_page_link_to_the_insights(client, world):
    client.force_login(world.course.owner)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("teach:courses") in index
    change = client.get(reverse("admin:catalog_course_change", args=[world.course.pk]))
    assert reverse("teach:course", args=[world.course.pk]) in change.content.decode()


def test_overview_counts_enrolled_active_completed_and_scores(client, world, instructor):
    now = timezone.now()
    done = LearnerFactory()
    EnrollmentFactory(learner=done, course=world.course, status=Enrollment.Status.COMPLETED)
    AssessmentAttempt.objects.filter(pk=world.attempt.pk).update(
        submitted_at=now, score=85, passed=True
    )
    client.force_login(instructor)
    response = client.get(reverse("teach:course", args=[world.course.pk]))
    overview = response.context["overview"]
    assert (overview.enrolled, overview.completed) == (2, 1)
    # The world's learner has lesson progress and a quiz just now; the other did nothing.
    assert overview.active_recently == 1
    assert overview.attempts == 1
    assert dict(overview.score_bins)["80-89"] == 1
    assert [s.module for s in overview.funnel] == ["Getting started", "Extras"]
    assert "Quiz score distribution" in response.content.decode()


def test_a_progress_row_rewritten_later_is_not_activity(client, world, instructor):
    """Active recently counts the learner's own moments (lesson started or completed, quiz
    submitted), not when a job last rewrote the row (``updated_at``)."""
    long_ago = timezone.now() - timedelta(days=40)
    LessonProgress.objects.filter(pk=world.progress.pk).update(
        started_at=long_ago, completed_at=None, updated_at=timezone.now()
    )
    AssessmentAttempt.objects.filter(pk=world.attempt.pk).update(
        started_at=long_ago, submitted_at=long_ago
    )
    client.force_login(instructor)

    overview = client.get(reverse("teach:course", args=[world.course.pk])).context["overview"]

    assert overview.active_recently == 0


def _many_learners(course, n: int) -> None:
    for i in range(n):
        learner = LearnerFactory()
        enrollment = EnrollmentFactory(learner=learner, course=course)
        DropoutRisk.objects.create(
            enrollment=enrollment,
            probability=0.5,
            level=DropoutRisk.Level.MEDIUM,
            factors=[{"factor": "x", "text": f"no activity for {i} days", "weight": 0.5}],
            scored_at=timezone.now(),
        )
        LearnerSkillStateFactory(learner=learner, skill=course.skills.first())
        LessonProgressFactory(learner=learner, lesson=course.modules.first().lessons.first())


# Every page: session and user (2), the course or assessment in scope (1), then:
QUERY_BOUNDS = {
    # enrollments, last lesson / last quiz (2), modules, lesson progress, skills,
    # skill averages, quiz scores, assessments list
    "overview": 12,
    # enrollments with profiles and risks, skills, skill states, last activity (2),
    # goals with target skills (3), active paths, enrollment progress; struggle in this
    # course, one query per signal (5; the stalled one reads the paths when a lesson stalled)
    "learners": 18,
    "csv": 18,
    # risks with learners and profiles, reviews
    "at_risk": 5,
    # enrollment, skills, skill states, attempts, paths, recommendations, messages,
    # reviews, risk, ...
    "learner": 13,
    # the run, its question rows
    "items": 4,
}


@pytest.mark.parametrize("extra", [0, 30])
@pytest.mark.parametrize("page", list(QUERY_BOUNDS))
def test_pages_run_a_bounded_number_of_queries(
    client, world, instructor, django_assert_max_num_queries, extra, page
):
    _many_learners(world.course, extra)
    client.force_login(instructor)
    url = _pages(world)[page]
    with django_assert_max_num_queries(QUERY_BOUNDS[page]):
        assert client.get(url).status_code == 200


def test_get_pages_write_nothing(client, world, instructor):
    client.force_login(instructor)
    before = database_state()
    for url in _pages(world).values():
        assert client.get(url).status_code == 200
    assert database_state() == before


def test_learners_table_sorts_filters_and_paginates(client, world, instructor):
    _many_learners(world.course, 30)
    client.force_login(instructor)
    url = reverse("teach:learners", args=[world.course.pk])
    page = client.get(url).context["page"]
    assert page.paginator.count == 31 and len(page.object_list) == 25
    risky = client.get(url, {"show": "at_risk", "sort": "risk", "dir": "desc"}).context["page"]
    # The world's learner is the only high risk: first when sorted by risk, highest first.
    assert risky.object_list[0].email == "alice@example.com"
    assert risky.paginator.count == 31
    found = client.get(url, {"q": "alice@example"}).context["page"]
    assert [r.email for r in found] == ["alice@example.com"]
    fragment = client.get(url, {"q": "alice@example"}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b"alice@example.com" in fragment.content


@pytest.mark.parametrize("params", [{"sort": "password"}, {"show": "everything"}])
def test_learners_table_rejects_unknown_sort_or_filter(client, world, instructor, params):
    client.force_login(instructor)
    assert client.get(reverse("teach:learners", args=[world.course.pk]), params).status_code == 400


def test_csv_export_has_one_row_per_learner_with_skill_levels(client, world, instructor, learner):
    LearnerSkillStateFactory(learner=learner, skill=world.skill, level=7, mastery=0.7)
    evil = LearnerFactory(full_name="=HYPERLINK(1)", email="evil@example.com")
    EnrollmentFactory(learner=evil, course=world.course)
    client.force_login(instructor)
    response = client.get(reverse("teach:learners_csv", args=[world.course.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, *body = rows
    assert header[:3] == ["learner", "email", "status"]
    assert header[-2:] == ["Python level", "Python state"]
    by_email = {row[1]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_email) == {"alice@example.com", "evil@example.com"}
    alice = by_email["alice@example.com"]
    assert (alice["Python level"], alice["risk_level"], alice["risk_probability"]) == (
        "7",
        "high",
        "0.70",
    )
    # A name that a spreadsheet would run as a formula is defused.
    assert by_email["evil@example.com"]["learner"] == "'=HYPERLINK(1)"


def test_at_risk_list_shows_probability_factors_and_segment(client, world, instructor, learner):
    learner.profile.segment = {"name": "evening crammers", "description": "late and in bursts"}
    learner.profile.save()
    client.force_login(instructor)
    body = client.get(reverse("teach:at_risk", args=[world.course.pk])).content.decode()
    assert "no activity for 12 days" in body
    assert "0.70" in body and "high risk" in body
    # The segment's figures are the group's, said so: the same for every learner in it.
    assert "evening crammers (typical for the segment: late and in bursts)" in body


@pytest.mark.parametrize(
    ("action", "recorded"),
    [("acknowledge", "acknowledged"), ("not-useful", "not_useful")],
)
def test_owner_records_an_action_on_a_risk(client, world, instructor, action, recorded):
    client.force_login(instructor)
    url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, action])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"Recorded." in response.content
    review = RiskReview.objects.get()
    assert (review.action, review.reviewer, review.probability, review.level) == (
        recorded,
        instructor,
        0.7,
        "high",
    )


@pytest.mark.parametrize(
    ("who", "status"), [("other_instructor", 404), ("learner", 404), ("admin_user", 302)]
)
def test_only_owner_and_admins_act_on_a_risk(client, world, request, who, status):
    client.force_login(request.getfixturevalue(who))
    url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, "acknowledge"])
    assert client.post(url).status_code == status
    assert RiskReview.objects.count() == (1 if status == 302 else 0)


def test_anonymous_cannot_act_or_message(client, world):
    for action in ("acknowledge", "message"):
        url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, action])
        assert client.post(url, {"body": "hi"}).status_code == 302
    assert not RiskReview.objects.exists() and not InstructorMessage.objects.exists()


def test_unknown_action_and_get_are_refused(client, world, instructor):
    client.force_login(instructor)
    base = [world.course.pk, world.enrollment.pk]
    assert client.post(reverse("teach:risk_action", args=[*base, "delete"])).status_code == 400
    assert client.get(reverse("teach:risk_action", args=[*base, "acknowledge"])).status_code == 405


def test_empty_message_is_a_400_and_records_nothing(client, world, instructor):
    client.force_login(instructor)
    url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, "message"])
    response = client.post(url, {"body": "   "})
    assert response.status_code == 400
    assert "Write a message first." in response.content.decode()
    htmx = client.post(url, {"body": ""}, headers={"HX-Request": "true"})
    assert b"Write a message first." in htmx.content
    assert not InstructorMessage.objects.exists() and not RiskReview.objects.exists()


def test_message_reaches_dashboard_and_mailbox_and_is_marked_read(
    client, world, instructor, learner, other_learner
):
    client.force_login(instructor)
    url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, "message"])
    assert client.post(url, {"body": "How is it going? Need a hand?"}).status_code == 302
    message = InstructorMessage.objects.get()
    assert (message.learner, message.sender, message.course) == (learner, instructor, world.course)
    assert RiskReview.objects.get().message == message
    job = PendingJob.objects.get(task_name="insights.email_instructor_message")
    assert job.kwargs == {"message_id": message.pk}

    # The deferred job sends the e-mail once, however often it runs.
    assert instructor_message_email(message_id=message.pk, now=timezone.now())
    assert not instructor_message_email(message_id=message.pk, now=timezone.now())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [learner.email]
    assert "How is it going?" in mail.outbox[0].body

    client.force_login(learner)
    dashboard = client.get(reverse("learning:dashboard")).content.decode()
    assert "How is it going? Need a hand?" in dashboard

    read_url = reverse("insights:message_read", args=[message.pk])
    client.force_login(other_learner)
    assert client.post(read_url).status_code == 404
    client.force_login(learner)
    assert client.get(read_url).status_code == 405
    response = client.post(read_url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"Read" in response.content
    message.refresh_from_db()
    assert message.read_at is not None
    assert "How is it going?" not in client.get(reverse("learning:dashboard")).content.decode()


def test_anonymous_cannot_mark_a_message_read(client, world, instructor, learner):
    message = InstructorMessage.objects.create(
        learner=learner,
        sender=instructor,
        course=world.course,
        body="Hi",
        created_at=timezone.now(),
    )
    response = client.post(reverse("insights:message_read", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.read_at is None


def test_learner_page_shows_attempts_paths_and_recommendations(client, world, instructor):
    now = timezone.now()
    AssessmentAttempt.objects.filter(pk=world.attempt.pk).update(
        submitted_at=now,
        score=60,
        skill_breakdown={"python": {"level_before": 3, "level_after": 5}},
    )
    client.force_login(instructor)
    response = client.get(
        reverse("teach:learner", args=[world.course.pk, world.enrollment.learner_id])
    )
    body = response.content.decode()
    detail = response.context["detail"]
    assert [h.points[0][1] for h in detail.histories] == [5.0]
    # walk15: "(05 Dec 2, 05 Dec 2)" read as a garbled date; each point names its level.
    label = detail.histories[0].points[0][0]
    assert f"level after each quiz, oldest first ({label}: level 5)." in body
    assert "Python quiz" in body and "60%" in body
    assert "Backend developer" in body  # the goal of the path version
    assert world.recommendation.reason in body


def test_learner_page_gives_no_pass_or_fail_for_a_diagnostic(client, world, instructor):
    from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory

    now = timezone.now()
    AssessmentAttempt.objects.filter(pk=world.attempt.pk).update(
        submitted_at=now, score=60, passed=True
    )
    AssessmentAttemptFactory(
        learner_id=world.enrollment.learner_id,
        assessment=AssessmentFactory(title="Where you start", kind="diagnostic"),
        started_at=now - timedelta(minutes=10),
        submitted_at=now,
        score=80,
        passed=True,
    )
    client.force_login(instructor)

    body = client.get(
        reverse("teach:learner", args=[world.course.pk, world.enrollment.learner_id])
    ).content.decode()

    assert body.count('<td data-label="Passed">yes</td>') == 1  # the quiz
    assert '<span class="meta">(measures, no pass mark)</span>' in body


def test_learner_page_of_someone_not_enrolled_is_404(client, world, instructor, other_learner):
    client.force_login(instructor)
    url = reverse("teach:learner", args=[world.course.pk, other_learner.pk])
    assert client.get(url).status_code == 404


def test_item_analysis_shows_figures_and_suggested_fixes(client, world, instructor):
    run = ItemAnalysisRun.objects.create(
        assessment=world.assessment, answers=40, computed_at=timezone.now()
    )
    QuestionItemAnalysis.objects.create(
        run=run,
        question=world.question,
        answers=40,
        share_correct=0.55,
        discrimination=-0.21,
        irt_difficulty=0.8,
        irt_model="2pl",
        distractors=[
            {"choice_id": 1, "text": "Yes", "is_correct": True, "picked": 22, "share": 0.55},
            {"choice_id": 2, "text": "No", "is_correct": False, "picked": 0, "share": 0.0},
        ],
        flags=[
            "negative discrimination (-0.21): stronger learners get it wrong more often",
            "distractor nobody picks: “No”",
        ],
    )
    client.force_login(instructor)
    body = client.get(reverse("teach:item_analysis", args=[world.assessment.pk])).content.decode()
    assert "55%" in body and "-0.21" in body and "0.80" in body
    assert (
        "<strong>Negative discrimination (-0.21): stronger learners get it wrong more often."
        "</strong> Check the answer key, then the wording for a second right answer."
    ) in body
    assert "<strong>Distractor B never chosen.</strong>" in body


def test_evaluation_reports_not_useful_rate_and_outcomes(world, instructor):
    now = timezone.now()
    for action in ("not_useful", "acknowledged", "acknowledged", "messaged"):
        RiskReview.objects.create(
            enrollment=world.enrollment,
            reviewer=instructor,
            action=action,
            probability=0.7,
            level="high",
            created_at=now - timedelta(days=1),
        )
    Enrollment.objects.filter(pk=world.enrollment.pk).update(status=Enrollment.Status.DROPPED)
    outcomes = review_outcomes()
    assert outcomes.reviews == 4 and outcomes.not_useful_rate == 0.25
    lines = review_lines(outcomes)
    assert lines[0] == "Instructor reviews of at-risk learners: 4, not useful 25.0%"
    assert "  acknowledged: 2 (enrollments now: 1 dropped)" in lines


def test_evaluation_says_when_no_review_is_recorded(db):
    assert review_lines(review_outcomes()) == [
        "Instructor reviews of at-risk learners: none recorded yet."
    ]


@pytest.mark.django_db(transaction=True)
def test_a_warm_dashboard_shows_a_new_message_and_drops_it_once_read(
    client, learner, instructor, django_assert_max_num_queries
):
    from insights.services import instructor_message_read, instructor_message_send

    w = build_world(learner=learner, instructor=instructor)
    client.force_login(learner)
    client.get(reverse("learning:dashboard"))
    with django_assert_max_num_queries(2):  # session, user: messages come from the cache
        assert (
            "Messages from your instructors"
            not in client.get(reverse("learning:dashboard")).content.decode()
        )

    message = instructor_message_send(
        risk=w.risk, sender=instructor, body="Ping from Ines", now=timezone.now()
    )
    assert "Ping from Ines" in client.get(reverse("learning:dashboard")).content.decode()
    instructor_message_read(message=message, now=timezone.now())
    assert "Ping from Ines" not in client.get(reverse("learning:dashboard")).content.decode()


def test_learners_filter_menu_names_every_filter_in_words(client, world, instructor):
    client.force_login(instructor)
    body = client.get(reverse("teach:learners", args=[world.course.pk])).content.decode()
    for value, label in FILTER_LABELS.items():
        assert f'<option value="{value}"' in body and label in body
    assert set(FILTER_LABELS) == set(FILTERS)


@pytest.mark.parametrize(
    ("who", "visible"), [("instructor", True), ("other_instructor", False), ("admin_user", True)]
)
def test_reviews_and_messages_in_the_admin_are_scoped(client, world, request, who, visible):
    now = timezone.now()
    RiskReview.objects.create(
        enrollment=world.enrollment,
        action="acknowledged",
        probability=0.7,
        level="high",
        created_at=now,
    )
    InstructorMessage.objects.create(
        learner=world.enrollment.learner, course=world.course, body="Secret note", created_at=now
    )
    client.force_login(request.getfixturevalue(who))
    reviews = client.get(reverse("admin:insights_riskreview_changelist"))
    messages = client.get(reverse("admin:insights_instructormessage_changelist"))
    assert reviews.status_code == messages.status_code == 200
    assert (reviews.context["cl"].result_count, messages.context["cl"].result_count) == (
        (1, 1) if visible else (0, 0)
    )


@pytest.mark.parametrize(
    "url",
    [
        "/teach/courses/99999999999999999999/",
        "/teach/courses/{course}/learners/99999999999999999999/",
        "/teach/assessments/99999999999999999999/item-analysis/",
        "/teach/courses/{course}/learners/?page=zz&q=%00",
    ],
)
def test_hostile_ids_and_params_are_4xx_never_500(client, world, instructor, url):
    client.force_login(instructor)
    response = client.get(url.format(course=world.course.pk))
    assert response.status_code < 500


def test_a_message_with_a_nul_byte_is_refused_not_a_500(client, world, instructor):
    client.force_login(instructor)
    url = reverse("teach:risk_action", args=[world.course.pk, world.enrollment.pk, "message"])
    response = client.post(url, {"body": "hi\x00there"})
    assert 400 <= response.status_code < 500
    assert not InstructorMessage.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("instructor", 200), ("admin_user", 200), ("other_instructor", 404), ("learner", 404)],
)
def test_course_challenge_item_analysis_is_for_the_course_instructor(
    client, world, request, who, status
):
    """A course challenge (generated, no owner) belongs to its course: the course page lists
    it and its instructor reads its item analysis; nobody else does."""
    from assessments.services import course_challenge_start

    now = timezone.now()
    challenge = course_challenge_start(
        learner=world.enrollment.learner, course=world.course, now=now
    )
    challenge = challenge.assessment
    assert challenge.owner_id is None
    url = reverse("teach:item_analysis", args=[challenge.pk])
    client.force_login(request.getfixturevalue(who))
    assert client.get(url).status_code == status
    if status == 200:
        overview = client.get(reverse("teach:course", args=[world.course.pk])).content.decode()
        assert url in overview


def test_course_challenge_item_analysis_sends_anonymous_to_log_in(client, world):
    from assessments.services import course_challenge_start

    attempt = course_challenge_start(
        learner=world.enrollment.learner, course=world.course, now=timezone.now()
    )
    response = client.get(reverse("teach:item_analysis", args=[attempt.assessment.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_skill_check_item_analysis_stays_with_admins(client, world, instructor, admin_user):
    from assessments.services import skill_check_start

    attempt = skill_check_start(
        learner=world.enrollment.learner, skill=world.skill, now=timezone.now()
    )
    url = reverse("teach:item_analysis", args=[attempt.assessment.pk])
    client.force_login(instructor)
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_course_page_lists_only_assessments_whose_analysis_opens(
    client, world, instructor, other_instructor
):
    from assessments.tests.factories import AssessmentFactory

    foreign = AssessmentFactory(owner=other_instructor, course=world.course, title="Guest quiz")
    client.force_login(instructor)
    body = client.get(reverse("teach:course", args=[world.course.pk])).content.decode()
    assert reverse("teach:item_analysis", args=[foreign.pk]) not in body
    assert reverse("teach:item_analysis", args=[world.assessment.pk]) in body


def test_item_analysis_shows_the_authored_level_of_fitted_and_predicted_rows(
    client, instructor, other_instructor, learner
):
    """QA walk: only predicted rows named the authored level (as their basis); a fitted
    difficulty needs it beside it to tell whether the label holds."""
    from assessments.models import Question
    from insights.ml.irt import refresh_item_analysis
    from insights.tests.ml_data import build_answered_quiz

    quiz, questions, _ = build_answered_quiz(owner=instructor)
    # The Logic questions relabelled (the Algebra ones keep the thin one's prediction).
    Question.objects.filter(pk=questions[3].pk).update(difficulty="advanced")
    Question.objects.filter(pk=questions[4].pk).update(difficulty="intermediate")
    refresh_item_analysis(assessment_ids=[quiz.pk], now=timezone.now())
    url = reverse("teach:item_analysis", args=[quiz.pk])
    client.force_login(instructor)

    body = client.get(url).content.decode()

    authored = [
        cell.split("</td>")[0] for cell in body.split('<td data-label="Authored level">')[1:]
    ]
    # Five fitted rows and the thin question's predicted one, each with its author's label.
    assert authored == [
        "Beginner",
        "Beginner",
        "Beginner",
        "Advanced",
        "Intermediate",
        "Beginner",
    ]
    assert "predicted from 3 fitted beginner question(s) on Algebra" in body
    client.force_login(other_instructor)
    assert client.get(url).status_code == 404
    client.force_login(learner)
    assert client.get(url).status_code in (403, 404)
    client.logout()
    assert client.get(url).status_code == 302
