"""Schema-driven fuzzing of every /api/v1/ operation with schemathesis.

Runs against the live OpenAPI schema through the WSGI app (same database
transaction as the test), authenticated as an admin who also owns a full world
of objects, so generated ids sometimes hit real rows. Asserts no 5xx and that
every response (status, content type, body) matches the schema.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from skillstudio.testing import build_world

pytestmark = pytest.mark.slow

# Enough to reach past validation into the services for every operation, while
# the whole run stays within a couple of minutes on a small machine.
EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _real_ids(world) -> dict[str, dict[str, int]]:
    """Path template -> real ids for its parameters (the world's objects)."""
    course, module = world.course.pk, world.module.pk
    return {
        r"/courses/\{id\}/": {"id": course},
        r"/courses/\{course_id\}/modules/(\{id\}/)?$": {"course_id": course, "id": module},
        r"/lessons/": {"course_id": course, "module_id": module, "id": world.lesson.pk},
        r"/learning/goals/": {"id": world.goal.pk},
        r"/learning/enrollments/": {"id": world.enrollment.pk},
        r"/learning/progress/": {"id": world.progress.pk},
        r"/learning/lessons/": {"lesson_id": world.lesson.pk},
        r"/assessments/\{id\}/": {"id": world.assessment.pk},
        r"/questions/": {"assessment_id": world.assessment.pk, "id": world.question.pk},
        r"/attempts/": {"id": world.attempt.pk},
        r"/ai/recommendations/": {"id": world.recommendation.pk},
        r"/ml/(at-risk|my-risks)/": {"enrollment_id": world.enrollment.pk},
        r"/ml/courses/": {"course_id": course},
    }


@pytest.fixture
def _keep_test_connection():
    # Like Django's test Client: a real WSGI request would close the connection
    # (and with it the test's transaction) at request start/finish.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, admin_user, _keep_test_connection):
    world = build_world(learner=admin_user, instructor=admin_user)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    schema = schema.include(path_regex=r"^/api/v1/")
    real_ids = _real_ids(world)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        # Half the time, swap generated ids for ids of rows that exist.
        path = context.operation.path
        if not path_parameters:
            return st.just(path_parameters)
        for pattern, ids in real_ids.items():
            if re.search(pattern, path):
                real = {**path_parameters, **{k: v for k, v in ids.items() if k in path_parameters}}
                return st.sampled_from([path_parameters, real])
        return st.just(path_parameters)

    @schema.hook
    def map_query(context, query):
        if query is not None and "goal_id" in query and isinstance(query["goal_id"], int):
            query = {**query, "goal_id": world.goal.pk}
        return query

    token = str(RefreshToken.for_user(admin_user).access_token)
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_schema_without_server_errors(case, admin_user):
    token = str(RefreshToken.for_user(admin_user).access_token)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
