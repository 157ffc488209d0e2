from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import LearnerProfile
from assessments.models import Answer, Assessment
from assessments.tests.factories import AssessmentFactory
from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.analytics import (
    current_streak,
    engagement_patterns,
    learning_pace,
    performance_summary,
    session_totals,
    topics_from_scores,
)
from insights.models import Recommendation
from insights.recommendations import recommendations_refresh
from insights.rules import STRUGGLING_BELOW
from insights.selectors import recent_skill_scores_for
from insights.tests.factories import LearnerSkillStateFactory, LearningPathSnapshotFactory
from insights.tests.helpers import NOW, dashboard_insights, quiz_attempt
from learning.models import Enrollment, LessonProgress
from learning.tests.factories import (
    EnrollmentFactory,
    LearnerEventFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db


def set_timezone(learner, zone: str) -> None:
    LearnerProfile.objects.filter(user=learner).update(timezone=zone)
    learner.profile.refresh_from_db()


def event(learner, at: datetime, **fields):
    return LearnerEventFactory(learner=learner, occurred_at=at, received_at=at, **fields)


def test_streak_crosses_midnight_in_the_learners_time_zone(learner, other_learner):
    # 23:30 and 00:30 in New York (UTC-5) are two days there, one day in UTC.
    for person in (learner, other_learner):
        event(person, datetime(2026, 3, 3, 4, 30, tzinfo=UTC))
        event(person, datetime(2026, 3, 3, 5, 30, tzinfo=UTC))
    set_timezone(learner, "America/New_York")
    now = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)

    assert current_streak(learner=learner, now=now) == 2
    assert current_streak(learner=other_learner, now=now) == 1


def test_streak_stops_at_a_gap_day_and_lapses_after_a_full_missed_day(learner):
    for day in (27, 28):
        event(learner, datetime(2026, 2, day, 12, tzinfo=UTC))
    # 1 March missed; 2 March a lesson completion, 3 March a quiz submission.
    LessonProgressFactory(
        learner=learner,
        status=LessonProgress.Status.COMPLETED,
        started_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        completed_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
    )
    quiz_attempt(learner, at=datetime(2026, 3, 3, 10, tzinfo=UTC), score=80)

    assert current_streak(learner=learner, now=datetime(2026, 3, 3, 23, tzinfo=UTC)) == 2
    # Nothing yet on 4 March: the streak is still alive until that day ends.
    assert current_streak(learner=learner, now=datetime(2026, 3, 4, 23, tzinfo=UTC)) == 2
    assert current_streak(learner=learner, now=datetime(2026, 3, 5, 0, 1, tzinfo=UTC)) == 0


@pytest.mark.parametrize(
    ("later", "trend", "change"),
    [
        (75, "improving", 5.0),
        (74.99, "stable", 5.0),
        (65, "declining", -5.0),
        (65.01, "stable", -5.0),
    ],
)
def test_trend_at_exactly_the_five_point_threshold(learner, later, trend, change):
    quiz_attempt(learner, at=NOW - timedelta(days=20), score=70)
    quiz_attempt(learner, at=NOW - timedelta(days=5), score=later)

    summary = performance_summary(learner=learner, now=NOW, days=30)

    assert summary.performance_trend == trend
    assert summary.trend_change == change


def test_trend_is_stable_without_an_earlier_score(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=95)

    assert performance_summary(learner=learner, now=NOW).performance_trend == "stable"


def test_performance_summary_counts_only_the_window(learner):
    lessons = LessonFactory.create_batch(5)
    for lesson, started, completed in [
        (lessons[0], 10, 9),
        (lessons[1], 5, 4),
        (lessons[2], 3, None),
        (lessons[3], 2, None),
        (lessons[4], 45, 40),  # outside the 30 days
    ]:
        LessonProgressFactory(
            learner=learner,
            lesson=lesson,
            started_at=NOW - timedelta(days=started),
            completed_at=completed and NOW - timedelta(days=completed),
            status=LessonProgress.Status.COMPLETED
            if completed
            else LessonProgress.Status.IN_PROGRESS,
        )
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=70)
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=80)
    quiz_attempt(learner, at=NOW - timedelta(days=31), score=10)
    # A diagnostic is a measurement, not a quiz result: not in the average nor the count.
    quiz_attempt(
        learner,
        at=NOW - timedelta(days=1),
        score=20,
        assessment=AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC),
    )
    # Nor are skill checks and course challenges (adaptive measurements, scored 100 here).
    for kind in (Assessment.Kind.SKILL_CHECK, Assessment.Kind.COURSE_CHALLENGE):
        quiz_attempt(
            learner,
            at=NOW - timedelta(days=1),
            score=100,
            assessment=AssessmentFactory(kind=kind, is_adaptive=True, owner=None),
        )
    start = NOW - timedelta(days=3)
    # Two sessions: 0-40 min (gaps of 20 min) and, after 2 h, 10 min: 50 min = 0.8 h.
    for minutes in (0, 20, 40, 160, 170):
        event(learner, start + timedelta(minutes=minutes))

    summary = performance_summary(learner=learner, now=NOW)

    assert summary.lessons_completed == 2
    assert summary.completion_rate == 0.5
    assert summary.avg_quiz_score == 75.0
    assert summary.quizzes_taken == 2
    assert summary.study_hours == 0.8


def test_engagement_patterns_use_the_learners_time_zone(learner):
    set_timezone(learner, "Europe/Berlin")  # UTC+1 in winter
    for minutes in (0, 10, 20):  # Monday 20:00-20:20 in Berlin
        event(learner, datetime(2026, 3, 2, 19, minutes, tzinfo=UTC))
    for minutes in (10, 25):  # Wednesday 20:10-20:25
        event(learner, datetime(2026, 2, 25, 19, minutes, tzinfo=UTC))
    event(learner, datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # Tuesday 09:00
    video = LessonFactory(content_type="video")
    LessonProgressFactory(
        learner=learner, lesson=video, started_at=NOW - timedelta(days=2), time_spent_seconds=900
    )
    text = LessonFactory(content_type="text")
    LessonProgressFactory(
        learner=learner, lesson=text, started_at=NOW - timedelta(days=2), time_spent_seconds=300
    )

    patterns = engagement_patterns(learner=learner, now=NOW)

    assert patterns.peak_hours == [20, 9]
    assert patterns.peak_days == ["monday", "wednesday"]
    # Sessions of 20, 15 and 0 minutes.
    assert (patterns.sessions, patterns.avg_session_minutes) == (3, 11.7)
    assert patterns.preferred_content_types == ["video", "text"]
    # Three sessions on three days are too few to call a habit: a general tip instead.
    assert dashboard_insights(learner=learner, now=NOW)["study_recommendation"] == (
        "Study a little on most days: regular short sessions build lasting skills. After 5 "
        "sessions on 3 different days we can tell you when you learn best (so far: 3 on 3)."
    )


def test_study_time_advice_needs_five_sessions_on_three_days_and_names_the_zone(learner):
    set_timezone(learner, "Europe/Berlin")  # UTC+1 in winter
    # Monday 20:00 Berlin twice (two weeks), Wednesday 20:00 twice, Tuesday 09:00 once.
    for day in (datetime(2026, 2, 23, 19, tzinfo=UTC), datetime(2026, 3, 2, 19, tzinfo=UTC)):
        event(learner, day)
        event(learner, day + timedelta(minutes=10))
    for day in (datetime(2026, 2, 18, 19, tzinfo=UTC), datetime(2026, 2, 25, 19, tzinfo=UTC)):
        event(learner, day)
    event(learner, datetime(2026, 3, 3, 8, 0, tzinfo=UTC))

    patterns = engagement_patterns(learner=learner, now=NOW)

    assert (patterns.sessions, patterns.active_days) == (5, 5)
    assert dashboard_insights(learner=learner, now=NOW)["study_recommendation"] == (
        "You learn best on Monday, Wednesday around 20:00 Europe/Berlin (5 sessions on 5 "
        "days). Schedule important lessons then!"
    )


def test_struggling_topics_use_recent_answers_and_the_threshold(learner):
    async_, sql, css = (SkillFactory(slug=s) for s in ("async_programming", "sql", "css"))
    # An old perfect attempt drops out once ten newer answers exist.
    quiz_attempt(learner, at=NOW - timedelta(days=20), skill=async_, correct=10, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=async_, correct=4, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=sql, correct=5, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=css, correct=6, total=10)

    scores = recent_skill_scores_for(learner_ids=[learner.pk])[learner.pk]
    topics = topics_from_scores(scores, STRUGGLING_BELOW)

    assert [(t.skill, t.avg_score, t.difficulty) for t in topics] == [
        ("async_programming", 40.0, "needs_help"),
        ("sql", 50.0, "needs_practice"),
    ]
    assert [t.skill for t in topics_from_scores(scores, 61)] == [
        "async_programming",
        "sql",
        "css",
    ]


@pytest.mark.parametrize(
    ("first_progress", "second_progress", "status"),
    [(100, 0, "on_track"), (60, 0, "behind"), (100, 20, "ahead")],
)
def test_learning_pace_against_the_deadline(learner, first_progress, second_progress, status):
    # Path made 14 days ago, deadline 28 days after: 50% expected; 10 points either way.
    first, second = CourseFactory(estimated_hours=10), CourseFactory(estimated_hours=10)
    made = NOW - timedelta(days=14)
    goal = LearningGoalFactory(learner=learner, deadline=(made + timedelta(days=28)).date())
    LearningPathSnapshotFactory(
        goal=goal,
        created_at=made,
        items=[
            {"id": first.pk, "title": "A", "estimated_hours": 10.0, "reason": ""},
            {"id": second.pk, "title": "B", "estimated_hours": 10.0, "reason": ""},
        ],
    )
    _study_share(learner, first, first_progress)
    _study_share(learner, second, second_progress)

    pace = learning_pace(goal=goal, now=NOW)

    expected_progress = (first_progress + second_progress) / 2
    assert pace.status == status
    assert (pace.progress_percent, pace.expected_percent) == (expected_progress, 50.0)
    assert pace.reason == (
        f"{expected_progress / 5:g} of 20 h of the path done ({expected_progress:g}%); "
        "50% expected by now"
    )


def _study_share(learner, course, percent: int) -> None:
    """Five lessons of 30 minutes in the course; the learner completes ``percent`` of them
    (the pace counts completed lessons' minutes, insights.path_progress)."""
    module = ModuleFactory(course=course, order=1)
    lessons = [
        LessonFactory(module=module, order=order, estimated_minutes=30) for order in range(5)
    ]
    EnrollmentFactory(learner=learner, course=course, progress_percent=percent)
    for lesson in lessons[: percent * len(lessons) // 100]:
        LessonProgressFactory(
            learner=learner, lesson=lesson, status=LessonProgress.Status.COMPLETED, completed_at=NOW
        )


def _one_course_path(learner, *, made):
    """A goal (4 hours a week) whose path, made at ``made``, is one course of 8 hours."""
    course = CourseFactory(estimated_hours=8)
    goal = LearningGoalFactory(learner=learner, weekly_hours=4)
    LearningPathSnapshotFactory(
        goal=goal,
        created_at=made,
        items=[{"id": course.pk, "title": "A", "estimated_hours": 8.0, "reason": ""}],
    )
    return goal, course


def test_completed_enrollment_counts_in_full_for_pace(learner):
    goal, course = _one_course_path(learner, made=NOW - timedelta(days=7))
    EnrollmentFactory(
        learner=learner, course=course, status=Enrollment.Status.COMPLETED, progress_percent=40
    )

    pace = learning_pace(goal=goal, now=NOW)

    # No deadline: one week at 4 h of 8 planned hours = 50% expected; 100% done.
    assert (pace.status, pace.progress_percent, pace.expected_percent) == ("ahead", 100.0, 50.0)


def test_insights_message_offers_a_skill_check_when_no_revision_lesson_is_open(learner):
    skill = SkillFactory(slug="async_programming", name="Async Programming")
    # The only lesson on the skill is in a course still in draft: nothing to revise with.
    draft = CourseFactory(title="Async in Depth", status=Course.Status.DRAFT)
    LessonFactory(module=ModuleFactory(course=draft, order=1), title="Event loops", skills=[skill])
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=skill, correct=4, total=10)
    recommendations_refresh(learner_ids=[learner.pk], now=NOW)

    insights = dashboard_insights(learner=learner, now=NOW)

    assert insights["areas_for_improvement"] == ["Async Programming"]
    # No "we've prepared revision content": there is none.
    assert insights["personalized_message"] == (
        "Your recent answers show gaps in Async Programming (40% right on your last 10 "
        "answers): take a skill check in Async Programming to see where you stand, then "
        "study its lessons."
    )
    assert insights["next_step"] == {
        "kind": "skill_check",
        "skill": "async_programming",
        "title": "Take a skill check in Async Programming",
        "url": reverse("assessments:skill_check", kwargs={"skill_slug": "async_programming"}),
    }


def _async_measured_by(learner, kind, *, days_ago, now=NOW):
    """Async Programming answered 0 of 3 right in an assessment of ``kind`` ``days_ago``;
    its only lesson is in a draft course, so no revision lesson is open."""
    skill = SkillFactory(slug="async_programming", name="Async Programming")
    draft = CourseFactory(title="Async in Depth", status=Course.Status.DRAFT)
    LessonFactory(module=ModuleFactory(course=draft, order=1), title="Event loops", skills=[skill])
    assessment = AssessmentFactory(kind=kind)
    quiz_attempt(
        learner, at=now - timedelta(days=days_ago), skill=skill, total=3, assessment=assessment
    )
    recommendations_refresh(learner_ids=[learner.pk], now=now)


@pytest.mark.parametrize(
    ("kind", "days_ago", "label"),
    [
        (Assessment.Kind.DIAGNOSTIC, 0, "diagnostic"),
        (Assessment.Kind.SKILL_CHECK, 6, "skill check"),
        (Assessment.Kind.COURSE_CHALLENGE, 7, "course challenge"),
    ],
)
def test_insights_message_sends_no_one_to_a_check_on_a_skill_just_measured(
    learner, kind, days_ago, label
):
    """QA walk (issue 13): right after the diagnostic measured Async Programming as not
    known, the message said "take a skill check in Async Programming to see where you
    stand". The evidence says study it; the step is the courses that teach it."""
    _async_measured_by(learner, kind, days_ago=days_ago)

    insights = dashboard_insights(learner=learner, now=NOW)

    assert insights["personalized_message"] == (
        "Your recent answers show gaps in Async Programming (0% right on your last 3 "
        f"answers): your recent {label} measured Async Programming already, so study its "
        "lessons rather than checking it again."
    )
    assert insights["next_step"] == {
        "kind": "courses",
        "skill": "async_programming",
        "title": "Courses teaching Async Programming",
        "url": reverse("catalog:course_list") + "?skill=async_programming",
    }


def test_a_measurement_older_than_a_week_leaves_the_skill_check_suggested(learner):
    _async_measured_by(learner, Assessment.Kind.DIAGNOSTIC, days_ago=8)

    insights = dashboard_insights(learner=learner, now=NOW)

    assert "take a skill check in Async Programming" in insights["personalized_message"]
    assert insights["next_step"]["kind"] == "skill_check"


def test_the_dashboard_page_and_api_link_the_courses_after_a_diagnostic(client, as_user, learner):
    # The page reads the clock: the diagnostic was an hour ago.
    _async_measured_by(
        learner, Assessment.Kind.DIAGNOSTIC, days_ago=0, now=timezone.now() - timedelta(hours=1)
    )
    client.force_login(learner)

    html = client.get(reverse("learning:dashboard")).content.decode()
    body = as_user(learner).get("/api/v1/ai/dashboard").json()

    assert "your recent diagnostic measured Async Programming already" in html
    assert (
        '<a href="/catalog/?skill=async_programming">Courses teaching Async Programming</a>' in html
    )
    assert "Take a skill check in Async Programming" not in html
    assert body["ai_insights"]["next_step"]["kind"] == "courses"
    assert "your recent diagnostic measured" in body["ai_insights"]["personalized_message"]


def test_insights_message_names_the_open_revision_card_for_the_weak_topic(learner, client):
    git = SkillFactory(slug="git", name="Git")
    sql = SkillFactory(slug="sql", name="SQL")
    course = CourseFactory(title="Version Control")
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1, title="Commits", skills=[sql])
    branching = LessonFactory(module=module, order=2, title="Branching", skills=[git])
    quiz_attempt(learner, at=NOW - timedelta(days=3), skill=git, correct=3, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=sql, correct=9, total=10)
    recommendations_refresh(learner_ids=[learner.pk], now=NOW)
    card = Recommendation.objects.get(learner=learner, kind=Recommendation.Kind.REVISION)
    assert card.lesson == branching

    insights = dashboard_insights(learner=learner, now=NOW)

    assert insights["personalized_message"] == (
        "Your recent answers show gaps in Git (30% right on your last 10 answers): "
        "start with “Branching”, a lesson on Git picked for you."
    )
    assert insights["next_step"]["url"] == branching.get_absolute_url()
    # The page links to it next to the message.
    client.force_login(learner)
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert f'a lesson on Git picked for you. <a href="{branching.get_absolute_url()}">' in page
    assert "<strong>Git</strong>: 30% right on your last 10 answers" in page


def test_a_skill_shown_since_a_poor_quiz_is_no_longer_a_weak_topic(learner):
    git = SkillFactory(slug="git", name="Git")
    sql = SkillFactory(slug="sql", name="SQL")
    quiz_attempt(learner, at=NOW - timedelta(days=2), skill=git, correct=4, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=2), skill=sql, correct=4, total=10)
    # Then a course challenge on Git: proficient on 6 answers, practised today.
    LearnerSkillStateFactory(
        learner=learner,
        skill=git,
        mastery=0.9,
        level=9,
        evidence_count=6,
        correct_count=6,
        distinct_questions=6,
        last_practiced_at=NOW - timedelta(hours=1),
    )

    insights = dashboard_insights(learner=learner, now=NOW)

    # SQL is still weak; Git's 40 % quiz is settled by what the learner showed since.
    assert insights["areas_for_improvement"] == ["SQL"]
    assert (
        "show gaps in SQL (40% right on your last 10 answers):"
        in (insights["personalized_message"])
    )


def test_insights_celebrate_a_streak_with_rising_scores(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=20), score=70)
    for days in range(5):
        quiz_attempt(learner, at=NOW - timedelta(days=days), score=92)

    insights = dashboard_insights(learner=learner, now=NOW)

    assert insights["personalized_message"] == (
        "🔥 Amazing 5-day streak! Your performance is improving - you're mastering the material!"
    )
    assert insights["strengths"] == [
        "Strong quiz performance (88.3% average)",
        "Excellent study discipline (5-day streak)",
    ]


def test_session_totals_of_two_windows_in_one_pass_match_each_window_alone(
    learner, other_learner, django_assert_num_queries
):
    since30, since90 = NOW - timedelta(days=30), NOW - timedelta(days=90)
    # A session across the 30-day boundary: 20 minutes in the 90-day window, one lone
    # event (0 s) in the 30-day one.
    event(learner, since30 - timedelta(minutes=10))
    event(learner, since30 + timedelta(minutes=10))
    # Yesterday: 20 minutes, then a 50-minute gap starts a new session.
    yesterday = NOW - timedelta(days=1)
    for minutes in (0, 20, 70):
        event(learner, yesterday + timedelta(minutes=minutes))
    # Another learner's event in that gap must not bridge it.
    event(other_learner, yesterday + timedelta(minutes=45))
    ids = [learner.pk, other_learner.pk]

    with django_assert_num_queries(1):
        both = session_totals(learner_ids=ids, windows=[since30, since90], until=NOW)

    assert both[since30] == {learner.pk: (3, 1200.0), other_learner.pk: (1, 0.0)}
    assert both[since90] == {learner.pk: (3, 2400.0), other_learner.pk: (1, 0.0)}
    for since in (since30, since90):
        assert session_totals(learner_ids=ids, windows=[since], until=NOW) == {since: both[since]}
    summary = performance_summary(learner=learner, now=NOW)
    assert summary.study_hours == round(1200 / 3600, 1)
    assert engagement_patterns(learner=learner, now=NOW).avg_session_minutes == round(
        2400 / 3 / 60, 1
    )


def test_questions_left_blank_are_no_evidence_for_struggling_topics(learner):
    """ "I don't know" on a diagnostic is not a wrong answer: a skill answered only with
    blanks has no score, and blanks do not pull a score down."""
    docker, flask = SkillFactory(slug="docker"), SkillFactory(slug="flask")
    blanks = quiz_attempt(learner, at=NOW - timedelta(days=1), skill=docker, correct=0, total=5)
    Answer.objects.filter(attempt=blanks).update(response={})
    mixed = quiz_attempt(learner, at=NOW - timedelta(days=1), skill=flask, correct=3, total=5)
    Answer.objects.filter(attempt=mixed, is_correct=False).update(response={"choices": []})

    scores = recent_skill_scores_for(learner_ids=[learner.pk])[learner.pk]

    assert "docker" not in scores
    assert (scores["flask"].answered, scores["flask"].percent) == (3, 100.0)
    assert topics_from_scores(scores, STRUGGLING_BELOW) == []


def test_skill_checks_and_challenges_are_no_quiz_strength_nor_quiz_score(learner):
    """Two adaptive checks at 100% next to a 60% quiz: the quiz average stays 60 (no
    "strong quiz performance") and the progress chart shows the quiz alone."""
    from insights.progress import quiz_scores

    quiz_attempt(learner, at=NOW - timedelta(days=2), score=60)
    for kind in (Assessment.Kind.SKILL_CHECK, Assessment.Kind.COURSE_CHALLENGE):
        quiz_attempt(
            learner,
            at=NOW - timedelta(days=1),
            score=100,
            assessment=AssessmentFactory(kind=kind, is_adaptive=True, owner=None),
        )

    assert performance_summary(learner=learner, now=NOW).avg_quiz_score == 60.0
    strengths = dashboard_insights(learner=learner, now=NOW)["strengths"]
    assert not any("quiz" in line.lower() for line in strengths)
    assert [point.score for point in quiz_scores(learner=learner)] == [60.0]


def test_pace_is_unknown_until_a_goal_has_a_path_and_the_page_does_not_claim_on_track(
    learner, client
):
    LearningGoalFactory(learner=learner, title="Flask developer")

    assert dashboard_insights(learner=learner, now=NOW)["learning_pace"] == "unknown"
    client.force_login(learner)
    html = client.get(reverse("learning:dashboard")).content.decode()
    assert "Learning pace" not in html
    assert "On track" not in html
    # The goal card says how to get a path, with the link.
    goal = learner.learning_goals.get()
    assert "No learning path yet: plan one from the goal's path page" in html.replace("&#x27;", "'")
    assert f'<a href="{reverse("insights:path", args=[goal.pk])}">Plan my path</a>' in html


def test_one_wrong_answer_is_not_a_struggling_topic_three_are(learner):
    # The QA walk: "Async programming: 0% right on your last 1 answer — needs help" topped
    # the list above SQL at 25 % on 4 answers.
    async_, sql = SkillFactory(slug="async_programming"), SkillFactory(slug="sql")
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=async_, correct=0, total=1)
    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=sql, correct=1, total=4)
    scores = recent_skill_scores_for(learner_ids=[learner.pk])[learner.pk]

    assert [t.skill for t in topics_from_scores(scores, STRUGGLING_BELOW)] == ["sql"]

    quiz_attempt(learner, at=NOW - timedelta(hours=1), skill=async_, correct=0, total=2)
    scores = recent_skill_scores_for(learner_ids=[learner.pk])[learner.pk]
    assert [t.skill for t in topics_from_scores(scores, STRUGGLING_BELOW)] == [
        "async_programming",
        "sql",
    ]


def test_pace_of_a_path_made_today_says_so_instead_of_0_percent_expected(learner):
    goal, course = _one_course_path(learner, made=NOW - timedelta(hours=2))
    _study_share(learner, course, 40)

    pace = learning_pace(goal=goal, now=NOW)

    assert pace.reason == "3.2 of 8 h of the path done (40%); the path was made today"
