from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Course, Difficulty
from catalog.search import catalog_index
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from learning.models import Enrollment, LessonProgress
from learning.tests.factories import EnrollmentFactory, LessonProgressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def python():
    return SkillFactory(slug="python", name="Python")


@pytest.fixture
def catalog(python, instructor):
    sql = SkillFactory(slug="sql", name="SQL")
    return {
        "intro": CourseFactory(
            title="Python Basics", slug="python-basics", skills=[python], owner=instructor
        ),
        "web": CourseFactory(
            title="Web APIs",
            slug="web-apis",
            difficulty=Difficulty.ADVANCED,
            skills=[python, sql],
            owner=instructor,
        ),
        "draft": CourseFactory(
            title="Secret Draft", slug="draft", status=Course.Status.DRAFT, owner=instructor
        ),
    }


def _titles(response) -> list[str]:
    return [course.title for course, _ in response.context["rows"]]


def test_catalog_lists_published_courses_only(client, catalog):
    response = client.get(reverse("catalog:course_list"))

    assert response.status_code == 200
    assert _titles(response) == ["Python Basics", "Web APIs"]


def _ranked(response) -> list[str]:
    return [hit.obj.title for hit in response.context["results"].courses]


def test_catalog_search_and_filters(client, catalog):
    catalog_index()  # what the outbox job does after each edit
    url = reverse("catalog:course_list")
    # A query ranks (full text, trigrams, meaning) rather than filters: best first.
    assert _ranked(client.get(url, {"q": "web"}))[0] == "Web APIs"
    assert _ranked(client.get(url, {"q": "web", "difficulty": "beginner"})) == ["Python Basics"]
    assert _titles(client.get(url, {"skill": "sql"})) == ["Web APIs"]
    assert _titles(client.get(url, {"difficulty": "beginner"})) == ["Python Basics"]
    assert _titles(client.get(url, {"skill": "python", "difficulty": "advanced"})) == ["Web APIs"]


def test_invalid_filter_is_reported_not_a_500(client, catalog):
    response = client.get(reverse("catalog:course_list"), {"difficulty": "wizard"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _titles(response) == ["Python Basics", "Web APIs"]


def test_htmx_search_renders_only_the_results_fragment(client, catalog):
    catalog_index()
    response = client.get(
        reverse("catalog:course_list"), {"q": "basics"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="results"' in html
    assert _ranked(response)[0] == "Python Basics"
    assert "Secret Draft" not in html
    assert "HX-Request" in response["Vary"]


def test_catalog_marks_the_learners_enrollments(client, learner, catalog):
    EnrollmentFactory(learner=learner, course=catalog["web"], progress_percent=40)
    client.force_login(learner)

    response = client.get(reverse("catalog:course_list"))

    assert "40% done" in response.content.decode()


@pytest.mark.parametrize("courses", [2, 25])
def test_catalog_query_count_does_not_grow_with_courses(
    client, learner, instructor, django_assert_max_num_queries, courses
):
    skills = [SkillFactory() for _ in range(3)]
    for course in CourseFactory.create_batch(courses, skills=skills, owner=instructor):
        EnrollmentFactory(learner=learner, course=course)
    client.force_login(learner)

    # session + user, form skill choices, courses, owners join, skills prefetch,
    # prerequisites prefetch, enrollments.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("catalog:course_list"))
    assert len(response.context["rows"]) == courses


@pytest.fixture
def course_with_lock(python, instructor):
    course = CourseFactory(
        title="Python Basics", slug="python-basics", skills=[python], owner=instructor
    )
    module = ModuleFactory(course=course, title="Start", order=1)
    first = LessonFactory(module=module, title="Variables", order=1)
    second = LessonFactory(module=module, title="Functions", order=2, prerequisites=[first])
    return course, first, second


def test_course_outline_explains_locked_lessons(client, learner, course_with_lock):
    course, first, _ = course_with_lock
    EnrollmentFactory(learner=learner, course=course)
    client.force_login(learner)

    response = client.get(reverse("catalog:course_detail", args=[course.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    # One sentence: the prerequisite named once (its course is this page's: not repeated)
    # and the way to unlock it.
    assert (
        f'Builds on the lesson <a href="/learn/lessons/{first.pk}/">Variables</a>: complete it '
        "first, or show you are proficient in Python with "
    ) in html
    assert html.count("Python Basics") == 3  # <title>, breadcrumb and heading only
    assert 'class="link-button">a skill check</button></form>.</li>' in html
    assert "0 of 2 lessons completed" in html


def test_course_outline_shows_progress_and_unlocks(client, learner, course_with_lock):
    course, first, _ = course_with_lock
    EnrollmentFactory(learner=learner, course=course, progress_percent=50)
    LessonProgressFactory(
        learner=learner,
        lesson=first,
        status=LessonProgress.Status.COMPLETED,
        completed_at=first.created_at,
    )
    client.force_login(learner)

    html = client.get(reverse("catalog:course_detail", args=[course.slug])).content.decode()

    assert "1 of 2 lessons completed (50%)" in html
    assert "Locked" not in html
    assert "Continue: Functions" in html


def test_anonymous_sees_a_published_outline_without_progress(client, course_with_lock):
    course, _, _ = course_with_lock

    html = client.get(reverse("catalog:course_detail", args=[course.slug])).content.decode()

    assert "Variables" in html
    assert "to enroll and track your progress" in html


def test_draft_course_is_404_for_learners(client, learner, catalog):
    client.force_login(learner)

    response = client.get(reverse("catalog:course_detail", args=["draft"]))

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_unknown_course_is_404(client):
    assert client.get(reverse("catalog:course_detail", args=["nope"])).status_code == 404


@pytest.mark.parametrize("lessons", [2, 30])
def test_course_outline_query_count_does_not_grow_with_lessons(
    client, learner, instructor, django_assert_max_num_queries, lessons
):
    course = CourseFactory(owner=instructor)
    module = ModuleFactory(course=course)
    previous = None
    for order in range(1, lessons + 1):
        lesson = LessonFactory(
            module=module, order=order, prerequisites=[previous] if previous else []
        )
        LessonProgressFactory(learner=learner, lesson=lesson)
        previous = lesson
    EnrollmentFactory(learner=learner, course=course)
    client.force_login(learner)

    # session + user, course (+ skills, prerequisites), modules, lessons; the lock rule:
    # courses and lessons of this course and of those it builds on, skill names (5), the
    # learner's completed lessons, completed courses, skill states (3); progress,
    # enrollment, published assessments.
    with django_assert_max_num_queries(17):
        response = client.get(reverse("catalog:course_detail", args=[course.slug]))
    assert response.context["outline"].lessons_total == lessons


def test_enroll_requires_login(client, catalog):
    response = client.post(reverse("catalog:course_enroll", args=["web-apis"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Enrollment.objects.exists()


def test_enroll_creates_one_enrollment_even_when_repeated(client, learner, catalog):
    client.force_login(learner)
    url = reverse("catalog:course_enroll", args=["web-apis"])

    client.post(url)
    response = client.post(url, follow=True)

    assert Enrollment.objects.filter(learner=learner, course=catalog["web"]).count() == 1
    assert "You are enrolled in “Web APIs”." in response.content.decode()


def test_enrolling_in_a_draft_is_404(client, learner, catalog):
    client.force_login(learner)

    assert client.post(reverse("catalog:course_enroll", args=["draft"])).status_code == 404
    assert not Enrollment.objects.exists()


def test_leaving_a_course_keeps_the_progress_and_offers_enrolling_again(client, learner, catalog):
    EnrollmentFactory(learner=learner, course=catalog["web"])
    client.force_login(learner)
    page = reverse("catalog:course_detail", args=["web-apis"])
    assert "Leave this course" in client.get(page).content.decode()

    response = client.post(reverse("catalog:course_leave", args=["web-apis"]), follow=True)

    html = response.content.decode()
    assert "You left “Web APIs”; your progress is kept." in html
    assert "Enroll in this course" in html
    assert Enrollment.objects.get(learner=learner).status == Enrollment.Status.DROPPED


def test_a_completed_course_cannot_be_left(client, learner, catalog):
    EnrollmentFactory(learner=learner, course=catalog["web"], status=Enrollment.Status.COMPLETED)
    client.force_login(learner)

    response = client.post(reverse("catalog:course_leave", args=["web-apis"]), follow=True)

    assert "A completed course stays on your record" in response.content.decode()
    assert Enrollment.objects.get(learner=learner).status == Enrollment.Status.COMPLETED


def test_leaving_a_course_one_is_not_enrolled_in_is_404(client, learner, other_learner, catalog):
    EnrollmentFactory(learner=other_learner, course=catalog["web"])
    client.force_login(learner)

    assert client.post(reverse("catalog:course_leave", args=["web-apis"])).status_code == 404
    assert client.get(reverse("catalog:course_leave", args=["web-apis"])).status_code == 405
    assert Enrollment.objects.get().status == Enrollment.Status.ACTIVE


def test_a_course_page_names_an_unpublished_prerequisite_without_a_link(
    client, learner, instructor
):
    """QA walk (issue 13): Flask "Builds on: … SQL and PostgreSQL" linked to a 404 once
    that course was unpublished. The learner sees it named, not linked, and that it does
    not hold the course back (a draft prerequisite blocks nothing); its owner still gets
    the link, marked as a draft."""
    from django.utils import timezone

    from catalog.services import course_unpublish
    from learning.services import enrollment_create

    fundamentals = CourseFactory(title="Python Fundamentals", slug="python-fundamentals")
    sql = CourseFactory(title="SQL and PostgreSQL", slug="sql-and-postgresql", owner=instructor)
    flask = CourseFactory(title="Flask", slug="flask", prerequisites=[fundamentals, sql])
    LessonFactory(module=ModuleFactory(course=flask))
    EnrollmentFactory(
        learner=learner,
        course=fundamentals,
        status=Enrollment.Status.COMPLETED,
        completed_at=timezone.now(),
    )
    client.force_login(learner)

    course_unpublish(course=sql, now=timezone.now())

    page = client.get(flask.get_absolute_url()).content.decode()
    assert (
        f'Builds on: <a href="{fundamentals.get_absolute_url()}">Python Fundamentals</a>, '
        "SQL and PostgreSQL (no longer available: it does not hold this course back)."
    ) in page
    assert sql.get_absolute_url() not in page
    enrollment_create(learner=learner, course=flask, now=timezone.now())

    EnrollmentFactory(
        learner=instructor,
        course=fundamentals,
        status=Enrollment.Status.COMPLETED,
        completed_at=timezone.now(),
    )
    client.force_login(instructor)
    owner_page = client.get(flask.get_absolute_url()).content.decode()
    assert (
        f'<a href="{sql.get_absolute_url()}">SQL and PostgreSQL</a> <span class="badge warn">'
        "Draft</span>."
    ) in owner_page
