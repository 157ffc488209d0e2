"""Error pages look like the site: the layout with its navigation, what went wrong and
where to go instead (issue 13 QA walk: a learner opening /teach/ got a bare "403 Forbidden")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from skillstudio.errors import server_error

LAYOUT = '<header class="site-header">'


@pytest.mark.django_db
def test_a_learner_opening_the_instructor_pages_gets_the_site_403_with_the_reason(
    client, learner, settings
):
    assert settings.DEBUG is False
    client.force_login(learner)

    response = client.get("/teach/")

    assert response.status_code == 403
    page = response.content.decode()
    assert LAYOUT in page and "<title>Not allowed · SkillStudio</title>" in page
    assert "Only instructors and admins see course insights." in page  # the exception's message
    assert f'href="{reverse("home")}"' in page
    assert f'<a href="{reverse("learning:dashboard")}">Go to your dashboard</a>' in page
    assert learner.email in page


@pytest.mark.django_db
def test_the_404_page_has_the_layout_and_a_way_home(client, learner):
    client.force_login(learner)

    response = client.get("/catalog/no-such-course-anywhere/")

    assert response.status_code == 404
    page = response.content.decode()
    assert LAYOUT in page and "Page not found" in page
    assert f'href="{reverse("home")}"' in page


@pytest.mark.django_db
def test_the_500_page_has_the_layout_without_reading_the_database(rf, django_assert_num_queries):
    """Django renders it without a request context; no query may run (the database may be
    the cause)."""
    with django_assert_num_queries(0):
        response = server_error(rf.get("/dashboard/"))

    assert response.status_code == 500
    page = response.content.decode()
    assert LAYOUT in page and "Something went wrong" in page
    assert f'href="{reverse("home")}"' in page
