"""Catalogue search and related lessons on a small fixed catalogue (real PostgreSQL + pgvector)."""

from __future__ import annotations

import re
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from catalog import search
from catalog.models import Course, Difficulty, Lesson, Skill
from catalog.pg_extensions import ensure_extension, missing_extension_error
from catalog.search import catalog_index, catalog_search, lessons_like_skill, lessons_related
from catalog.tasks import index_lesson
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import PendingJob
from insights.tests.helpers import mastered_then_faded
from learning.models import LessonProgress
from learning.tests.factories import LessonProgressFactory

pytestmark = pytest.mark.django_db

ASYNC_BODY = """\
## Waiting without blocking

`await asyncio.sleep(0.2)` stands in for a network call: while one coroutine
waits for the server to reply, the event loop runs the others.
"""
FUNCTIONS_BODY = """\
## Name a piece of work

```python
def average(numbers):
    return sum(numbers) / len(numbers)
```
Parameters can have defaults; `return` hands a value back to the caller.
"""
LOOPS_BODY = "`for` walks over any iterable; `while` repeats until a condition is false."
CSS_BODY = "Flexbox & grid: <b>flexbox</b> lays items out in one dimension. <script>x()</script>"


@pytest.fixture
def world(instructor):
    """Two published courses, a draft one; indexed the way the outbox job does it."""
    python = SkillFactory(slug="python", name="Python")
    async_skill = SkillFactory(slug="async_programming", name="Async programming")
    css = SkillFactory(slug="html_css", name="HTML & CSS")
    basics = CourseFactory(
        title="Python Basics", slug="python-basics", skills=[python], owner=instructor
    )
    first = ModuleFactory(course=basics, title="First steps", order=1)
    functions = LessonFactory(
        module=first, order=1, title="Writing functions", body=FUNCTIONS_BODY, skills=[python]
    )
    loops = LessonFactory(
        module=first, order=2, title="Conditions and loops", body=LOOPS_BODY, skills=[python]
    )
    concurrency = CourseFactory(
        title="Async Python",
        slug="async-python",
        difficulty=Difficulty.ADVANCED,
        skills=[async_skill],
        owner=instructor,
    )
    module = ModuleFactory(course=concurrency, title="Concurrency", order=1)
    coroutines = LessonFactory(
        module=module,
        order=1,
        title="Coroutines and the event loop",
        body=ASYNC_BODY,
        difficulty=Difficulty.ADVANCED,
        skills=[async_skill],
    )
    web = CourseFactory(title="Web Layout", slug="web-layout", skills=[css], owner=instructor)
    layout = LessonFactory(
        module=ModuleFactory(course=web, order=1),
        order=1,
        title="Layout with flexbox and grid",
        body=CSS_BODY,
        skills=[css],
    )
    draft = CourseFactory(
        title="Secret Functions", slug="secret", status=Course.Status.DRAFT, owner=instructor
    )
    hidden = LessonFactory(
        module=ModuleFactory(course=draft, order=1),
        order=1,
        title="Secret functions and loops",
        body=FUNCTIONS_BODY,
        skills=[python],
    )
    catalog_index()
    return {
        "functions": functions,
        "loops": loops,
        "coroutines": coroutines,
        "layout": layout,
        "hidden": hidden,
        "basics": basics,
    }


def _lesson_titles(results) -> list[str]:
    return [hit.obj.title for hit in results.hits if hit.kind == "lesson"]


def test_a_typo_finds_the_right_lesson(world):
    results = catalog_search(q="pythn functons")

    assert _lesson_titles(results)[0] == "Writing functions"


def test_a_question_without_shared_words_finds_the_lesson_by_meaning(world):
    results = catalog_search(q="make my code wait for the network")

    assert _lesson_titles(results)[0] == "Coroutines and the event loop"


def test_plain_words_find_lessons_and_their_course(world):
    results = catalog_search(q="python functions")

    assert results.courses[0].obj == world["basics"]
    assert results.hits[0].obj == world["functions"]
    assert {"fts", "trigram", "vector"} <= set(results.hits[0].channels)


def test_only_published_content_is_searched(world):
    results = catalog_search(q="secret functions")

    found = {hit.obj.title for hit in results.courses + results.hits}
    assert "Secret functions and loops" not in found
    assert "Secret Functions" not in found
    assert "Writing functions" in found


def test_filters_still_apply(world):
    results = catalog_search(q="functions", difficulty=Difficulty.ADVANCED)
    assert _lesson_titles(results) == ["Coroutines and the event loop"]
    assert [h.obj.title for h in results.courses] == ["Async Python"]

    by_skill = catalog_search(q="functions", skill="html_css")
    assert [h.obj.title for h in by_skill.hits] == ["Layout with flexbox and grid"]
    assert [h.obj.title for h in by_skill.courses] == ["Web Layout"]


def test_snippets_highlight_matches_and_escape_the_body(world):
    results = catalog_search(q="flexbox", skill="html_css")

    hit = next(h for h in results.hits if h.kind == "lesson")
    assert "<mark>Flexbox</mark> &amp; grid" in hit.snippet
    # ts_headline drops the markup; nothing but our <mark> reaches the page.
    assert set(re.findall(r"</?(\w+)", hit.snippet)) == {"mark"}


def test_no_query_word_means_no_search():
    assert catalog_search(q="  ?! ").hits == []


def test_catalog_page_shows_ranked_courses_and_lessons_paginated(client, world, instructor):
    url = reverse("catalog:course_list")
    first = client.get(url, {"q": "pythn functions"})
    assert first.status_code == 200
    html = first.content.decode()
    assert "Writing functions" in html
    assert "Secret" not in html
    # At most the 4 published lessons, all on one page, under at most 3 courses.
    assert first.context["results"].total == len(first.context["results"].hits) <= 4
    assert len(first.context["results"].courses) <= 3

    _more_catalogue(instructor, 3)
    paged = client.get(url, {"q": "pythn functions", "page": "2"})
    assert paged.context["results"].page.number == 2
    assert paged.context["results"].courses == []  # courses head the first page only
    assert 'rel="prev"' in paged.content.decode()

    # A nonsense page number is the last page, not an error.
    assert client.get(url, {"q": "functions", "page": "zz"}).status_code == 200


def test_htmx_search_returns_the_results_fragment(client, world):
    response = client.get(
        reverse("catalog:course_list"), {"q": "loops"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "Conditions and loops" in html


def _more_catalogue(instructor, courses: int) -> None:
    for n in range(courses):
        course = CourseFactory(title=f"Extra {n}", slug=f"extra-{n}", owner=instructor)
        module = ModuleFactory(course=course, order=1)
        for order in range(1, 4):
            LessonFactory(module=module, order=order, title=f"Functions part {n}.{order}")
    catalog_index()


@pytest.mark.parametrize("extra_courses", [0, 12])
def test_search_query_count_does_not_grow_with_the_catalogue(
    client, world, instructor, extra_courses, django_assert_max_num_queries
):
    _more_catalogue(instructor, extra_courses)
    _scripts(world)
    search.embedding_model()  # the model loads once per process, not per request
    # 3 channels x (courses, lessons); the page's courses + skills, lessons + skills;
    # the skill list of the filter form; session/user stay out (anonymous).
    with django_assert_max_num_queries(12):
        response = client.get(reverse("catalog:course_list"), {"q": "writing functions"})
    assert response.status_code == 200


# ------------------------------------------------------------------ API


def test_api_search(world):
    api = APIClient()
    response = api.get("/api/v1/search", {"q": "pythn functions"})

    assert response.status_code == 200
    body = response.json()
    assert body["page"] == body["pages"] == 1
    assert body["count"] == len(body["results"]) <= 4  # never the draft course's lesson
    assert body["courses"][0]["title"] == "Python Basics"
    assert body["courses"][0]["kind"] == "course"
    lessons = [r for r in body["results"] if r["kind"] == "lesson"]
    assert lessons[0]["title"] == "Writing functions"
    assert lessons[0]["course_id"] == world["basics"].pk
    assert lessons[0]["url"] == world["functions"].get_absolute_url()


@pytest.mark.parametrize("extra_courses", [0, 12])
def test_api_search_and_related_query_counts_are_bounded(
    world, instructor, learner, extra_courses, django_assert_max_num_queries
):
    _more_catalogue(instructor, extra_courses)
    _scripts(world)
    search.embedding_model()
    api = APIClient()
    # 6 channel queries, the page's courses and lessons with their skills (4).
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/search", {"q": "functions"}).status_code == 200
    api.force_authenticate(learner)
    # The lesson (+ skills, prerequisites prefetches); related candidates; the lock rule
    # over their courses (courses, lessons, for them and the courses they build on, skill
    # names: 5) and the learner (completed lessons, completed courses, skill states: 3).
    with django_assert_max_num_queries(12):
        response = api.get(f"/api/v1/lessons/{world['functions'].pk}/related")
    assert response.status_code == 200 and response.json()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x", "difficulty": "wizard"},
        {"q": "x", "page": "0"},
        {"q": "x", "skill": "nope"},
    ],
)
def test_api_search_rejects_bad_parameters_with_a_400(world, params):
    response = APIClient().get("/api/v1/search", params)

    assert response.status_code == 400


# ------------------------------------------------------------------ related lessons


def _scripts(world) -> Lesson:
    """A second Python lesson, in another module of Python Basics."""
    scripts = LessonFactory(
        module=ModuleFactory(course=world["basics"], title="Programs", order=2),
        order=1,
        title="Scripts and modules",
        body=LOOPS_BODY,
        skills=[Skill.objects.get(slug="python")],
    )
    catalog_index()
    return scripts


def _related(lesson, learner) -> dict[str, str]:
    return {
        item.lesson.title: item.reason for item in lessons_related(lesson=lesson, learner=learner)
    }


def test_related_lessons_share_a_skill_or_build_on_each_other_and_say_why(
    world, learner, other_learner
):
    """QA walk (issue 13): "Related lessons" under a Python lesson listed a CSS layout
    lesson, nearest in text only. A related lesson shares a skill or builds on the lesson
    (or it on them), and says which; else nothing is listed."""
    functions, loops, coroutines = world["functions"], world["loops"], world["coroutines"]
    _scripts(world).prerequisites.set([loops])
    done = {"status": LessonProgress.Status.COMPLETED, "completed_at": loops.created_at}

    # Same module (loops), a draft course (hidden), another skill (layout, coroutines), and a
    # Python lesson still locked (scripts builds on loops): nothing.
    assert _related(functions, learner) == {}
    assert _related(world["layout"], learner) == {}
    LessonProgressFactory(learner=learner, lesson=loops, **done)
    assert _related(functions, learner) == {"Scripts and modules": "Also teaches Python"}

    coroutines.prerequisites.set([functions])
    assert "Coroutines and the event loop" not in _related(functions, learner)  # locked
    LessonProgressFactory(learner=learner, lesson=functions, **done)
    assert _related(functions, learner) == {
        "Scripts and modules": "Also teaches Python",
        "Coroutines and the event loop": "Comes next: it builds on this lesson",
    }
    assert _related(coroutines, learner) == {
        "Writing functions": "This lesson builds on it: you completed it"
    }
    # Another learner: neither completed nor shown, then Python shown (walk14: "Learn it
    # first" beside a lesson on a skill the learner had mastered).
    assert _related(coroutines, other_learner)["Writing functions"] == (
        "Learn it first: this lesson builds on it"
    )
    # Mastered on six right answers, practised today.
    mastered_then_faded(learner=other_learner, skill=Skill.objects.get(slug="python"), days=0)
    assert _related(coroutines, other_learner)["Writing functions"] == (
        "This lesson builds on it: you already showed what it teaches"
    )


def test_more_like_this_for_a_skill_without_an_open_lesson(world, learner):
    waiting = SkillFactory(
        slug="waiting",
        name="Waiting on the network",
        description="Coroutines that wait for network calls without blocking the event loop.",
    )
    assert lessons_like_skill(skill=waiting, learner=learner)[0] == world["coroutines"]

    world["coroutines"].prerequisites.set([world["loops"]])  # now locked for this learner
    assert world["coroutines"] not in lessons_like_skill(skill=waiting, learner=learner)


def test_related_lessons_on_the_lesson_page_and_api(client, world, learner, other_learner):
    lesson = world["loops"]
    _scripts(world).prerequisites.set([lesson])
    for reader in (learner, other_learner):  # scripts builds on loops: open once it is done
        LessonProgressFactory(
            learner=reader,
            lesson=lesson,
            status=LessonProgress.Status.COMPLETED,
            completed_at=lesson.created_at,
        )
    client.force_login(learner)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert "Related lessons" in page
    assert "Scripts and modules</a>" in page
    assert "· Comes next: it builds on this lesson; also teaches Python</li>" in page
    assert world["layout"].title not in page
    # Nothing related: no list at all.
    layout = client.get(world["layout"].get_absolute_url()).content.decode()
    assert "Related lessons" not in layout

    api = APIClient()
    url = f"/api/v1/lessons/{lesson.pk}/related"
    assert api.get(url).status_code == 401
    api.force_authenticate(other_learner)
    response = api.get(url)
    assert response.status_code == 200
    [row] = response.json()
    assert (row["title"], row["reason"]) == (
        "Scripts and modules",
        "Comes next: it builds on this lesson; also teaches Python",
    )
    # A lesson of a draft course is not there for a learner.
    assert api.get(f"/api/v1/lessons/{world['hidden'].pk}/related").status_code == 404


# ------------------------------------------------------------------ indexing


def test_a_lesson_edit_queues_its_indexing_through_the_outbox(world, instructor):
    lesson = world["loops"]
    api = APIClient()
    api.force_authenticate(instructor)
    url = f"/api/v1/courses/{world['basics'].pk}/modules/{lesson.module_id}/lessons/{lesson.pk}/"
    response = api.patch(url, {"body": "Recursion: a function that calls itself."}, format="json")
    assert response.status_code == 200

    jobs = list(PendingJob.objects.values_list("task_name", "kwargs"))
    assert ("catalog.index_lesson", {"lesson_id": lesson.pk}) in jobs
    # The save did not index: full text still knows the old body.
    assert all("fts" not in h.channels for h in catalog_search(q="recursion").hits)
    lesson.refresh_from_db()
    before = list(lesson.embedding)

    assert index_lesson(lesson_id=lesson.pk) is True  # what the worker runs

    lesson.refresh_from_db()
    assert list(lesson.embedding) != before
    hits = catalog_search(q="recursion").hits
    assert hits[0].obj == lesson and "fts" in hits[0].channels
    assert "<mark>Recursion</mark>" in hits[0].snippet


def test_index_job_for_a_deleted_lesson_is_a_no_op(world):
    assert index_lesson(lesson_id=999_999) is False


def test_index_command_dry_run_writes_nothing(world, capsys):
    Lesson.objects.update(embedding=None)
    call_command("index_catalog", "--dry-run")
    assert "Would index 5 lesson(s), 4 course(s)." in capsys.readouterr().out
    assert not Lesson.objects.filter(embedding__isnull=False).exists()

    call_command("index_catalog", "--missing")
    out = capsys.readouterr().out
    assert "lessons 5/5" in out
    assert not Lesson.objects.filter(embedding__isnull=True).exists()


def test_the_model_loads_from_the_wheel_without_the_network(monkeypatch):
    real_connect = socket.socket.connect

    def refuse_internet(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", refuse_internet)
    search.embedding_model.cache_clear()
    vectors = search.embed_texts(["async timeouts", "asynchronous timeout"])
    assert vectors.shape == (2, 256)
    assert float(vectors[0] @ vectors[1]) > 0.5


# ------------------------------------------------------------------ migration


def test_the_extension_check_passes_with_pgvector_and_explains_a_missing_one():
    ensure_extension(connection, "vector")  # installed by the migration: no error

    with pytest.raises(ImproperlyConfigured, match="no 'vector_missing_here' extension"):
        ensure_extension(connection, "vector_missing_here")


def test_a_server_without_pgvector_is_told_how_to_get_it():
    message = str(missing_extension_error("vector"))

    assert "no 'vector' extension" in message
    assert "Install pgvector" in message and "embedded PostgreSQL" in message
