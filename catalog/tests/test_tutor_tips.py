"""The tutor's study tip on the dashboard: written off the request path from the learner's
figures (and only those), shown with the figures it used, absent without a provider."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import LearnerProfile
from catalog.tasks import study_tip
from catalog.tutor_tips import STUDY_TIP_TASK, study_tip_for, study_tip_refresh
from insights.models import PendingJob
from insights.tasks import refresh_recommendations
from skillstudio.testing import build_world

pytestmark = pytest.mark.django_db

TIP = "Keep your streak going: ten minutes on a weak skill each day beats one long session."


@pytest.fixture
def world(learner, instructor):
    return build_world(learner=learner, instructor=instructor)


def test_the_follow_up_queues_a_tip_only_with_a_provider(world, learner, settings):
    settings.TUTOR_PROVIDER = ""
    refresh_recommendations.apply(kwargs={"learner_id": learner.pk})
    assert not PendingJob.objects.filter(task_name=STUDY_TIP_TASK).exists()

    settings.TUTOR_PROVIDER = "openai"
    settings.TUTOR_MODEL = "any"
    refresh_recommendations.apply(kwargs={"learner_id": learner.pk})
    job = PendingJob.objects.get(task_name=STUDY_TIP_TASK)
    assert job.kwargs == {"learner_id": learner.pk}


def test_the_tip_uses_only_the_learners_numbers_and_says_which(
    client, world, learner, other_learner, provider
):
    provider.reply(TIP)

    assert study_tip.apply(kwargs={"learner_id": learner.pk}).result is True

    sent = provider.requests[0]["body"]
    prompt = provider.prompt()
    stored = study_tip_for(learner=learner)
    # Exactly the stored figures, one "label: value" line each, and nothing else.
    assert prompt.splitlines() == [f"{label}: {value}" for label, value in stored.used]
    assert prompt.startswith("streak: ")
    for private in ("alice", "Alice", "example.com"):
        assert private not in json.dumps(sent)
    # The page shows the tip and the figures it was written from.
    client.force_login(learner)
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert "Study tip" in page and TIP in page
    assert "from these figures of yours, and nothing else: streak " in page
    # The API too.
    api = APIClient()
    api.force_authenticate(learner)
    tip = api.get("/api/v1/ai/dashboard").json()["study_tip"]
    assert tip["text"] == TIP
    assert set(tip["numbers"]) >= {"streak_days", "lessons_completed"}
    # Another learner sees no tip of Alice's (and has none of their own).
    client.force_login(other_learner)
    assert "Study tip" not in client.get(reverse("learning:dashboard")).content.decode()


def test_the_same_figures_do_not_ask_again(world, learner, provider):
    provider.reply(TIP)
    now = timezone.now()
    first = study_tip_refresh(learner_id=learner.pk, now=now)
    again = study_tip_refresh(learner_id=learner.pk, now=now)
    assert first == again and len(provider.requests) == 1


def test_a_provider_failure_leaves_no_tip(client, world, learner, provider):
    provider.reply(status=500, raw=b"{}")
    assert study_tip.apply(kwargs={"learner_id": learner.pk}).result is False
    client.force_login(learner)
    assert "Study tip" not in client.get(reverse("learning:dashboard")).content.decode()


def test_no_tip_for_a_learner_who_opted_out_of_profiling(world, learner, provider):
    LearnerProfile.objects.filter(user=learner).update(profiling_opt_out=True)
    assert study_tip_refresh(learner_id=learner.pk, now=timezone.now()) is None
    assert provider.requests == []


def test_without_a_provider_the_tip_is_absent(client, world, learner, provider, settings):
    provider.reply(TIP)
    study_tip_refresh(learner_id=learner.pk, now=timezone.now())
    settings.TUTOR_PROVIDER = ""  # switched off after a tip was written

    client.force_login(learner)
    assert "Study tip" not in client.get(reverse("learning:dashboard")).content.decode()
    api = APIClient()
    api.force_authenticate(learner)
    assert "study_tip" not in api.get("/api/v1/ai/dashboard").json()
    assert study_tip_refresh(learner_id=learner.pk, now=timezone.now()) is None


def test_numbers_name_the_weakest_skill_and_the_quiz_average():
    from catalog.tests.factories import SkillFactory
    from catalog.tutor_tips import tip_numbers

    SkillFactory(name="SQL", slug="sql")
    dashboard = {
        "streak": 3,
        "performance_summary": {"avg_quiz_score": 63.6, "lessons_completed": 4},
        "skill_levels": {"python": 6, "sql": 2, "docker": None},
    }
    assert tip_numbers(dashboard=dashboard) == {
        "streak_days": 3,
        "quiz_average_percent": 64,
        "lessons_completed": 4,
        "weakest_skill": "SQL",
        "weakest_skill_level": 2,
    }


def test_changed_figures_are_asked_about_at_most_every_few_hours(world, learner, provider):
    from django.core.cache import cache

    from catalog.tutor_tips import TIP_REFRESH_AFTER

    provider.reply(TIP)
    provider.reply("A newer tip.")
    now = timezone.now()
    study_tip_refresh(learner_id=learner.pk, now=now)
    # Figures that differ from the stored tip's (as after a completed lesson).
    key = f"study-tip:v1:{learner.pk}"
    cache.set(key, {**cache.get(key), "numbers": {"streak_days": 99}})

    soon = study_tip_refresh(learner_id=learner.pk, now=now + TIP_REFRESH_AFTER / 2)
    assert soon.text == TIP and len(provider.requests) == 1
    later = study_tip_refresh(learner_id=learner.pk, now=now + TIP_REFRESH_AFTER)
    assert later.text == "A newer tip." and len(provider.requests) == 2
    assert later.numbers != {"streak_days": 99}
