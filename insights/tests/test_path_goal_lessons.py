"""A path asks only for the lessons its goal needs ("Lessons outside the goal",
insights.paths), on the demo catalogue: Web Foundations teaches HTML and CSS, then
JavaScript; Async Python and Docker builds on Git and Testing and on the Flask course."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import LearnerFactory
from assessments.models import Assessment
from catalog.demo_seed import seed_demo
from catalog.models import Course, Lesson, Skill
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.analytics import goal_paces_for, learning_pace
from insights.diagnostic import adaptive_skill_ids
from insights.paths import path_payload, plan_learning_path
from insights.recommendations import next_lessons_for
from insights.services import learning_path_generate
from insights.tests.helpers import NOW
from learning.selectors import course_outline, path_skips_for
from learning.services import enrollment_create, goal_create, lesson_complete, lesson_start
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


def goal_for(learner, title: str, *slugs: str):
    goal = LearningGoalFactory(learner=learner, title=title)
    for slug in slugs:
        GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug=slug), target_level=7)
    return goal


def optional_titles(item) -> list[str]:
    return [lesson["title"] for lesson in item.optional_lessons]


def test_a_path_leaves_out_the_lessons_its_goal_does_not_need_unless_a_course_builds_on_them():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css", "docker")

    items = {item.title: item for item in plan_learning_path(goal=goal, now=NOW).items}

    web, docker = (
        items["Web Foundations: HTML, CSS and JavaScript"],
        items["Async Python and Docker Deployment"],
    )
    assert optional_titles(web) == ["Values, functions and the DOM", "Talking to an API with fetch"]
    assert web.optional_lessons[0]["reason"] == (
        "it teaches JavaScript, which your goal “Ship a site” does not ask for"
    )
    assert web.optional_lessons[0]["skills"] == ["javascript"]
    assert optional_titles(docker) == [
        "Coroutines and the event loop",
        "Blocking calls, timeouts and cancellation",
    ]
    # Its hours are those of the lessons it asks for: 10 h x 55 of 115 lesson minutes.
    assert web.estimated_hours == 4.8
    # The async course builds on Git and Testing and on the Flask course (which builds on
    # Python Fundamentals and SQL): the lock asks for each whole, testing and REST included.
    for title in (
        "Git and Testing Essentials",
        "Python Backend Development with Flask",
        "Python Fundamentals",
        "SQL and PostgreSQL",
    ):
        assert items[title].optional_lessons == []


def test_a_lesson_the_goal_needs_keeps_what_it_builds_on():
    """SQL is outside the goal, but the PostgreSQL lesson builds on the first SQL lesson."""
    learner = LearnerFactory()
    sql = Skill.objects.create(slug="sql", name="SQL")
    postgresql = Skill.objects.create(slug="postgresql", name="PostgreSQL")
    course = CourseFactory(title="Databases", estimated_hours=3, skills=[sql, postgresql])
    module = ModuleFactory(course=course, order=1)
    select = LessonFactory(module=module, order=1, title="SELECT", skills=[sql])
    LessonFactory(
        module=module, order=2, title="EXPLAIN", skills=[postgresql], prerequisites=[select]
    )
    LessonFactory(module=module, order=3, title="Window functions", skills=[sql])
    goal = goal_for(learner, "Tune queries", "postgresql")

    [item] = plan_learning_path(goal=goal, now=NOW).items

    assert optional_titles(item) == ["Window functions"]
    assert item.estimated_hours == 2.0  # 40 of 60 lesson minutes


def test_a_course_whose_lessons_are_tagged_with_no_goal_skill_stays_whole():
    learner = LearnerFactory()
    sql = Skill.objects.create(slug="sql", name="SQL")
    postgresql = Skill.objects.create(slug="postgresql", name="PostgreSQL")
    course = CourseFactory(title="Databases", estimated_hours=3, skills=[sql, postgresql])
    LessonFactory(module=ModuleFactory(course=course, order=1), skills=[sql])
    goal = goal_for(learner, "Tune queries", "postgresql")

    [item] = plan_learning_path(goal=goal, now=NOW).items

    assert item.optional_lessons == []


def _site_builder_done_with_html(learner):
    """Goal "Ship a site" (HTML and CSS): the path asks for Web Foundations' two HTML
    lessons and leaves its two JavaScript lessons out; the learner completed the two."""
    goal = goal_for(learner, "Ship a site", "html_css")
    learning_path_generate(goal=goal, now=NOW)
    web = Course.objects.get(slug="web-foundations")
    enrollment_create(learner=learner, course=web, now=NOW)
    for title in ("Semantic HTML", "Layout with flexbox and grid"):
        lesson = Lesson.objects.get(title=title)
        lesson_start(learner=learner, lesson=lesson, now=NOW)
        lesson_complete(learner=learner, lesson=lesson, now=NOW)
    return goal


def test_the_course_page_and_the_next_lesson_card_follow_the_path(client):
    seed_demo(now=NOW)
    learner = LearnerFactory()
    _site_builder_done_with_html(learner)
    web = Course.objects.get(slug="web-foundations")

    outline = course_outline(learner=learner, course=web, now=NOW, path_skips=True)
    cards = next_lessons_for(learner_ids=[learner.pk], now=NOW)[learner.pk]
    client.force_login(learner)
    page = client.get(reverse("catalog:course_detail", args=[web.slug])).content.decode()

    # "Talking to an API with fetch" builds on the other JavaScript lesson: locked, not left.
    assert outline.next_lesson is None and outline.skippable_left == 1
    assert [card.course_title for card in cards if card.course_id == web.pk] == []
    assert (
        "You can skip this: it teaches JavaScript, which your goal “Ship a site” does not ask "
        "for." in page
    )


def test_a_lesson_another_goal_needs_is_not_left_out():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    web = Course.objects.get(slug="web-foundations")
    for goal in (
        goal_for(learner, "Pages", "html_css"),
        goal_for(learner, "Scripts", "javascript"),
    ):
        [item] = learning_path_generate(goal=goal, now=NOW).snapshot.items
        assert item["optional_lessons"]  # each goal alone would leave the other's lessons out

    assert path_skips_for(learner=learner, course=web) == {}


def test_the_diagnostic_does_not_measure_what_only_left_out_lessons_teach():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal_for(learner, "Ship a site", "html_css")
    diagnostic = Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC)

    slugs = set(
        Skill.objects.filter(
            pk__in=adaptive_skill_ids(assessment=diagnostic, learner_id=learner.pk, now=NOW)
        ).values_list("slug", flat=True)
    )

    assert slugs == {"html_css"}


def test_the_path_page_and_api_list_them_to_the_owner_only(client, as_user, other_learner):
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css")
    learning_path_generate(goal=goal, now=NOW)
    client.force_login(learner)

    page = client.get(f"/insights/paths/{goal.pk}/").content.decode()
    api = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()
    other = as_user(other_learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}")

    assert "2 lessons your goal does not need: the path leaves them out" in page
    assert "It teaches JavaScript, which your goal “Ship a site” does not ask for" in page
    [item] = api["learning_path"]
    assert [lesson["title"] for lesson in item["optional_lessons"]] == [
        "Values, functions and the DOM",
        "Talking to an API with fetch",
    ]
    assert other.status_code == 404


def test_goal_pace_counts_the_lessons_the_path_asks_for_not_the_whole_course(
    client, as_user, other_learner
):
    """QA walk (issue 13): done with every lesson the path asks for, the goal showed 50 %
    (2 of the course's 4 lessons)."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = _site_builder_done_with_html(learner)
    reason = (
        "4.8 of 4.8 h of the path done (100%) (the lessons it asks for: the 2 lessons it "
        "leaves out do not count)"
    )

    pace = learning_pace(goal=goal, now=NOW)
    client.force_login(learner)
    page = client.get(reverse("learning:dashboard")).content.decode().replace("&#x27;", "'")
    [card] = as_user(learner).get("/api/v1/ai/dashboard").json()["current_goals"]
    other = as_user(other_learner).get("/api/v1/ai/dashboard").json()["current_goals"]

    assert pace.progress_percent == 100.0
    assert pace.reason.startswith(reason)
    assert reason in page
    assert card["pace"]["progress_percent"] == 100.0 and card["pace"]["reason"].startswith(reason)
    assert other == []


def test_goal_pace_weighs_the_asked_for_lessons_by_their_minutes():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css")
    learning_path_generate(goal=goal, now=NOW)
    enrollment_create(learner=learner, course=Course.objects.get(slug="web-foundations"), now=NOW)
    semantic = Lesson.objects.get(title="Semantic HTML")
    lesson_start(learner=learner, lesson=semantic, now=NOW)
    lesson_complete(learner=learner, lesson=semantic, now=NOW)
    layout = Lesson.objects.get(title="Layout with flexbox and grid")
    # A left-out lesson completed adds nothing the goal asked for.
    fetch = Lesson.objects.get(title="Values, functions and the DOM")
    lesson_start(learner=learner, lesson=fetch, now=NOW)
    lesson_complete(learner=learner, lesson=fetch, now=NOW)

    pace = learning_pace(goal=goal, now=NOW)

    share = (
        100 * semantic.estimated_minutes / (semantic.estimated_minutes + layout.estimated_minutes)
    )
    assert pace.progress_percent == round(share, 1)


def test_goal_paces_of_many_learners_read_the_asked_for_lessons_in_one_query(
    django_assert_max_num_queries,
):
    seed_demo(now=NOW)
    learners = [LearnerFactory() for _ in range(4)]
    goals = [_site_builder_done_with_html(learner) for learner in learners]

    # Snapshots, enrollments, and the lessons of the courses the paths leave lessons of.
    with django_assert_max_num_queries(3):
        paces = goal_paces_for(learners=learners, goals=goals, now=NOW)

    assert {pace.progress_percent for pace in paces.values()} == {100.0}


def test_a_completed_lesson_the_goal_does_not_need_is_done_not_optional(
    client, as_user, other_learner
):
    """QA walk (issue 13): a new path listed a lesson the learner had completed among
    those the goal does not need ("2 lessons your goal does not need")."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    web = Course.objects.get(slug="web-foundations")
    enrollment_create(learner=learner, course=web, now=NOW)
    values = Lesson.objects.get(title="Values, functions and the DOM")
    lesson_start(learner=learner, lesson=values, now=NOW)
    lesson_complete(learner=learner, lesson=values, now=NOW)
    goal = goal_for(learner, "Ship a site", "html_css")

    learning_path_generate(goal=goal, now=NOW)
    client.force_login(learner)
    page = client.get(f"/insights/paths/{goal.pk}/").content.decode()
    [item] = (
        as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()["learning_path"]
    )

    assert [lesson["title"] for lesson in item["optional_lessons"]] == [
        "Talking to an API with fetch"
    ]
    assert item["completed_outside"] == [values.pk]
    assert "1 lesson your goal does not need: the path leaves it out" in page
    # The hours still leave out both JavaScript lessons: the done one is not left to do.
    assert item["estimated_hours"] == 4.8
    assert (
        as_user(other_learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").status_code == 404
    )
    # Its pace counts neither: nothing the goal asks for is done yet.
    assert learning_pace(goal=goal, now=NOW).progress_percent == 0.0


def test_planning_reads_completed_lessons_in_the_same_query_as_completed_courses(
    django_assert_num_queries,
):
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css")
    plan_learning_path(goal=goal, now=NOW)  # warms the catalogue memo

    # Levels, targets, completions (courses, lessons, challenges, checks), path lessons.
    with django_assert_num_queries(4):
        plan_learning_path(goal=goal, now=NOW)


def test_a_new_goal_needs_its_lessons_before_its_path_is_built(client, as_user):
    """QA walk (issue 13): a goal for JavaScript, set after a goal for HTML and CSS whose
    path leaves the JavaScript lessons out, kept "You can skip this" on them until its own
    path was built (goals get their path from the path page, not on creation)."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    learning_path_generate(goal=goal_for(learner, "Ship a site", "html_css"), now=NOW)
    web = Course.objects.get(slug="web-foundations")
    values = Lesson.objects.get(title="Values, functions and the DOM")
    assert set(path_skips_for(learner=learner, course=web)) == {
        values.pk,
        Lesson.objects.get(title="Talking to an API with fetch").pk,
    }

    scripts = goal_create(
        learner=learner,
        title="Scripts",
        target_levels={"javascript": 7},
        weekly_hours=4,
        now=NOW,
    )
    client.force_login(learner)
    page = client.get(reverse("catalog:course_detail", args=[web.slug])).content.decode()
    outline = as_user(learner).get(f"/api/v1/courses/{web.pk}/outline/").json()

    assert not scripts.path_snapshots.exists()
    assert path_skips_for(learner=learner, course=web) == {}
    assert "does not ask for" not in page
    assert [lesson["skip_reason"] for m in outline["modules"] for lesson in m["lessons"]] == [
        ""
    ] * 4


def test_a_path_item_finished_shows_as_done_with_when_on_the_page_and_the_api(
    client, as_user, other_learner, django_assert_max_num_queries
):
    """QA walk (issue 13): done with every lesson the path asks for in Web Foundations, the
    learner still saw it as a course to take. It stays listed, marked done with the date,
    and counts in the path's "Done"."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = _site_builder_done_with_html(learner)
    snapshot = goal.path_snapshots.get(is_active=True)
    client.force_login(learner)

    # Published courses, the lessons' completions, the courses finished for the goal that
    # the path no longer lists (insights.path_progress).
    with django_assert_max_num_queries(3):
        payload = path_payload(snapshot)
    page = client.get(reverse("insights:path", args=[goal.pk])).content.decode()
    api = as_user(learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").json()

    [item] = payload["learning_path"]
    assert (item["title"], item["done"], item["done_at"]) == (
        "Web Foundations: HTML, CSS and JavaScript",
        True,
        NOW.isoformat(),
    )
    assert (payload["metadata"]["done_courses"], payload["metadata"]["done_hours"]) == (1, 4.8)
    assert api["learning_path"][0] == item
    assert api["metadata"]["done_courses"] == 1
    assert "Web Foundations" in page
    assert (
        '<span class="badge ok">Done</span> You finished every lesson this path asks for in it '
        f"on {NOW:%-d %b %Y}." in page
    )
    assert "4.8 of 4.8 h of the path done (100%); 1 of 1 course on this version finished" in page
    assert "Check HTML &amp; CSS first?" not in page  # nothing left for a check to spare
    # Another learner reaches neither; an anonymous visitor is sent to log in.
    assert (
        as_user(other_learner).get(f"/api/v1/ai/learning-path?goal_id={goal.pk}").status_code == 404
    )
    client.force_login(other_learner)
    assert client.get(reverse("insights:path", args=[goal.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("insights:path", args=[goal.pk])).status_code == 302


def test_a_path_item_half_done_is_not_done():
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css")
    snapshot = learning_path_generate(goal=goal, now=NOW).snapshot
    enrollment_create(learner=learner, course=Course.objects.get(slug="web-foundations"), now=NOW)
    semantic = Lesson.objects.get(title="Semantic HTML")
    lesson_start(learner=learner, lesson=semantic, now=NOW)
    lesson_complete(learner=learner, lesson=semantic, now=NOW)
    # A left-out lesson completed does not stand in for the asked one left.
    fetch = Lesson.objects.get(title="Values, functions and the DOM")
    lesson_start(learner=learner, lesson=fetch, now=NOW)
    lesson_complete(learner=learner, lesson=fetch, now=NOW)

    [item] = path_payload(snapshot)["learning_path"]

    assert (item["done"], item["done_at"]) == (False, None)


def test_a_course_completed_whole_stays_named_after_a_re_plan(client):
    """Completing all of Web Foundations completes the enrollment; the next re-plan used to
    drop it without a word (no item, nothing under "Left out"), and the page claimed "You
    already meet every target" with HTML and CSS never measured."""
    seed_demo(now=NOW)
    learner = LearnerFactory()
    goal = goal_for(learner, "Ship a site", "html_css")
    learning_path_generate(goal=goal, now=NOW)
    web = Course.objects.get(slug="web-foundations")
    enrollment_create(learner=learner, course=web, now=NOW)
    for lesson in Lesson.objects.filter(module__course=web):
        lesson_start(learner=learner, lesson=lesson, now=NOW)
        lesson_complete(learner=learner, lesson=lesson, now=NOW)

    snapshot = learning_path_generate(goal=goal, now=NOW).snapshot
    client.force_login(learner)
    page = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    assert snapshot.items == []
    assert snapshot.metadata["skipped"] == [
        {"id": web.pk, "title": web.title, "reason": f"Skipped {web.title}: you completed it"}
    ]
    assert f"{web.title} left your path: you completed it." in page
    assert "Nothing left to study for this goal: you completed or showed every course" in page
    assert "You already meet every target" not in page
