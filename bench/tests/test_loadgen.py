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


@pytest.mark.usefixtures("transactional_db")
def test_loadgen_runs_each_scenario_and_counts_unexpected_answers(live_server, learner, tmp_path):
    address = urlsplit(live_server.url)
    spec = {
        "host": address.hostname,
        "port": address.port,
        "clients": [{"session": "", "token": str(AccessToken.for_user(learner))}],
        "scenarios": [
            scenario("with_token", "jwt", 200),
            scenario("anonymous", "none", 401),
            # The token is sent, so every answer is a 200: all of them unexpected here.
            scenario("expects_401", "jwt", 401),
        ],
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
