"""`python -m bench.loadgen` against a live test server: it sends what each scenario says."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from bench.run import BASE_DIR


def scenario(name: str, auth: str, expect: int) -> dict:
    return {
        "name": name,
        "method": "GET",
        "path": "/api/v1/learning/goals/",
        "auth": auth,
        "concurrency": 2,
        "duration": 10,  # an upper bound: the run stops after max_requests
        "max_requests": 6,
        "expect": expect,
    }


def run_loadgen(live_server, tmp_path, clients: list[dict], scenarios: list[dict]):
    """`python -m bench.loadgen` against the live server: the finished process and its rows
    by scenario name."""
    address = urlsplit(live_server.url)
    spec = {
        "host": address.hostname,
        "port": address.port,
        "clients": clients,
        "scenarios": scenarios,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "spec.json", "out.json"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(BASE_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads((tmp_path / "out.json").read_text())}
    return done, rows


@pytest.mark.usefixtures("transactional_db")
def test_loadgen_runs_each_scenario_and_counts_unexpected_answers(live_server, learner, tmp_path):
    done, rows = run_loadgen(
        live_server,
        tmp_path,
        clients=[{"session": "", "token": str(AccessToken.for_user(learner))}],
        scenarios=[
            scenario("with_token", "jwt", 200),
            scenario("anonymous", "none", 401),
            # The token is sent, so every answer is a 200: all of them unexpected here.
            scenario("expects_401", "jwt", 401),
        ],
    )

    assert (rows["with_token"]["requests"], rows["with_token"]["errors"]) == (6, 0)
    assert (rows["anonymous"]["requests"], rows["anonymous"]["errors"]) == (6, 0)
    assert (rows["expects_401"]["requests"], rows["expects_401"]["errors"]) == (0, 6)
    assert rows["expects_401"]["error_samples"][0].startswith("200: ")
    assert "with_token" in done.stdout


def test_loadgen_explains_its_usage():
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"], cwd=BASE_DIR, capture_output=True, text=True
    )

    assert done.returncode == 2
    assert "usage: python -m bench.loadgen SPEC.json OUT.json" in done.stderr


@pytest.mark.usefixtures("transactional_db")
def test_mixed_workload_completes_each_listed_lesson_once_then_only_posts_events(
    live_server, tmp_path
):
    """Each loop completes the next lesson of a client that has one left, never one it
    completed before: a client with none yields to one with some, while there is one."""
    from accounts.tests.factories import LearnerFactory
    from catalog.tests.factories import LessonFactory, ModuleFactory
    from learning.models import LearnerEvent, LessonProgress
    from learning.tests.factories import EnrollmentFactory

    studying, done = LearnerFactory(), LearnerFactory()
    module = ModuleFactory()
    lessons = [LessonFactory(module=module, order=n) for n in range(1, 4)]
    EnrollmentFactory(learner=studying, course=module.course)
    _, rows = run_loadgen(
        live_server,
        tmp_path,
        clients=[
            {"session": "", "token": str(AccessToken.for_user(done)), "lessons": []},
            {
                "session": "",
                "token": str(AccessToken.for_user(studying)),
                "lessons": [lesson.pk for lesson in lessons],
            },
        ],
        scenarios=[{**scenario("mixed", "jwt", 200), "max_requests": 5, "after_writes": 2}],
    )

    row = rows["mixed"]
    # Five loops: five events batches, and a completion in the three that had a lesson left.
    assert (row["requests"], row["writes"], row["write_errors"]) == (5, 8, 0), row
    completed = LessonProgress.objects.filter(status=LessonProgress.Status.COMPLETED)
    assert sorted(completed.values_list("learner_id", "lesson_id")) == [
        (studying.pk, lesson.pk) for lesson in lessons
    ]
    assert LearnerEvent.objects.count() == 5 * 2
