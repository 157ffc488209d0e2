"""The one lock rule (learning.locks): completion or demonstrated mastery opens a
prerequisite, the same in the outline, the lesson page, enrolment, the services and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import Course
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.tests.factories import LearnerSkillStateFactory
from learning import locks
from learning.locks import (
    EnrollmentRow,
    LockFacts,
    LockGraphs,
    lock_facts_and_enrollments_for,
    lock_facts_for,
)
from learning.models import Enrollment, LessonProgress
from learning.selectors import course_outline, enrollments_by_learner
from learning.services import enrollment_create, lesson_complete, lesson_start
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def proficient(learner, skill, *, answers: int = 6):
    """A state the mastery rules call proficient: level 8, 6 answers on 5 questions."""
    return LearnerSkillStateFactory(
        learner=learner,
        skill=skill,
        mastery=0.85,
        level=9,
        evidence_count=answers,
        correct_count=answers - 1,
        distinct_questions=5,
        last_practiced_at=NOW - timedelta(days=2),
    )


@pytest.fixture
def catalogue():
    """Python Fundamentals (skill Python) → Flask Web Apps, whose first lesson also builds
    on a Python Fundamentals lesson (a cross-course lesson prerequisite, as in the demo)."""
    python = SkillFactory(slug="python", name="Python")
    flask = SkillFactory(slug="flask", name="Flask")
    fundamentals = CourseFactory(title="Python Fundamentals", skills=[python])
    basics = ModuleFactory(course=fundamentals, order=1)
    values = LessonFactory(module=basics, order=1, title="Values", skills=[python])
    functions = LessonFactory(
        module=basics, order=2, title="Functions", skills=[python], prerequisites=[values]
    )
    web = CourseFactory(title="Flask Web Apps", skills=[flask], prerequisites=[fundamentals])
    routes_module = ModuleFactory(course=web, order=1)
    routes = LessonFactory(
        module=routes_module, order=1, title="Routes", skills=[flask], prerequisites=[functions]
    )
    templates = LessonFactory(
        module=routes_module, order=2, title="Templates", skills=[flask], prerequisites=[routes]
    )
    return {
        "python": python,
        "flask": flask,
        "fundamentals": fundamentals,
        "values": values,
        "functions": functions,
        "web": web,
        "routes": routes,
        "templates": templates,
    }


@pytest.mark.django_db
def test_an_unmet_course_prerequisite_locks_every_lesson_with_the_way_to_unlock(learner, catalogue):
    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)

    assert outline.locked
    [blocker] = outline.course_blocking
    assert blocker.kind == "course" and blocker.title == "Python Fundamentals"
    assert blocker.missing_skills == ("Python",)
    assert blocker.reason == (
        "Builds on the course “Python Fundamentals”: complete it first, or show you are "
        "proficient in Python with its course challenge."
    )
    assert blocker.course_url == catalogue["fundamentals"].get_absolute_url()
    assert all(item.locked for module in outline.modules for item in module.lessons)
    assert outline.next_lesson is None


@pytest.mark.django_db
def test_enrolment_and_lesson_services_refuse_a_locked_course(learner, catalogue):
    with pytest.raises(ValidationError, match="Python Fundamentals"):
        enrollment_create(learner=learner, course=catalogue["web"], now=NOW)
    with pytest.raises(ValidationError, match="“Routes” is locked"):
        lesson_start(learner=learner, lesson=catalogue["routes"], now=NOW)
    assert not Enrollment.objects.filter(learner=learner, course=catalogue["web"]).exists()


@pytest.mark.django_db
def test_one_answer_does_not_unlock_but_demonstrated_mastery_does(learner, catalogue):
    # One lucky answer: a high level, but only "familiar" — still locked.
    LearnerSkillStateFactory(
        learner=learner,
        skill=catalogue["python"],
        mastery=0.95,
        level=10,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
        last_practiced_at=NOW,
    )
    assert course_outline(learner=learner, course=catalogue["web"], now=NOW).locked

    learner.skill_states.all().delete()
    proficient(learner, catalogue["python"])
    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)

    assert not outline.locked
    # The cross-course lesson prerequisite (Functions) is met by the same evidence.
    assert outline.next_lesson.lesson == catalogue["routes"]
    templates = outline.modules[0].lessons[1]
    assert templates.locked and [b.title for b in templates.blocking] == ["Routes"]
    enrollment_create(learner=learner, course=catalogue["web"], now=NOW)
    assert lesson_start(learner=learner, lesson=catalogue["routes"], now=NOW).status == (
        LessonProgress.Status.IN_PROGRESS
    )


@pytest.mark.django_db
def test_a_shown_lesson_does_not_stand_in_for_what_it_builds_on(learner, catalogue):
    """REST shown meets a REST lesson of the Flask course, but not the Flask lessons it
    builds on: the lesson after it stays locked until those are done, and the way there
    starts at the first Flask lesson."""
    rest = SkillFactory(slug="rest_api", name="REST APIs")
    module = catalogue["routes"].module
    design = LessonFactory(
        module=module,
        order=3,
        title="REST design",
        skills=[rest],
        prerequisites=[catalogue["templates"]],
    )
    database = LessonFactory(
        module=module,
        order=4,
        title="Database",
        skills=[catalogue["flask"]],
        prerequisites=[design],
    )
    proficient(learner, catalogue["python"])
    proficient(learner, rest)

    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)
    lessons = {item.lesson: item for item in outline.modules[0].lessons}

    assert not lessons[catalogue["routes"]].locked
    assert lessons[database].locked
    assert [b.title for b in lessons[database].blocking] == ["REST design"]
    assert outline.next_lesson.lesson == catalogue["routes"]
    with pytest.raises(ValidationError, match="“Database” is locked"):
        lesson_start(learner=learner, lesson=database, now=NOW)

    for lesson in (catalogue["routes"], catalogue["templates"]):
        lesson_start(learner=learner, lesson=lesson, now=NOW)
        lesson_complete(learner=learner, lesson=lesson, now=NOW)
    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)
    lessons = {item.lesson: item for item in outline.modules[0].lessons}
    # REST design itself need not be studied: shown, and what it builds on is done.
    assert not lessons[database].locked


@pytest.mark.django_db
def test_shown_mastery_unlocks_like_completion_until_new_answers_take_it_back(learner, catalogue):
    state = proficient(learner, catalogue["python"])
    state.last_practiced_at = NOW - timedelta(days=95)
    state.save()
    # Three months without Python practice: the skill has faded two states (a review is
    # due), but what the evidence showed still opens Flask, as a completed course would.
    assert state.mastery_at(NOW).state == "attempted"
    assert not course_outline(learner=learner, course=catalogue["web"], now=NOW).locked

    # New wrong answers pull the estimate below proficient: Flask is locked again.
    state.mastery = 0.45
    state.save(update_fields=["mastery"])
    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)
    assert outline.locked
    assert "Python" in outline.course_blocking[0].missing_skills


@pytest.mark.django_db
def test_completion_unlocks_as_before(learner, catalogue):
    EnrollmentFactory(
        learner=learner,
        course=catalogue["fundamentals"],
        status=Enrollment.Status.COMPLETED,
        completed_at=NOW,
    )
    for lesson in (catalogue["values"], catalogue["functions"]):
        LessonProgressFactory(learner=learner, lesson=lesson, status="completed", completed_at=NOW)

    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)

    assert not outline.locked
    assert outline.next_lesson.lesson == catalogue["routes"]
    lesson_complete(learner=learner, lesson=catalogue["routes"], now=NOW)


@pytest.mark.django_db
def test_a_draft_prerequisite_course_never_blocks(learner):
    draft = CourseFactory(title="Coming soon", status="draft")
    course = CourseFactory(prerequisites=[draft])
    LessonFactory(module=ModuleFactory(course=course))

    assert not course_outline(learner=learner, course=course, now=NOW).locked
    enrollment_create(learner=learner, course=course, now=NOW)


@pytest.mark.django_db
def test_outline_page_and_lesson_page_show_the_reason_and_the_way_to_unlock(
    client, learner, catalogue
):
    client.force_login(learner)

    course_page = client.get(catalogue["web"].get_absolute_url()).content.decode()
    lesson_page = client.get(catalogue["routes"].get_absolute_url()).content.decode()

    assert "This course is locked" in course_page
    assert "Enroll in this course" not in course_page
    fundamentals_url = catalogue["fundamentals"].get_absolute_url()
    challenge = reverse("assessments:course_challenge", args=[catalogue["fundamentals"].pk])
    # One sentence: the prerequisite named once, then the two ways to unlock it, each a
    # link or a button (the challenge starts with a POST).
    sentence = (
        f'Builds on the course <a href="{fundamentals_url}">Python Fundamentals</a>: complete '
        "it first, or show you are proficient in Python with "
        f'<form method="post" action="{challenge}" class="inline-form">'
    )
    assert sentence in course_page
    assert 'class="link-button">its course challenge</button></form>.</li>' in course_page
    assert course_page.count("Python Fundamentals") == 1
    assert sentence in lesson_page
    # The lesson's own prerequisite in the other course, with a skill check for Python.
    functions_url = catalogue["functions"].get_absolute_url()
    skill_check = reverse("assessments:skill_check", args=["python"])
    assert (
        f'Builds on the lesson <a href="{functions_url}">Functions</a> in '
        f'<a href="{fundamentals_url}">Python Fundamentals</a>: complete it first, or show you '
        f'are proficient in Python with <form method="post" action="{skill_check}" '
        'class="inline-form">'
    ) in lesson_page
    assert "This lesson is locked" in lesson_page

    client.logout()
    anonymous = client.get(catalogue["web"].get_absolute_url()).content.decode()
    assert "with its course challenge.</li>" in anonymous and "inline-form" not in anonymous


@pytest.mark.django_db
def test_api_outline_and_enrolment_agree_with_the_pages(as_user, learner, catalogue):
    api = as_user(learner)
    enrollments = "/api/v1/learning/enrollments/"

    outline = api.get(f"/api/v1/courses/{catalogue['web'].pk}/outline/").json()
    enrol = api.post(enrollments, {"course": catalogue["web"].pk}, format="json")

    assert outline["locked"] is True
    assert outline["course_blocking"][0]["title"] == "Python Fundamentals"
    assert outline["course_blocking"][0]["missing_skills"] == ["Python"]
    assert outline["modules"][0]["lessons"][0]["blocking"][0]["kind"] == "course"
    assert enrol.status_code == 400
    assert "Python Fundamentals" in str(enrol.json())

    proficient(learner, catalogue["python"])
    assert api.get(f"/api/v1/courses/{catalogue['web'].pk}/outline/").json()["locked"] is False
    enrol = api.post(enrollments, {"course": catalogue["web"].pk}, format="json")
    assert enrol.status_code == 201


@pytest.mark.django_db
def test_a_course_whose_every_lesson_is_done_or_shown_is_met(learner, catalogue):
    """Python Fundamentals teaches Python and Data structures; the learner completed the
    data-structures lesson and showed Python: the course is met without being completed."""
    data = SkillFactory(slug="data_structures", name="Data structures")
    catalogue["fundamentals"].skills.add(data)
    lists = LessonFactory(module=catalogue["values"].module, order=3, title="Lists", skills=[data])
    proficient(learner, catalogue["python"])
    assert course_outline(learner=learner, course=catalogue["web"], now=NOW).locked

    LessonProgressFactory(
        learner=learner, lesson=lists, status=LessonProgress.Status.COMPLETED, completed_at=NOW
    )
    outline = course_outline(learner=learner, course=catalogue["web"], now=NOW)
    assert not outline.locked
    assert outline.next_lesson.lesson == catalogue["routes"]


@pytest.mark.django_db
def test_a_started_lesson_stays_open_when_new_answers_take_the_skill_back(learner, catalogue):
    state = proficient(learner, catalogue["python"])
    lesson_start(learner=learner, lesson=catalogue["routes"], now=NOW)
    # Months later, new wrong answers have pulled Python below proficient.
    state.mastery = 0.4
    state.save(update_fields=["mastery"])
    later = NOW + timedelta(days=120)

    outline = course_outline(learner=learner, course=catalogue["web"], now=later)
    routes = outline.modules[0].lessons[0]
    assert not routes.locked
    assert lesson_complete(learner=learner, lesson=catalogue["routes"], now=later).status == (
        LessonProgress.Status.COMPLETED
    )
    # A lesson never opened is locked again by the prerequisite no longer shown.
    assert outline.modules[0].lessons[1].locked


@pytest.mark.django_db
def test_lock_graphs_are_read_once_per_catalogue_version(
    catalogue, django_assert_num_queries, django_assert_max_num_queries
):
    web = catalogue["web"]
    graphs = LockGraphs("catalogue-1")
    # Two levels of the chain (2 queries each) and the skill names.
    with django_assert_max_num_queries(5):
        first = graphs(course_ids=[web.pk])
    with django_assert_num_queries(0):
        again = LockGraphs("catalogue-1")(course_ids={web.pk})
    assert again == first  # the same graph, from the memoised rows
    assert set(first.courses) == {web.pk, catalogue["fundamentals"].pk}

    web.title = "Flask Web Apps, 2nd edition"
    web.save()
    # A catalogue write moves the version on: the next version's graph is read afresh,
    # and a caller without a version (inside a transaction) always reads.
    assert LockGraphs("catalogue-2")(course_ids=[web.pk]).courses[web.pk].title.endswith("edition")
    assert LockGraphs(None)(course_ids=[web.pk]) is not LockGraphs(None)(course_ids=[web.pk])


@pytest.mark.django_db
def test_a_lock_graph_one_process_read_costs_another_no_query(
    catalogue, django_assert_num_queries, django_assert_max_num_queries
):
    """The rows are shared through Redis: a web worker's first dashboard of a learner finds
    the rows of their courses that another worker (or the warm run) read."""
    web = catalogue["web"]
    with django_assert_max_num_queries(5):
        first = LockGraphs("catalogue-1")(course_ids=[web.pk])
    locks._MEMO.clear()  # another process: its own memo is empty

    with django_assert_num_queries(0):
        again = LockGraphs("catalogue-1")(course_ids=[web.pk])
    assert again == first


@pytest.mark.django_db
def test_lock_facts_of_several_learners_come_in_one_query(
    learner, other_learner, catalogue, django_assert_num_queries
):
    # Alice: a lesson completed, one opened, one not started; the first course completed;
    # Python proficient (6 answers), Flask answered once (assessed, not confirmed).
    values, functions, routes = catalogue["values"], catalogue["functions"], catalogue["routes"]
    LessonProgressFactory(
        learner=learner, lesson=values, status=LessonProgress.Status.COMPLETED, completed_at=NOW
    )
    LessonProgressFactory(learner=learner, lesson=functions)
    LessonProgressFactory(
        learner=learner, lesson=routes, status=LessonProgress.Status.NOT_STARTED, started_at=None
    )
    EnrollmentFactory(
        learner=learner,
        course=catalogue["fundamentals"],
        status=Enrollment.Status.COMPLETED,
        completed_at=NOW,
    )
    EnrollmentFactory(learner=learner, course=catalogue["web"])
    proficient(learner, catalogue["python"])
    LearnerSkillStateFactory(
        learner=learner, skill=catalogue["flask"], mastery=0.9, level=9, evidence_count=1,
        correct_count=1, distinct_questions=1, last_practiced_at=NOW,
    )  # fmt: skip
    # Bob: a skill state without evidence (not assessed: not a fact) and nothing else.
    LearnerSkillStateFactory(
        learner=other_learner,
        skill=catalogue["python"],
        evidence_count=0,
        correct_count=0,
        distinct_questions=0,
    )

    with django_assert_num_queries(1):
        facts = lock_facts_for(learner_ids=[learner.pk, other_learner.pk], now=NOW)

    alice, bob = facts[learner.pk], facts[other_learner.pk]
    assert alice.completed_lessons == {values.pk}
    assert alice.opened_lessons == {values.pk, functions.pk}
    assert alice.completed_courses == {catalogue["fundamentals"].pk}
    assert set(alice.skills) == {catalogue["python"].pk, catalogue["flask"].pk}
    assert alice.confirmed(catalogue["python"].pk) and alice.confirmed_today(catalogue["python"].pk)
    assert not alice.confirmed(catalogue["flask"].pk)
    assert alice.skills[catalogue["python"].pk].evidence == "Python proficient on 6 answers"
    assert bob == LockFacts()
    with django_assert_num_queries(0):
        assert lock_facts_for(learner_ids=[], now=NOW) == {}


@pytest.mark.django_db
def test_lock_facts_and_enrollments_come_in_one_query_as_each_reads_them(
    learner, other_learner, catalogue, django_assert_num_queries
):
    """The dashboard after a lesson action reads both at once; each is what its own reader
    gives: every enrollment (dropped and draft ones too) in the order the learner enrolled,
    with its progress, and only the completed courses in the facts."""
    draft = CourseFactory(title="Flask Internals", status=Course.Status.DRAFT)
    EnrollmentFactory(
        learner=learner, course=catalogue["web"], enrolled_at=NOW - timedelta(days=5),
        progress_percent=Decimal("37.50"),
    )  # fmt: skip
    # Enrolled earlier though created later: the order is the learner's, not the rows'.
    EnrollmentFactory(
        learner=learner,
        course=catalogue["fundamentals"],
        enrolled_at=NOW - timedelta(days=30),
        status=Enrollment.Status.COMPLETED,
        completed_at=NOW - timedelta(days=6),
        progress_percent=Decimal("100.00"),
    )
    EnrollmentFactory(
        learner=learner, course=draft, enrolled_at=NOW - timedelta(days=1),
        status=Enrollment.Status.DROPPED,
    )  # fmt: skip
    LessonProgressFactory(learner=learner, lesson=catalogue["routes"])
    proficient(learner, catalogue["python"])
    EnrollmentFactory(learner=other_learner, course=catalogue["web"], enrolled_at=NOW)
    ids = [learner.pk, other_learner.pk]

    with django_assert_num_queries(1):
        facts, enrollments = lock_facts_and_enrollments_for(learner_ids=ids, now=NOW)

    assert facts == lock_facts_for(learner_ids=ids, now=NOW)
    assert enrollments == enrollments_by_learner(learner_ids=ids)
    assert facts[learner.pk].completed_courses == {catalogue["fundamentals"].pk}
    assert enrollments[learner.pk] == [
        EnrollmentRow(catalogue["fundamentals"].pk, "completed", Decimal("100.00"), True),
        EnrollmentRow(catalogue["web"].pk, "active", Decimal("37.50"), True),
        EnrollmentRow(draft.pk, "dropped", Decimal("0.00"), False),
    ]
    assert [row.course_id for row in enrollments[other_learner.pk]] == [catalogue["web"].pk]
    with django_assert_num_queries(0):
        assert lock_facts_and_enrollments_for(learner_ids=[], now=NOW) == ({}, {})


@pytest.mark.django_db
def test_a_prerequisite_lesson_in_an_unpublished_course_stops_blocking_like_the_course(
    client, learner
):
    """The demo catalogue: "Persisting data in PostgreSQL" (Flask) builds on the lesson
    "JSONB and transactions" of SQL and PostgreSQL. Once its instructor unpublishes that
    course, the lesson is a 404: it no longer blocks, as the draft course already does not,
    and no reason names it (QA walk, issue 13)."""
    from catalog.demo_seed import seed_demo
    from catalog.models import Course, Lesson
    from catalog.services import course_unpublish
    from learning.locks import lesson_blockers, lock_graph

    seed_demo(now=NOW)
    sql = Course.objects.get(slug="sql-and-postgresql")
    flask = Course.objects.get(title="Python Backend Development with Flask")
    persisting = Lesson.objects.get(module__course=flask, title="Persisting data in PostgreSQL")
    EnrollmentFactory(
        learner=learner,
        course=Course.objects.get(slug="python-fundamentals"),
        status="completed",
        completed_at=NOW,
    )
    for lesson in Lesson.objects.filter(module__course=flask).exclude(pk=persisting.pk):
        LessonProgressFactory(learner=learner, lesson=lesson, status="completed", completed_at=NOW)

    def blockers():
        graph = lock_graph(course_ids=[flask.pk], transitive=False)
        facts = lock_facts_for(learner_ids=[learner.pk], now=NOW)[learner.pk]
        return lesson_blockers(persisting.pk, graph, facts)

    before = blockers()
    assert {(b.kind, b.title) for b in before} == {
        ("course", "SQL and PostgreSQL"),
        ("lesson", "JSONB and transactions"),
    }

    course_unpublish(course=sql, now=NOW)

    assert blockers() == []
    client.force_login(learner)
    page = client.get(persisting.get_absolute_url()).content.decode()
    assert "This lesson is locked" not in page
    assert "JSONB and transactions" not in page and sql.get_absolute_url() not in page
    lesson_start(learner=learner, lesson=persisting, now=NOW)
