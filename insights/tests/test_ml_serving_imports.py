"""Web processes serve the models without loading scikit-learn or scipy.

Loading them took each web worker from about 121 to 220 MB RSS. A fresh interpreter sets
Django up, loads every URL (views, API, ML API) and the admin, then unpickles a CF and a
segments artifact and serves from them, or renders the admin page of an analysed
assessment; neither library may appear in sys.modules.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse

from insights.ml.cf import item_similarity
from insights.ml.irt import refresh_item_analysis
from insights.ml.segments import FEATURES, Segment, SegmentModel
from insights.tests.ml_data import T, build_answered_quiz

SERVE = """
import json, pickle, sys
import django

django.setup()
from django.contrib import admin
from django.urls import get_resolver

get_resolver().url_patterns
admin.autodiscover()
import skillstudio.wsgi  # noqa: F401

from insights.ml.cf import cf_course_suggestions
from insights.ml.registry import artifact_of
from insights.models import MLModel

cf = artifact_of(MLModel(artifact=open(sys.argv[1], "rb").read()))
segments = artifact_of(MLModel(artifact=open(sys.argv[2], "rb").read()))
found = cf_course_suggestions(learner_courses={7: {1}}, completed={7: {1}}, limit=3, model=cf)
labels = segments.predict([[20, 3, 1, 90, 1, 0.4], [2, 0, 1, 40, 0, -1]])
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})
print(json.dumps({"reasons": [s.reason for s in found[7]], "labels": labels.tolist(),
                  "loaded": loaded}))
"""


RENDER_ADMIN = """
import json, sys
from django.conf import settings

# The test's database, where the analysed assessment was committed.
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django

django.setup()
from django.contrib import admin
from django.test import Client
from accounts.models import User

admin.autodiscover()
client = Client(HTTP_HOST="localhost")
client.force_login(User.objects.get(pk=int(sys.argv[2])))
response = client.get(sys.argv[3], secure=True)
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})
print(json.dumps({"status": response.status_code, "page": response.content.decode(),
                  "loaded": loaded}))
"""


def _run(script: str, *args: object) -> dict:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script, *map(str, args)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "skillstudio.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_serving_needs_neither_scikit_learn_nor_scipy(tmp_path: Path):
    # Two learners took Python Basics (1) and Flask APIs (2), one Basics and the draft (3).
    cf = item_similarity(
        [("a", 1, 2), ("a", 2, 1), ("b", 1, 2), ("b", 2, 1), ("c", 1, 1), ("c", 3, 1)],
        titles={1: "Python Basics", 2: "Flask APIs", 3: "Draft"},
        suggestible={1, 2},
    )
    evening = dict(zip(FEATURES, (20, 3, 1, 90, 1, 0.4), strict=True))
    daytime = dict(zip(FEATURES, (2, 0, 1, 40, 0, -1), strict=True))
    segments = SegmentModel(
        mean=np.zeros(6),
        scale=np.ones(6),
        centers=np.array([list(daytime.values()), list(evening.values())], dtype=float),
        labels=np.array([0, 1]),
        inertia=0.0,
        segments=[Segment(0, "daytime", "", 1, daytime), Segment(1, "evening", "", 1, evening)],
    )
    (tmp_path / "cf.pickle").write_bytes(pickle.dumps(cf))
    (tmp_path / "segments.pickle").write_bytes(pickle.dumps(segments))

    served = _run(SERVE, tmp_path / "cf.pickle", tmp_path / "segments.pickle")
    # The draft course is never suggested; the evening profile is nearest the evening centre.
    assert served == {
        "reasons": ["Learners who finished Python Basics went on to Flask APIs."],
        "labels": [1, 0],
        "loaded": [],
    }


# Committed (not rolled back) so the other process sees the rows.
@pytest.mark.django_db(transaction=True)
def test_analysed_assessment_page_needs_no_scipy(instructor):
    quiz, _, _ = build_answered_quiz(owner=instructor)
    refresh_item_analysis(now=T)

    rendered = _run(
        RENDER_ADMIN,
        connection.settings_dict["NAME"],
        instructor.pk,
        reverse("admin:assessments_assessment_change", args=[quiz.pk]),
    )

    assert rendered["status"] == 200
    assert rendered["loaded"] == []
    assert "Based on 205 answers, computed 2026-11-01 00:00 UTC." in rendered["page"]
    assert "negative discrimination" in rendered["page"]
