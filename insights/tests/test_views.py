from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment
from assessments.tests.factories import AssessmentAttemptFactory, AssessmentFactory
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot, Recommendation
from insights.selectors import learner_timezone
from insights.tests.factories import (
    LearnerSkillStateFactory,
    LearningPathSnapshotFactory,
    RecommendationFactory,
)
from insights.tests.helpers import mastered_then_faded
from learning.tests.factories import GoalSkillFactory, LearnerEventFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal(learner):
    python = SkillFactory(slug="python", name="Python")
    CourseFactory(title="Python Basics", slug="python-basics", skills=[python], estimated_hours=6)
    goal = LearningGoalFactory(learner=learner, title="Backend developer", weekly_hours=4)
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    return goal


@pytest.mark.parametrize(
    "url",
    [
        reverse("insights:paths"),
        reverse("insights:path", args=[1]),
        reverse("insights:progress"),
    ],
)
def test_pages_need_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_generate_then_regenerate_keeps_a_version_history(client, learner, goal):
    client.force_login(learner)
    generate = reverse("insights:path_generate", args=[goal.pk])

    first = client.post(generate, follow=True).content.decode()
    unchanged = client.post(generate, follow=True).content.decode()
    goal.weekly_hours = 2  # 6 hours now take 3 weeks: a different path
    goal.save()
    response = client.post(generate, follow=True)

    html = response.content.decode()
    versions = LearningPathSnapshot.objects.filter(goal=goal).order_by("version")
    assert [(v.version, v.trigger, v.is_active) for v in versions] == [
        (1, "generated", False),
        (2, "manual", True),
    ]
    assert "Path version 1: First version of this path: 1 course." in first
    assert "Week 1\u20132" in first  # 6 hours at 4 hours a week spans two study weeks
    assert "nothing changed since version 1, so no new version was written" in unchanged
    assert "Python Basics" in html
    assert "Week 1\u20133" in html
    assert "First version of this path: 1 course." in html
    assert "Regenerate path" in html
    # Reasons show levels beside states: the progress page's legend explains them here too.
    assert "familiar (level 6+, on any number of answers)" in html


def test_path_of_another_learners_goal_is_404(client, other_learner, goal):
    client.force_login(other_learner)

    assert client.get(reverse("insights:path", args=[goal.pk])).status_code == 404
    assert client.post(reverse("insights:path_generate", args=[goal.pk])).status_code == 404
    assert not LearningPathSnapshot.objects.exists()


def test_path_timeline_places_items_in_weeks(client, learner, goal):
    LearningPathSnapshotFactory(
        goal=goal,
        items=[
            {"id": 1, "title": "A", "slug": "a", "estimated_hours": 3, "reason": "Builds a"},
            {"id": 2, "title": "B", "slug": "b", "estimated_hours": 6, "reason": "Builds b"},
        ],
        metadata={"total_courses": 2, "total_hours": 9, "estimated_weeks": 3},
        change_summary="First version of this path: 2 courses.",
    )
    client.force_login(learner)

    timeline = client.get(reverse("insights:path", args=[goal.pk])).context["timeline"]

    # 4 h/week: A fills hours 0-3 (week 1), B hours 3-9: week 1's last hour, then weeks
    # 2-3; both show week 1, and B says it shares it.
    assert [
        (i["title"], i["week_start"], i["week_end"], i["shares_week_with"]) for i in timeline
    ] == [("A", 1, 1, ""), ("B", 1, 3, "A")]


def test_path_timeline_weeks_follow_one_another_up_to_the_estimated_weeks(client, learner, goal):
    # The first QA walk's path: 10 h then 12 h at 4 h/week read "Week 1-3" then "Week 3-6"
    # with nothing saying why week 3 was in both; the next walk found the fix, which gave a
    # shared week to one item only, reading "Week 1 · 7 h" at 5 h/week.
    LearningPathSnapshotFactory(
        goal=goal,
        items=[
            {"id": i, "title": title, "slug": f"c{i}", "estimated_hours": hours, "reason": "r"}
            for i, (title, hours) in enumerate(
                [("Python Basics", 10), ("Web APIs", 12), ("Git", 1), ("Docker", 5.5)]
            )
        ],
        metadata={"total_courses": 4, "total_hours": 28.5, "estimated_weeks": 8},
    )
    client.force_login(learner)

    response = client.get(reverse("insights:path", args=[goal.pk]))

    timeline = response.context["timeline"]
    weeks = [(i["week_start"], i["week_end"]) for i in timeline]
    # Hours 0-10 (weeks 1-3), 10-22 (weeks 3-6), 22-23 (inside week 6), 23-28.5 (weeks 6-8).
    assert weeks == [(1, 3), (3, 6), (6, 6), (6, 8)]
    assert [i["shares_week_with"] for i in timeline] == ["", "Python Basics", "Web APIs", "Git"]
    html = response.content.decode()
    assert "Week 1\u20133 · 10 h · " in html
    assert "Week 3\u20136 · 12 h · week 3 shared with Python Basics · " in html
    assert weeks[-1][1] == response.context["payload"]["metadata"]["estimated_weeks"]
    # Every range holds its hours at the weekly pace, and ranges meet at most in one week.
    for item, (start, end) in zip(timeline, weeks, strict=True):
        assert end - start + 1 >= item["estimated_hours"] / 4
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(weeks))


def test_a_seven_hour_item_at_five_hours_a_week_spans_weeks_one_and_two(client, learner, goal):
    """QA walk: "Week 1 · 7 h" at 5 h/week read as seven hours in one week."""
    goal.weekly_hours = 5
    goal.save(update_fields=["weekly_hours"])
    LearningPathSnapshotFactory(
        goal=goal,
        items=[
            {"id": i, "title": title, "slug": f"c{i}", "estimated_hours": hours, "reason": "r"}
            for i, (title, hours) in enumerate([("Python Basics", 7), ("SQL", 3), ("Git", 5)])
        ],
        metadata={"total_courses": 3, "total_hours": 15, "estimated_weeks": 3},
    )
    client.force_login(learner)

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "Week 1\u20132 · 7 h · " in html
    assert "Week 2 · 3 h · week 2 shared with Python Basics · " in html
    assert "Week 3 · 5 h · " in html and "week 3 shared" not in html


def test_accepting_a_card_over_htmx_returns_the_updated_card(client, learner):
    rec = RecommendationFactory(learner=learner)
    client.force_login(learner)

    response = client.post(
        reverse("insights:recommendation_action", args=[rec.pk, "accept"]),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'id="rec-{rec.pk}"' in html
    assert "Accepted" in html and "Open the lesson" in html
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.ACCEPTED


def test_skipping_without_javascript_redirects_to_the_dashboard(client, learner):
    rec = RecommendationFactory(learner=learner)
    client.force_login(learner)

    response = client.post(reverse("insights:recommendation_action", args=[rec.pk, "skip"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("learning:dashboard")
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.SKIPPED


def test_accepting_without_javascript_opens_the_target(client, learner):
    rec = RecommendationFactory(learner=learner)
    client.force_login(learner)

    response = client.post(reverse("insights:recommendation_action", args=[rec.pk, "accept"]))

    assert response.status_code == 302
    assert response["Location"] == rec.lesson.get_absolute_url()


def test_acting_twice_differently_explains_instead_of_failing(client, learner):
    rec = RecommendationFactory(learner=learner, status=Recommendation.Status.SKIPPED)
    client.force_login(learner)

    response = client.post(
        reverse("insights:recommendation_action", args=[rec.pk, "accept"]),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "already skipped" in response.content.decode()
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.SKIPPED


def test_unknown_action_is_400(client, learner):
    rec = RecommendationFactory(learner=learner)
    client.force_login(learner)

    response = client.post(reverse("insights:recommendation_action", args=[rec.pk, "delete"]))

    assert response.status_code == 400
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.ACTIVE


def test_another_learners_card_is_404(client, learner, other_learner):
    rec = RecommendationFactory(learner=other_learner)
    client.force_login(learner)

    response = client.post(reverse("insights:recommendation_action", args=[rec.pk, "accept"]))

    assert response.status_code == 404
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.ACTIVE


def test_progress_page_charts_have_text_alternatives(client, learner, other_learner):
    now = timezone.now()
    LearnerEventFactory.create_batch(3, learner=learner, occurred_at=now - timedelta(minutes=5))
    LearnerEventFactory.create_batch(5, learner=other_learner, occurred_at=now)
    quiz = AssessmentFactory(title="Python quiz")
    AssessmentAttemptFactory(
        learner=learner,
        assessment=quiz,
        started_at=now - timedelta(hours=1),
        submitted_at=now - timedelta(minutes=30),
        score=Decimal("72.40"),
    )
    python = SkillFactory(slug="python", name="Python")
    LearnerSkillStateFactory(learner=learner, skill=python, level=6)
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=python, target_level=8)
    client.force_login(learner)

    diagnostic = AssessmentFactory(title="Start check", kind=Assessment.Kind.DIAGNOSTIC)
    AssessmentAttemptFactory(
        learner=learner,
        assessment=diagnostic,
        started_at=now - timedelta(hours=3),
        submitted_at=now - timedelta(hours=2),
        score=Decimal("10"),
    )
    response = client.get(reverse("insights:progress"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Start check" not in html
    assert html.count("<svg") == 3
    # Three events, and the quiz and the diagnostic one each; other learners' not counted.
    assert "over the last 30 days: 5 in total" in html
    assert "latest: 72% on Python quiz" in html
    row = '<th scope="row">Python</th><td data-label="Level">6</td>'
    assert row + '<td data-label="State and evidence">Level 6 · familiar · 4 answers' in html
    # The target, not reached: familiar does not confirm it.
    assert (
        '<td data-label="Target">8 <span class="meta">not reached yet: level 6 of 8</span>' in html
    )
    # Counts have whole-number ticks, every time axis has dates, the last one pinned
    # inside the chart, and a diagnostic is no quiz score.
    # (5 on the busiest day: ticks 0, 2, 4, 6; split by local midnight, 0 to 4 by 1.)
    assert re.search(r'text-anchor="end" dominant-baseline="middle">[12]</text>', html)
    assert ">0.2</text>" not in html and ">0.5</text>" not in html
    # Dates in the learner's zone, as the charts draw them (not UTC: near midnight they differ).
    zone = learner_timezone(learner)
    today = f"{timezone.now().astimezone(zone):%d %b}"
    quiz_day = f"{(now - timedelta(minutes=30)).astimezone(zone):%d %b}"
    assert f'text-anchor="end">{today}</text>' in html
    assert re.search(rf'text-anchor="(start|middle|end)">{quiz_day}</text>', html)


def test_paths_page_lists_only_the_learners_goals(client, learner, other_learner):
    LearningGoalFactory(learner=learner, title="Backend developer")
    LearningGoalFactory(learner=learner, title="Data engineer")
    LearningGoalFactory(learner=other_learner, title="Bob's secret goal")
    client.force_login(learner)

    html = client.get(reverse("insights:paths")).content.decode()

    assert "Backend developer" in html and "Data engineer" in html
    assert "secret goal" not in html


def test_a_single_goal_goes_straight_to_its_path(client, learner, goal):
    client.force_login(learner)

    response = client.get(reverse("insights:paths"))

    assert response.status_code == 302
    assert response["Location"] == reverse("insights:path", args=[goal.pk])


def test_path_history_names_the_time_zone_once(client, learner, goal):
    """The column heading names the zone; the cells no longer repeat it."""
    learner.profile.timezone = "Europe/Berlin"
    learner.profile.save(update_fields=["timezone"])
    client.force_login(learner)
    client.post(reverse("insights:path_generate", args=[goal.pk]))

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "When (Europe/Berlin)" in html
    assert html.count("Europe/Berlin") == html.count("When (Europe/Berlin)")


def test_a_course_unpublished_after_planning_is_shown_without_a_link_then_left_out(
    client, as_user, learner, goal
):
    """QA walk (issue 13): the instructor unpublished a course of the learner's path; the
    path kept linking to it (a 404). At read time the item says it is no longer available,
    without a link, in the page and the API; the next re-plan leaves it out."""
    from catalog.models import Course
    from catalog.services import course_unpublish

    client.force_login(learner)
    path_url = reverse("insights:path", args=[goal.pk])
    client.post(reverse("insights:path_generate", args=[goal.pk]))
    course = Course.objects.get(slug="python-basics")
    course_url = course.get_absolute_url()
    assert f'href="{course_url}"' in client.get(path_url).content.decode()

    course_unpublish(course=course, now=timezone.now())

    page = client.get(path_url).content.decode()
    assert "Python Basics" in page and f'href="{course_url}"' not in page
    assert "No longer available" in page
    assert "1 course of this path is no longer available" in page
    body = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()
    [item] = body["learning_path"]
    assert item["title"] == "Python Basics" and item["available"] is False
    assert body["metadata"]["unavailable"] == 1

    client.post(reverse("insights:path_generate", args=[goal.pk]))

    current = LearningPathSnapshot.objects.get(goal=goal, is_active=True)
    assert current.version == 2 and current.items == []
    page = client.get(path_url).content.decode()
    assert "No longer available" not in page and "no longer available" not in page


def test_a_target_at_its_level_but_not_confirmed_is_explained_with_a_skill_check(
    client, learner, other_learner
):
    """The QA walk: Lea's goal chip said "Python: level 10 · familiar, target 8" (not
    reached) while her path left Python out without a word. The path page now says why
    and offers the skill check that settles it."""
    python, flask = SkillFactory(slug="python", name="Python"), SkillFactory(slug="flask")
    CourseFactory(title="Flask Web", skills=[flask])
    goal = LearningGoalFactory(learner=learner, title="Web developer")
    GoalSkillFactory(goal=goal, skill=python, target_level=8)
    GoalSkillFactory(goal=goal, skill=flask, target_level=7)
    # Level 10, mastered once, but 65 days without practice: two steps down, familiar.
    mastered_then_faded(learner=learner, skill=python)
    client.force_login(learner)
    client.post(reverse("insights:path_generate", args=[goal.pk]))

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "At your target level, not yet confirmed" in html
    assert (
        "Python (target 8): Level 10 · familiar · 6 answers, last practised 65 days ago — review "
        "it to confirm" in html
    )
    assert reverse("assessments:skill_check", args=["python"]) in html
    assert "You already meet every target" not in html  # Flask is planned, Python to confirm
    # Only the owner sees the goal's path; a visitor is sent to log in.
    client.force_login(other_learner)
    assert client.get(reverse("insights:path", args=[goal.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("insights:path", args=[goal.pk])).status_code == 302


def familiar_on_one_answer(learner, skill):
    """Level 7 on one right answer: the level of a target 7, not its state (familiar)."""
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        level=7,
        mastery=0.66,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
        last_practiced_at=timezone.now(),
    )


def test_a_path_with_only_targets_to_confirm_does_not_claim_they_are_met(client, learner):
    """QA walks: a 0-course path said both "not yet confirmed … a skill check settles it"
    and "You already meet every target of this goal"; then a level on one answer dropped
    the course that teaches it. The target is not reached: the course stays, and the page
    says why and offers the check."""
    python = SkillFactory(slug="python", name="Python")
    CourseFactory(title="Python Basics", skills=[python])
    goal = LearningGoalFactory(learner=learner, title="Scripting")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    familiar_on_one_answer(learner, python)
    client.force_login(learner)
    client.post(reverse("insights:path_generate", args=[goal.pk]))

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "At your target level, not yet confirmed" in html
    assert "so your path still plans for these" in html
    assert "Take a skill check in Python" in html
    assert ">Python Basics</a></h3>" in html
    assert "You already meet every target" not in html
    assert "No course to plan" not in html


def test_a_target_to_confirm_whose_check_a_course_suggests_has_one_button(client, learner):
    """walk14: "Take a skill check in Python" in the "not yet confirmed" box and "Take the
    Python skill check (about 6 min)" under a course, for the same check."""
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(title="Python and SQL", estimated_hours=4, skills=[python])
    goal = LearningGoalFactory(learner=learner, title="Scripting")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    familiar_on_one_answer(learner, python)
    check = {"skill": "python", "name": "Python", "minutes": 6, "minutes_saved": 30}
    LearningPathSnapshotFactory(
        goal=goal,
        items=[
            {
                "id": course.pk,
                "title": course.title,
                "slug": course.slug,
                "difficulty": "beginner",
                "estimated_hours": 4.0,
                "reason": "Builds foundation in Python",
                "sequence": 1,
                "skill_checks": [{**check, "reason": "Even odds"}],
            }
        ],
    )
    client.force_login(learner)

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "At your target level, not yet confirmed" in html
    assert "its skill check is suggested below, with what it spares" in html
    assert "Take a skill check in Python" not in html
    assert html.count(f'action="{reverse("assessments:skill_check", args=["python"])}"') == 1
    assert "Take the Python skill check (about 6 min)" in html


def test_a_skip_the_learner_no_longer_shows_is_flagged_until_the_path_is_re_planned(
    client, learner
):
    """walk14: "You can skip 2 lessons: you already showed what they teach" stayed beside a
    skill that had faded since the version was planned."""
    python, sql = SkillFactory(slug="python", name="Python"), SkillFactory(slug="sql", name="SQL")
    course = CourseFactory(title="Python and SQL", estimated_hours=2, skills=[python, sql])
    module = ModuleFactory(course=course, order=1)
    LessonFactory(module=module, order=1, title="Loops", estimated_minutes=30, skills=[python])
    LessonFactory(module=module, order=2, title="Joins", estimated_minutes=30, skills=[sql])
    goal = LearningGoalFactory(learner=learner, title="Data")
    GoalSkillFactory(goal=goal, skill=python, target_level=7)
    GoalSkillFactory(goal=goal, skill=sql, target_level=7)
    shown = mastered_then_faded(learner=learner, skill=python, days=1)
    client.force_login(learner)
    client.post(reverse("insights:path_generate", args=[goal.pk]))
    url = reverse("insights:path", args=[goal.pk])
    html = client.get(url).content.decode()
    assert "You can skip 1 lesson" in html and "no longer shown proficient" not in html

    shown.last_practiced_at = timezone.now() - timedelta(days=65)
    shown.save(update_fields=["last_practiced_at"])
    html = client.get(url).content.decode()

    assert "Since this version was planned, Python is no longer shown proficient" in html
    client.post(reverse("insights:path_generate", args=[goal.pk]))
    assert "no longer shown proficient" not in client.get(url).content.decode()


def test_an_achieved_goal_without_a_path_says_so_once(client, learner):
    """walk15: an achieved goal never planned read "its path stays as last planned", "This
    goal is achieved." and "No path yet: build one" with no button to build one."""
    goal = LearningGoalFactory(learner=learner, title="Git", status="achieved")
    client.force_login(learner)

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert "This goal is achieved: no path was planned for it." in html
    assert "Set your next goal from your dashboard" in html
    assert "No path yet" not in html and "stays as last planned" not in html


def test_the_path_page_offers_mark_achieved_once_every_target_is_reached_by_state(
    client, learner, other_learner, goal
):
    """QA walk: goals could be marked achieved on the dashboard and the account page, not on
    the path page a learner reads last. Offered only when the states confirm every target,
    through the same service (learning:goal_achieve), back on the path page."""
    python = goal.target_skills.get().skill
    state = familiar_on_one_answer(learner, python)
    url = reverse("insights:path", args=[goal.pk])
    achieve = reverse("learning:goal_achieve", args=[goal.pk])
    client.force_login(learner)

    # Level 7 on one answer: familiar, not reached.
    assert "Mark this goal achieved" not in client.get(url).content.decode()

    state.level, state.mastery = 8, 0.8
    state.evidence_count = state.correct_count = state.distinct_questions = 4
    state.save()
    html = client.get(url).content.decode()
    assert "Every target reached" in html
    assert f'<form method="post" action="{achieve}" class="actions">' in html
    assert f'<input type="hidden" name="next" value="{url}">' in html

    client.force_login(other_learner)
    assert client.get(url).status_code == 404
    assert client.post(achieve, {"next": url}).status_code == 404
    client.logout()
    assert client.post(achieve, {"next": url}).status_code == 302
    goal.refresh_from_db()
    assert goal.status == "active"

    client.force_login(learner)
    response = client.post(achieve, {"next": url}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert "marked as achieved" in html
    assert "This goal is achieved" in html and "Mark this goal achieved" not in html
    goal.refresh_from_db()
    assert goal.status == "achieved"
