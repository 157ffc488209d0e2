from __future__ import annotations

import pytest
from django.urls import reverse

from insights.models import MLModel
from insights.tests.factories import MLModelFactory, RecommendationFactory

pytestmark = pytest.mark.django_db

MODELS = reverse("admin:insights_mlmodel_changelist")


def test_activate_switches_the_active_version_of_that_name_only(client, admin_user):
    old = MLModelFactory(name="bkt", version=1, is_active=True)
    new = MLModelFactory(name="bkt", version=2)
    other = MLModelFactory(name="dropout", version=1, is_active=True)
    client.force_login(admin_user)

    client.post(MODELS, {"action": "activate", "_selected_action": [new.pk]})

    assert set(MLModel.objects.filter(is_active=True)) == {new, other}
    old.refresh_from_db()
    assert old.is_active is False


def test_activating_two_versions_of_one_name_is_refused(client, admin_user):
    first = MLModelFactory(name="bkt", version=1, is_active=True)
    second = MLModelFactory(name="bkt", version=2)
    client.force_login(admin_user)

    response = client.post(
        MODELS, {"action": "activate", "_selected_action": [first.pk, second.pk]}, follow=True
    )

    assert "Select at most one version per model name." in response.content.decode()
    assert list(MLModel.objects.filter(is_active=True)) == [first]


def test_recommendations_are_read_only_and_hidden_from_instructors(client, admin_user, instructor):
    recommendation = RecommendationFactory()
    url = reverse("admin:insights_recommendation_change", args=[recommendation.pk])
    client.force_login(admin_user)

    page = client.get(url)

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    client.force_login(instructor)
    assert client.get(url).status_code == 403


def test_recommendation_list_names_each_cards_target(client, admin_user):
    recommendation = RecommendationFactory(lesson__title="Loops")
    client.force_login(admin_user)

    page = client.get(reverse("admin:insights_recommendation_changelist"))

    assert page.status_code == 200
    assert '<td class="field-target">Loops</td>' in page.content.decode()
    assert recommendation.title == "Loops"
