"""Content-Security-Policy on pages, and lesson Markdown images limited to allowed hosts."""

from __future__ import annotations

import pytest

from catalog.templatetags.lesson_markdown import render_markdown


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_script_or_style(client):
    policy = client.get("/").headers["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"


@pytest.mark.django_db
def test_no_template_page_has_an_inline_script(client, learner):
    client.force_login(learner)
    for url in ("/", "/catalog/", "/learn/"):
        page = client.get(url, follow=True).content.decode()
        assert "<script>" not in page and " style=" not in page, url


def test_remote_markdown_images_are_dropped(settings):
    settings.LESSON_IMAGE_HOSTS = []

    html = render_markdown("![pixel](https://tracker.example/p.gif) ![ok](/static/favicon.svg)")

    assert "tracker.example" not in html
    assert 'src="/static/favicon.svg"' in html


def test_allowed_hosts_keep_their_images_over_https_only(settings):
    settings.LESSON_IMAGE_HOSTS = ["img.example.org"]

    html = render_markdown(
        "![a](https://img.example.org/a.png) ![b](http://img.example.org/b.png) "
        "![c](//evil.example/c.png)"
    )

    assert 'src="https://img.example.org/a.png"' in html
    assert "http://img.example.org" not in html and "evil.example" not in html
