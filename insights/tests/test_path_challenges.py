"""A path suggests a course's challenge first where it pays ("Test out first", insights.paths).

The catalogue: Python Basics (10 h; two Python lessons of an hour) <- SQL Basics (8 h; two
SQL lessons of 45 minutes), with the adaptive bank's six questions a skill; the learner
wants SQL at level 7. A challenge spares lessons, so the offer counts their minutes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from assessments.models import AssessmentAttempt
from assessments.services import attempt_start, course_challenge_start, skill_check_start
from assessments.tests.adaptive import NOW, make_bank, run_to_end
from catalog.models import Lesson
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.models import LearningPathSnapshot
from insights.paths import plan_learning_path
from insights.services import learning_path_generate
from insights.tests.factories import LearnerSkillStateFactory
from learning.models import LessonProgress
from learning.tests.factories import (
    GoalSkillFactory,
    LearningGoalFactory,
    LessonProgressFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(learner):
    bank = make_bank()
    python, sql = bank["skills"]["python"], bank["skills"]["sql"]
    basics = CourseFactory(title="Python Basics", estimated_hours=10, skills=[python])
    sql_course = CourseFactory(
        title="SQL Basics", estimated_hours=8, skills=[sql], prerequisites=[basics]
    )
    for course, skill, minutes in ((basics, python, 60), (sql_course, sql, 45)):
        module = ModuleFactory(course=course, order=1)
        for order in (1, 2):
            LessonFactory(module=module, order=order, estimated_minutes=minutes, skills=[skill])
    goal = LearningGoalFactory(learner=learner, title="Data work")
    GoalSkillFactory(goal=goal, skill=sql, target_level=7)
    return {**bank, "basics": basics, "sql_course": sql_course, "goal": goal}


def state(learner, skill, *, mastery: float, answers: int, level: int = 5):
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        level=level,
        mastery=mastery,
        evidence_count=answers,
        correct_count=answers // 2,
        distinct_questions=answers,
        last_practiced_at=NOW - timedelta(hours=1),
    )


def python_and_sql(learner, world):
    """A 4-hour course teaching Python and SQL (two 30-minute lessons each) and the
    learner's goal "Both" at level 7 in each."""
    python, sql = world["skills"]["python"], world["skills"]["sql"]
    both = CourseFactory(title="Python and SQL", estimated_hours=4, skills=[python, sql])
    module = ModuleFactory(course=both, order=1)
    for order, skill in enumerate((python, python, sql, sql), start=1):
        LessonFactory(module=module, order=order, estimated_minutes=30, skills=[skill])
    goal = LearningGoalFactory(learner=learner, title="Both")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    GoalSkillFactory(goal=goal, skill=sql, target_level=7)
    return both, goal


def test_a_familiar_prerequisite_gets_its_challenge_first_with_the_evidence(learner, world):
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)

    basics, sql_course = plan_learning_path(goal=world["goal"], now=NOW).items

    assert {key: basics.challenge[key] for key in ("minutes", "minutes_saved", "reason")} == {
        "minutes": 6,
        "minutes_saved": 72,
        # 10 h for 120 lesson minutes: 72 of them are 6 h of the item's 10 h.
        "reason": "Chance you already know it: Python 60 % (familiar on 2 answers). The course "
        "challenge takes about 6 minutes and spares on average about 72 minutes of the 2 hours "
        "of lessons still to do, or about 6 h of the 10 h they take with their practice: each "
        "skill it shows proficient skips that skill's lessons",
    }
    assert basics.estimated_hours == 10
    # Never measured: the model's prior (0.3) of 90 lesson minutes still pays for 6 minutes.
    assert sql_course.challenge["reason"].startswith(
        "Chance you already know it: SQL 30 % (not assessed yet: the starting estimate for any "
        "learner). The course challenge"
    )


def test_no_test_out_offer_on_a_skill_the_learner_said_they_do_not_know(learner, world):
    """A diagnostic answered "I don't know" throughout is no evidence (the skills stay not
    assessed, at the prior that pays for a challenge), but the learner told us: no path
    item suggests measuring those skills first. One answered question on SQL later, and its
    chance counts again."""
    diagnostic = world["diagnostic"]
    attempt = attempt_start(learner=learner, assessment=diagnostic, now=NOW)
    run_to_end(attempt, lambda question: None)

    basics, sql_course = plan_learning_path(goal=world["goal"], now=NOW).items

    assert (basics.challenge, basics.skill_checks) == (None, [])
    assert (sql_course.challenge, sql_course.skill_checks) == (None, [])
    # Why each course is planned: their word, not "not assessed" (QA walk).
    assert sql_course.reason.startswith(
        "Builds foundation in SQL (you answered “I don't know”, target 7)"
    )
    assert (
        basics.reason
        == "Prerequisite for SQL Basics, teaching Python (you answered “I don't know”)"
    )

    state(learner, world["skills"]["sql"], mastery=0.5, answers=1)
    sql_course = plan_learning_path(goal=world["goal"], now=NOW).items[1]
    assert sql_course.challenge["reason"].startswith(
        "Chance you already know it: SQL 50 % (familiar on 1 answer)"
    )


def test_the_gaps_line_says_i_dont_know_as_the_reasons_do(
    client, as_user, learner, other_learner, world
):
    """QA walk: "Gaps this path closes: SQL (not assessed → 7)" under reasons saying the
    learner answered "I don't know" on SQL. Page and API word it alike, for the owner only."""
    attempt = attempt_start(learner=learner, assessment=world["diagnostic"], now=NOW)
    run_to_end(attempt, lambda question: None)
    goal = world["goal"]
    learning_path_generate(goal=goal, now=NOW)
    client.force_login(learner)

    html = client.get(f"/insights/paths/{goal.pk}/").content.decode()
    api = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}")

    assert "Gaps this path closes: SQL (you answered “I don&#x27;t know”, target 7)." in html
    assert api.json()["metadata"]["gaps"] == [
        {
            "skill": "sql",
            "name": "SQL",
            "current_level": 0,
            "target_level": 7,
            "summary": "SQL (you answered “I don't know”, target 7)",
        }
    ]
    assert (
        as_user(other_learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").status_code == 404
    )
    client.force_login(other_learner)
    assert client.get(f"/insights/paths/{goal.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/insights/paths/{goal.pk}/").status_code == 302


def done(learner, lesson):
    LessonProgressFactory(
        learner=learner, lesson=lesson, status=LessonProgress.Status.COMPLETED, completed_at=NOW
    )


def test_lessons_already_completed_are_neither_spared_nor_left(learner, world):
    """Python familiar at 60 %: with one of Python Basics' two hour-long lessons done, the
    challenge counts the hour left; with both done (the course not complete: its
    enrollment is not), a measurement spares nothing and none is suggested."""
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    first, second = Lesson.objects.filter(module__course=world["basics"]).order_by("order")
    done(learner, first)

    basics = plan_learning_path(goal=world["goal"], now=NOW).items[0]

    assert basics.challenge["minutes_saved"] == 36
    assert "about 36 minutes of the 60 minutes of lessons still to do" in basics.challenge["reason"]

    done(learner, second)
    basics = plan_learning_path(goal=world["goal"], now=NOW).items[0]

    assert (basics.challenge, basics.skill_checks) == (None, [])


def test_lessons_completed_after_the_path_was_made_leave_the_offer_as_hours_relate(
    client, as_user, learner, world
):
    """QA walk (issue 13): "spares … about 40 minutes of the 2 hours of lessons left"
    stayed after half of those lessons were done, and nothing related the lesson minutes to
    the item's hours. The page and the API count the lessons still to do, in lesson time
    and in the item's hours alike (10 h for 120 lesson minutes here)."""
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    goal = world["goal"]
    learning_path_generate(goal=goal, now=NOW)
    first = Lesson.objects.filter(module__course=world["basics"]).order_by("order").first()
    client.force_login(learner)
    before = client.get(f"/insights/paths/{goal.pk}/").content.decode()
    assert "about 72 minutes of the 2 hours of lessons still to do, or about 6 h of the 10 h" in (
        before
    )

    done(learner, first)

    html = client.get(f"/insights/paths/{goal.pk}/").content.decode()
    [basics, _] = (
        as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()["learning_path"]
    )
    now_says = (
        "spares on average about 36 minutes of the 60 minutes of lessons still to do, or about "
        "3 h of the 5 h they take with their practice"
    )
    assert now_says in html and "72 minutes" not in html
    assert now_says in basics["challenge"]["reason"]
    assert basics["challenge"]["minutes_saved"] == 36
    # The workings behind the figures stay out of the API; the item's hours stay planned.
    assert set(basics["challenge"]) == {"minutes", "minutes_saved", "reason"}
    assert basics["estimated_hours"] == 10
    assert LearningPathSnapshot.objects.filter(goal=goal).count() == 1


@pytest.mark.parametrize(("mastery", "offered"), [(0.15, False), (0.25, True)])
def test_the_challenge_is_offered_only_when_it_is_expected_to_spare_its_minutes(
    learner, world, mastery, offered
):
    """Half an hour of lessons: 30 minutes x P(known) against the challenge's 6 minutes (the
    course's stated 10 hours do not count: a challenge spares lessons, not projects)."""
    Lesson.objects.filter(module__course=world["basics"]).update(estimated_minutes=15)
    state(learner, world["skills"]["python"], mastery=mastery, answers=3, level=2)

    basics = plan_learning_path(goal=world["goal"], now=NOW).items[0]

    assert (basics.challenge is not None) is offered


def test_a_failed_challenge_is_not_offered_again_and_the_path_says_so(learner, world):
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    first = learning_path_generate(goal=world["goal"], now=NOW).snapshot
    assert first.items[0]["challenge"]

    attempt = course_challenge_start(learner=learner, course=world["basics"], now=NOW)
    run_to_end(attempt, lambda question: False)

    # The graded challenge re-plans the path on its evidence (trigger "new evidence").
    current = LearningPathSnapshot.objects.get(goal=world["goal"], is_active=True)
    assert current.version == 2
    assert [item["title"] for item in current.items] == ["Python Basics", "SQL Basics"]
    assert current.items[0]["challenge"] is None
    assert "No longer suggests the Python Basics course challenge first" in current.change_summary


def test_a_passed_challenge_leaves_the_course_out_with_the_evidence(learner, world):
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    learning_path_generate(goal=world["goal"], now=NOW)

    attempt = course_challenge_start(learner=learner, course=world["basics"], now=NOW)
    run_to_end(attempt, lambda question: True)

    current = LearningPathSnapshot.objects.get(goal=world["goal"], is_active=True)
    assert [item["title"] for item in current.items] == ["SQL Basics"]
    [skipped] = current.metadata["skipped"]
    assert skipped["reason"].startswith("Skipped Python Basics: Python proficient on 5 answers")


def test_the_path_page_says_at_the_top_which_course_a_passed_challenge_dropped(
    client, as_user, learner, other_learner, world
):
    """QA walk (issue 13): after a passed course challenge, the course that left the path
    was named only in the version history ("Removed Python Basics"). The page and the API
    now say it with the evidence, for the newest version."""
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    learning_path_generate(goal=world["goal"], now=NOW)
    attempt = course_challenge_start(learner=learner, course=world["basics"], now=NOW)
    run_to_end(attempt, lambda question: True)
    goal_id = world["goal"].pk
    client.force_login(learner)

    html = client.get(f"/insights/paths/{goal_id}/").content.decode()
    api = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal_id}").json()

    [left] = api["metadata"]["left_path"]
    assert (left["id"], left["title"]) == (world["basics"].pk, "Python Basics")
    assert left["reason"].startswith("Python proficient on 5 answers")
    top = html[: html.index('id="timeline-heading"')]
    assert "What changed in version 2, after your latest answers" in top
    assert f"Python Basics left your path: {left['reason']}." in top
    assert "Removed Python Basics." in top
    assert as_user(other_learner).get(
        f"/api/v1/ai/learning-path?goal_id={goal_id}"
    ).status_code == (404)
    # A regeneration that changes nothing keeps the newest version, and its notice.
    learning_path_generate(goal=world["goal"], now=NOW + timedelta(minutes=5))
    assert (
        "Python Basics left your path" in client.get(f"/insights/paths/{goal_id}/").content.decode()
    )


def test_the_path_page_says_at_the_top_what_a_measurement_changed_without_dropping_a_course(
    client, learner, world
):
    """QA walk: a skill check that only spared lessons, or a failed challenge, changed the
    path with no word at the top of the page (only in the version history)."""
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    learning_path_generate(goal=world["goal"], now=NOW)
    attempt = course_challenge_start(learner=learner, course=world["basics"], now=NOW)
    run_to_end(attempt, lambda question: False)
    client.force_login(learner)

    html = client.get(f"/insights/paths/{world['goal'].pk}/").content.decode()

    top = html[: html.index('id="timeline-heading"')]
    assert "What changed in version 2, after your latest answers" in top
    assert "No longer suggests the Python Basics course challenge first" in top
    assert "left your path" not in top


def test_a_first_version_says_nothing_left_the_path(client, learner, world):
    snapshot = learning_path_generate(goal=world["goal"], now=NOW).snapshot
    client.force_login(learner)

    html = client.get(f"/insights/paths/{snapshot.goal_id}/").content.decode()

    assert snapshot.changes["removed"] == []
    assert "What changed in version" not in html
    assert "left your path" not in html


def test_a_challenge_asks_only_about_the_skills_not_shown_yet(learner, world):
    """A course teaching Python and SQL, Python already proficient: the challenge asks
    about SQL alone, and is passed once SQL is proficient too."""
    python, sql = world["skills"]["python"], world["skills"]["sql"]
    both = CourseFactory(title="Python and SQL", estimated_hours=12, skills=[python, sql])
    state(learner, python, mastery=0.9, answers=6, level=9)

    attempt = course_challenge_start(learner=learner, course=both, now=NOW)
    asked = run_to_end(attempt, lambda question: True)

    attempt.refresh_from_db()
    assert {question.skill_id for question in asked} == {sql.pk}
    assert attempt.passed is True


def test_the_path_page_and_api_offer_the_challenge_to_the_owner_only(
    client, as_user, learner, other_learner, world
):
    state(learner, world["skills"]["python"], mastery=0.6, answers=2)
    snapshot = learning_path_generate(goal=world["goal"], now=NOW).snapshot
    client.force_login(learner)

    html = client.get(f"/insights/paths/{snapshot.goal_id}/").content.decode()
    api = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={snapshot.goal_id}").json()
    other = as_user(other_learner).get(f"/api/v1/ai/learning-path?goal_id={snapshot.goal_id}")

    assert "Test out first?" in html
    assert f'action="/assessments/course-challenge/{world["basics"].pk}/"' in html
    assert "Take the course challenge (about 6 min)" in html
    assert api["learning_path"][0]["challenge"]["minutes"] == 6
    assert other.status_code == 404
    assert not AssessmentAttempt.objects.filter(learner=learner).exists()


def test_editing_a_goals_targets_re_plans_its_path_at_once(learner, world):
    """QA walk: after adding Python to the goal's targets the path page still showed the
    old plan (version 1, targets {"sql": 7})."""
    from learning.services import goal_update

    first = learning_path_generate(goal=world["goal"], now=NOW).snapshot

    goal_update(goal=world["goal"], now=NOW, target_levels={"sql": 7, "python": 8})

    current = LearningPathSnapshot.objects.get(goal=world["goal"], is_active=True)
    assert current.version == first.version + 1
    assert current.trigger == LearningPathSnapshot.Trigger.MANUAL
    assert current.metadata["targets"] == {"python": 8, "sql": 7}
    assert current.items[0]["reason"].startswith("Builds foundation in Python")


def test_a_skill_check_first_where_the_course_challenge_does_not_pay(client, learner, world):
    """A course teaching Python (half a chance the learner knows it) and SQL (measured not
    known): four SQL questions would not pay, so the path suggests a Python skill check
    alone, once."""
    python, sql = world["skills"]["python"], world["skills"]["sql"]
    _, goal = python_and_sql(learner, world)
    state(learner, python, mastery=0.5, answers=3)
    state(learner, sql, mastery=0.02, answers=3, level=1)

    [item] = learning_path_generate(goal=goal, now=NOW).snapshot.items
    client.force_login(learner)
    page = client.get(f"/insights/paths/{goal.pk}/").content.decode()

    assert item["challenge"] is None
    [check] = item["skill_checks"]
    assert {k: check[k] for k in ("skill", "name", "minutes", "minutes_saved")} == {
        "skill": "python",
        "name": "Python",
        "minutes": 6,
        "minutes_saved": 30,
    }
    assert check["reason"].startswith("Chance you already know it: Python 50 % (")
    assert check["reason"].endswith(
        "A skill check takes about 6 minutes and spares on average about 30 minutes of the "
        "2 hours of lessons still to do, or about 1 h of the 4 h they take with their "
        "practice, if it shows Python proficient"
    )
    assert "Check Python first?" in page
    assert 'action="/assessments/skill-check/python/"' in page

    run_to_end(skill_check_start(learner=learner, skill=python, now=NOW), lambda q: False)

    current = LearningPathSnapshot.objects.get(goal=goal, is_active=True)
    assert current.items[0]["skill_checks"] == []
    assert "No longer suggests the Python skill check first" in current.change_summary


def test_a_skill_shown_before_a_failed_challenge_that_faded_since_gets_its_check(
    client, learner, world
):
    """World 2's wasted minutes (BENCHMARKS "Session 12"): Python proficient when the
    course challenge was taken, so the challenge asked about SQL alone and failed on it;
    weeks later Python has faded to familiar. The path offers a Python check before its
    lessons (no second challenge, no check on SQL, which the challenge just measured)."""
    python, sql = world["skills"]["python"], world["skills"]["sql"]
    both, goal = python_and_sql(learner, world)
    shown = state(learner, python, mastery=0.92, answers=6, level=10)
    learning_path_generate(goal=goal, now=NOW)
    attempt = course_challenge_start(learner=learner, course=both, now=NOW)
    asked = run_to_end(attempt, lambda question: False)
    assert {question.skill_id for question in asked} == {sql.pk}
    # Its result says what it still has to see and what it did not ask (walk14: "Not yet").
    client.force_login(learner)
    html = client.get(f"/assessments/attempts/{attempt.pk}/").content.decode()
    assert "Still to show: SQL. Not asked: Python, proficient already." in html
    [item] = LearningPathSnapshot.objects.get(goal=goal, is_active=True).items
    assert (item["challenge"], item["skill_checks"]) == (None, [])

    shown.mastery, shown.level = 0.6, 7  # forgetting over the weeks since
    shown.save(update_fields=["mastery", "level"])
    [item] = learning_path_generate(goal=goal, now=NOW + timedelta(days=30)).snapshot.items

    assert item["challenge"] is None
    assert [check["skill"] for check in item["skill_checks"]] == ["python"]
    assert item["skill_checks"][0]["reason"].startswith("Chance you already know it: Python 60 % (")

    run_to_end(skill_check_start(learner=learner, skill=python, now=NOW), lambda q: False)
    [item] = LearningPathSnapshot.objects.get(goal=goal, is_active=True).items
    assert item["skill_checks"] == []
