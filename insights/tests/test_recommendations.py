from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import LearnerProfile
from accounts.services import set_difficulty as change_difficulty
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearnerSkillState, Recommendation
from insights.paths import generate_learning_path
from insights.recommendations import (
    RECOMMENDATION_TTL,
    recommendation_act,
    refresh_recommendations,
)
from insights.tests.factories import LearnerSkillStateFactory, RecommendationFactory
from insights.tests.helpers import (
    NOW,
    complete,
    difficulty_advice,
    next_lessons,
    quiz_attempt,
    revision_lessons,
)
from learning.tests.factories import (
    EnrollmentFactory,
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db


def lesson_in(course, module_order: int, order: int, title: str, **fields):
    module = course.modules.filter(order=module_order).first() or ModuleFactory(
        course=course, order=module_order, title=f"Part {module_order}"
    )
    return LessonFactory(module=module, order=order, title=title, **fields)


@pytest.fixture
def python_course(learner):
    course = CourseFactory(title="Python 101")
    hello = lesson_in(course, 1, 1, "Hello")
    variables = lesson_in(course, 1, 2, "Variables")
    functions = lesson_in(course, 2, 1, "Python Functions")
    EnrollmentFactory(learner=learner, course=course, enrolled_at=NOW - timedelta(days=10))
    return hello, variables, functions


def test_next_lesson_is_the_first_incomplete_in_course_order(learner, python_course):
    hello, variables, functions = python_course
    complete(learner, hello, variables)

    [suggestion] = next_lessons(learner=learner, now=NOW)

    assert suggestion.lesson_id == functions.pk
    assert suggestion.reason == (
        "Next in Python 101: “Python Functions” — 2 of 3 lessons done, about 20 minutes"
    )


def test_blocked_next_lesson_recommends_the_deepest_missing_prerequisite(learner, python_course):
    hello, variables, functions = python_course
    complete(learner, hello, variables)
    tooling = CourseFactory(title="Tooling")
    terminal = lesson_in(tooling, 1, 1, "Open a terminal")
    install = lesson_in(tooling, 1, 2, "Install Python", prerequisites=[terminal])
    functions.prerequisites.set([install])

    [suggestion] = next_lessons(learner=learner, now=NOW)

    assert suggestion.lesson_id == terminal.pk
    assert suggestion.blocked_lesson_id == functions.pk
    assert suggestion.reason == (
        "Study “Open a terminal” in Tooling first (about 20 minutes): it unlocks “Python "
        "Functions” in Python 101, which builds on Install Python — Python 101: 2 of 3 lessons "
        "done"
    )

    complete(learner, terminal)
    [suggestion] = next_lessons(learner=learner, now=NOW)
    assert suggestion.title == "Install Python"


def test_lesson_in_progress_comes_first(learner, python_course):
    other = CourseFactory(title="SQL")
    lesson_in(other, 1, 1, "Select")
    EnrollmentFactory(learner=learner, course=other, enrolled_at=NOW - timedelta(days=20))
    LessonProgressFactory(learner=learner, lesson=python_course[0], started_at=NOW)

    suggestions = next_lessons(learner=learner, now=NOW)

    assert [s.reason for s in suggestions] == [
        "Continue “Hello” in Python 101 — 0 of 3 lessons done, about 20 minutes",
        "Next in SQL: “Select” — 0 of 1 lessons done, about 20 minutes",
    ]


@pytest.mark.parametrize(("days_ago", "suggested"), [(13, False), (15, True)])
def test_skipped_lesson_is_not_suggested_for_fourteen_days(
    learner, python_course, days_ago, suggested
):
    hello, variables, functions = python_course
    complete(learner, hello, variables)
    RecommendationFactory(
        learner=learner,
        lesson=functions,
        status=Recommendation.Status.SKIPPED,
        acted_at=NOW - timedelta(days=days_ago),
    )

    assert bool(next_lessons(learner=learner, now=NOW)) is suggested


def test_a_skipped_lesson_does_not_come_back_as_what_unlocks_the_next(learner, python_course):
    """Skipping "Variables" must not bring it straight back as "Study “Variables” first: it
    unlocks “Python Functions”"."""
    hello, variables, functions = python_course
    functions.prerequisites.set([variables])
    complete(learner, hello)
    RecommendationFactory(
        learner=learner, lesson=variables, status=Recommendation.Status.SKIPPED, acted_at=NOW
    )

    assert [s.title for s in next_lessons(learner=learner, now=NOW)] == []


def test_revision_ranks_weak_skills_by_need_and_time_since_practice(learner):
    a, b, c, d = (SkillFactory(slug=s) for s in "abcd")
    quiz_attempt(learner, at=NOW - timedelta(days=14), skill=a, correct=4, total=10)
    quiz_attempt(learner, at=NOW - timedelta(hours=1), skill=b, correct=2, total=10)
    quiz_attempt(learner, at=NOW - timedelta(days=30), skill=c, correct=8, total=10)
    LearnerSkillStateFactory(
        learner=learner, skill=d, mastery=0.3, level=3, last_practiced_at=NOW - timedelta(days=7)
    )
    course = CourseFactory(title="Review")
    easy_a = lesson_in(course, 1, 1, "A made easy", skills=[a], difficulty="beginner")
    done_a = lesson_in(course, 1, 2, "A in depth", skills=[a], difficulty="advanced")
    complete(learner, done_a, at=NOW - timedelta(days=20))  # before the quiz on A
    lesson_in(course, 1, 3, "B", skills=[b])
    lesson_in(course, 1, 4, "C", skills=[c])
    lesson_in(course, 1, 5, "D", skills=[d])

    items = revision_lessons(learner=learner, now=NOW)

    # priority = (1 - strength) x (1 + days / 7): a .6 x 3, d .7 x 2, b .8 x 1; c is fine.
    assert [(i.skill, i.priority) for i in items] == [("a", 1.8), ("d", 1.4), ("b", 0.8)]
    assert [i.reason for i in items] == [
        "Review A with “A in depth” — 40% correct on your last 10 answers, last practised "
        "14 days ago; about 20 minutes",
        "Study D with “D” — mastery estimate 30% on 4 answers, last practised 7 days ago; "
        "about 20 minutes",
        "Study B with “B” — 20% correct on your last 10 answers; about 20 minutes",
    ]
    # A lesson already completed is a review ("Review A"; B and D were only answered):
    # preferred over an easier unseen one.
    assert items[0].lesson_id == done_a.pk != easy_a.pk


def test_a_skill_studied_since_its_answers_waits_for_new_evidence(learner):
    """Python measured weak by the diagnostic, then its lessons worked through: no card
    sends the learner back to them on the old answers; a quiz after the study that is
    still poor brings the revision back."""
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(title="Python 101")
    basics = lesson_in(course, 1, 1, "Basics", skills=[python])
    functions = lesson_in(course, 1, 2, "Functions", skills=[python])
    LearnerSkillStateFactory(
        learner=learner,
        skill=python,
        mastery=0.05,
        level=1,
        evidence_count=3,
        last_practiced_at=NOW - timedelta(days=10),
    )
    complete(learner, basics, functions, at=NOW - timedelta(days=3))

    assert revision_lessons(learner=learner, now=NOW) == []

    quiz_attempt(learner, at=NOW - timedelta(days=1), skill=python, correct=2, total=10)
    LearnerSkillState.objects.filter(learner=learner, skill=python).update(
        last_practiced_at=NOW - timedelta(days=1)
    )

    [item] = revision_lessons(learner=learner, now=NOW)
    assert item.skill == "python" and item.lesson_id in {basics.pk, functions.pk}


def test_a_revision_lesson_outside_the_skill_says_it_is_only_the_nearest_in_subject(learner):
    # The QA walk: with the SQL course unpublished, "Review SQL with 'Lists, dicts, sets
    # and tuples'" read as if that lesson taught SQL.
    from catalog.search import lessons_index
    from catalog.services import course_unpublish

    # The demo's description: the fallback compares it with the lessons' embeddings.
    sql = SkillFactory(
        slug="sql", name="SQL", description="Querying relational data: SELECT, JOIN, GROUP BY."
    )
    python = SkillFactory(slug="python", name="Python")
    sql_course = CourseFactory(title="SQL basics")
    select = lesson_in(sql_course, 1, 1, "SELECT and WHERE", skills=[sql])
    complete(learner, select)
    LearnerSkillStateFactory(
        learner=learner, skill=sql, mastery=0.2, level=2, last_practiced_at=NOW - timedelta(days=1)
    )
    python_course = CourseFactory(title="Python data")
    querying = lesson_in(python_course, 1, 1, "Querying SQL databases from Python", skills=[python])
    lessons_index(lesson_ids=[select.pk, querying.pk])  # the search index job's embeddings
    assert revision_lessons(learner=learner, now=NOW)[0].reason.startswith(
        "Review SQL with “SELECT and WHERE”"
    )

    course_unpublish(course=sql_course, now=NOW)

    (item,) = revision_lessons(learner=learner, now=NOW)
    assert item.title == "Querying SQL databases from Python"
    assert item.reason.startswith(
        "Review SQL: none of its own lessons is open to you now, and “Querying SQL databases "
        "from Python” is the nearest in subject — mastery estimate 20%"
    )


def set_difficulty(learner, level: str) -> None:
    LearnerProfile.objects.filter(user=learner).update(current_difficulty=level)
    learner.profile.refresh_from_db()


@pytest.mark.parametrize(
    ("score", "change", "recommended", "reason"),
    [
        (49, "decrease", "beginner", "Recent quiz average is 49% - easing to beginner content"),
        (50, "keep", "intermediate", "Recent quiz average is 50% - keeping the intermediate level"),
        (85, "increase", "advanced", "Excellent performance (85%) - increasing challenge"),
        (86, "increase", "advanced", "Excellent performance (86%) - increasing challenge"),
    ],
)
def test_difficulty_thresholds(learner, score, change, recommended, reason):
    set_difficulty(learner, "intermediate")
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=score)

    advice = difficulty_advice(learner=learner, now=NOW)

    assert (advice.change, advice.recommended, advice.recent_average) == (
        change,
        recommended,
        score,
    )
    assert advice.reason.startswith(reason)


def test_difficulty_uses_the_latest_five_attempts(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=6), score=0)
    for days in range(5):
        quiz_attempt(learner, at=NOW - timedelta(days=days, hours=1), score=90 + days)

    advice = difficulty_advice(learner=learner, now=NOW)

    assert (advice.recent_average, advice.attempts, advice.change) == (92.0, 5, "increase")
    # Then the quizzes it counts, by name (test_difficulty_reason_names_the_quizzes).
    assert advice.reason.startswith(
        "Excellent performance (92%) - increasing challenge to intermediate (your last 5 quizzes: "
    )


def test_no_harder_level_than_advanced(learner):
    set_difficulty(learner, "advanced")
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=95)

    advice = difficulty_advice(learner=learner, now=NOW)

    assert (advice.change, advice.recommended) == ("keep", "advanced")
    assert advice.reason.startswith(
        "Excellent performance (95%) - you are already at the advanced level (your last quiz: "
    )


def moved(learner, level: str, at) -> None:
    """The learner's level changed to `level` at `at`, as the weekly job records it."""
    profile = learner.profile
    assert change_difficulty(profile=profile, level=level, now=at)
    profile.save()


def test_difficulty_counts_only_scores_since_the_level_changed(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=5), score=90)
    quiz_attempt(learner, at=NOW - timedelta(days=4), score=90)
    moved(learner, "intermediate", NOW - timedelta(days=3))
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=60)

    advice = difficulty_advice(learner=learner, now=NOW)

    # Only the 60% taken at intermediate counts, not the two 90% taken at beginner.
    assert (advice.change, advice.recent_average, advice.attempts) == ("keep", 60.0, 1)
    assert advice.reason.startswith(
        "Recent quiz average is 60% - keeping the intermediate level (your last quiz: "
    )


@pytest.mark.parametrize(
    ("zone", "reason"),
    [
        ("UTC", "Moved to advanced on 2026-03-03 - waiting for quiz results at this level"),
        # 23:30 UTC is already the next morning in Tokyo.
        ("Asia/Tokyo", "Moved to advanced on 2026-03-04 - waiting for quiz results at this level"),
    ],
)
def test_difficulty_waits_for_results_at_a_new_level(learner, zone, reason):
    LearnerProfile.objects.filter(user=learner).update(timezone=zone)
    learner.profile.refresh_from_db()
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=95)
    moved(learner, "advanced", datetime(2026, 3, 3, 23, 30, tzinfo=UTC))

    advice = difficulty_advice(learner=learner, now=NOW)

    assert (advice.current, advice.change, advice.recent_average, advice.attempts) == (
        "advanced",
        "keep",
        None,
        0,
    )
    assert advice.reason == reason


def test_difficulty_changed_long_ago_reports_no_recent_results(learner):
    moved(learner, "intermediate", NOW - timedelta(days=40))
    quiz_attempt(learner, at=NOW - timedelta(days=35), score=95)

    advice = difficulty_advice(learner=learner, now=NOW)

    assert (advice.change, advice.reason) == (
        "keep",
        "No quiz results in the last 30 days - keeping the intermediate level",
    )


def test_refresh_after_a_level_change_offers_no_difficulty_card(learner):
    quiz_attempt(learner, at=NOW - timedelta(days=2), score=92)
    moved(learner, "intermediate", NOW - timedelta(days=1))

    recs = refresh_recommendations(learner=learner, now=NOW)

    # Before the change the same 92% earned a card (see the test above); now it is old news.
    assert "difficulty" not in [r.kind for r in recs]


def test_refresh_updates_in_place_and_expires_what_is_no_longer_wanted(learner, python_course):
    hello, variables, _ = python_course

    first = refresh_recommendations(learner=learner, now=NOW)
    again = refresh_recommendations(learner=learner, now=NOW + timedelta(hours=1))
    complete(learner, hello)
    later = refresh_recommendations(learner=learner, now=NOW + timedelta(hours=2))

    assert [(r.kind, r.lesson_id) for r in first] == [("next_lesson", hello.pk)]
    assert [r.pk for r in again] == [first[0].pk]
    assert [(r.lesson_id, r.reason) for r in later] == [
        (variables.pk, "Next in Python 101: “Variables” — 1 of 3 lessons done, about 20 minutes")
    ]
    assert Recommendation.objects.get(pk=first[0].pk).status == "expired"
    assert Recommendation.objects.filter(learner=learner).count() == 2


def test_refresh_suggests_path_courses_and_difficulty(learner):
    python = SkillFactory(slug="python")
    course = CourseFactory(title="Python Basics", skills=[python])
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=python, target_level=6)
    generate_learning_path(goal=goal, now=NOW)
    quiz_attempt(learner, at=NOW - timedelta(days=1), score=92)

    recs = refresh_recommendations(learner=learner, now=NOW)

    assert [(r.kind, r.course_id, r.reason.split(" (your last")[0]) for r in recs] == [
        ("difficulty", None, "Excellent performance (92%) - increasing challenge to intermediate"),
        ("course", course.pk, f"Builds foundation in {python.name} (not assessed, target 6)"),
    ]
    assert recs[0].payload["recommended"] == "intermediate"


def test_skipped_recommendation_is_recorded_and_not_suggested_again(learner, python_course):
    [rec] = refresh_recommendations(learner=learner, now=NOW)

    acted = recommendation_act(recommendation=rec, action="skipped", now=NOW)
    after = refresh_recommendations(learner=learner, now=NOW + timedelta(days=1))

    assert (acted.status, acted.acted_at) == ("skipped", NOW)
    assert [r.lesson_id for r in after] == [python_course[1].pk]
    back = refresh_recommendations(learner=learner, now=NOW + timedelta(days=15))
    assert python_course[0].pk in [r.lesson_id for r in back]


def test_invalid_or_late_actions_are_rejected_with_a_message(learner, python_course):
    [rec] = refresh_recommendations(learner=learner, now=NOW)

    with pytest.raises(ValueError, match="Unknown action 'maybe': use one of accepted, skipped"):
        recommendation_act(recommendation=rec, action="maybe", now=NOW)
    accepted = recommendation_act(recommendation=rec, action="accepted", now=NOW)
    assert recommendation_act(recommendation=rec, action="accepted", now=NOW).acted_at == NOW
    with pytest.raises(ValueError, match="already accepted"):
        recommendation_act(recommendation=rec, action="skipped", now=NOW)
    assert accepted.status == "accepted"


def test_a_refresh_replaces_recommendations_past_their_expiry(learner, python_course):
    hello = python_course[0]
    [first] = refresh_recommendations(learner=learner, now=NOW)
    unwanted = RecommendationFactory(learner=learner, expires_at=NOW + timedelta(days=30))

    [renewed] = refresh_recommendations(learner=learner, now=NOW + RECOMMENDATION_TTL)

    first.refresh_from_db()
    unwanted.refresh_from_db()
    assert (first.status, unwanted.status) == ("expired", "expired")
    assert (renewed.lesson_id, renewed.created_at) == (hello.pk, NOW + RECOMMENDATION_TTL)
    assert renewed.pk != first.pk


def test_the_nearest_in_subject_fallback_offers_nothing_far_off_on_the_demo_catalogue(learner):
    """QA walk (issue 13): with the demo's SQL lessons out of reach, SQL revision fell back
    to "Semantic HTML" (similarity 0.18). Only lessons at least FALLBACK_MIN_SIMILARITY
    similar to the skill may stand in; none of the demo's HTML lessons does for SQL."""
    from catalog.demo_seed import seed_demo
    from catalog.models import Course, Lesson, Skill
    from catalog.search import lessons_index
    from catalog.services import course_unpublish

    seed_demo(now=NOW)
    lessons_index(lesson_ids=Lesson.objects.values_list("pk", flat=True))
    sql_course = Course.objects.get(slug="sql-and-postgresql")
    complete(learner, Lesson.objects.get(title="SELECT, WHERE and ORDER BY"))
    LearnerSkillStateFactory(
        learner=learner,
        skill=Skill.objects.get(slug="sql"),
        mastery=0.2,
        level=2,
        last_practiced_at=NOW - timedelta(days=1),
    )
    course_unpublish(course=sql_course, now=NOW)

    assert revision_lessons(learner=learner, now=NOW) == []
