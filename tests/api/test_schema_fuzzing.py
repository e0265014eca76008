"""The API fuzzed from its own OpenAPI schema (schemathesis): for every operation, generated
requests, valid and invalid, never get a 5xx, and every answer conforms to the schema (a
documented status code, content type and body).

Deterministic (derandomized) and bounded, so that it runs the same in CI in well under a
minute on SQLite.
"""

import json

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from rest_framework.utils.encoders import JSONEncoder
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auditportal.wsgi import application
from logs.roles import AUDIT_EXPORTER, INGESTION_SERVICE

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def token_for(django_user_model, username: str, role: str) -> str:
    user = django_user_model.objects.create_user(username)
    user.groups.add(Group.objects.get(name=role))
    return AuthToken.objects.create(user)[1]


@pytest.fixture
def in_test_transaction():
    """Requests go through the real WSGI handler, whose request signals close a database
    connection inside a transaction, and with it the test's; Django's own test client keeps
    the connection by disconnecting the same handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, django_user_model, six_events, in_test_transaction):
    """An Audit Exporter (reads and exports) and an Ingestion Service (pushes), over the six
    sample events."""
    return {
        "GET": token_for(django_user_model, "fuzz-exporter", AUDIT_EXPORTER),
        "POST": token_for(django_user_model, "fuzz-ingest", INGESTION_SERVICE),
    }


def load_schema():
    """The schema /api/schema/ serves, built by the same generator without a request (it needs
    a signed-in user, and so the database, which test collection may not use), answered by the
    WSGI application in-process."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=JSONEncoder)))
    loaded.app = application
    return loaded


schema = load_schema()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_documented(case, tokens):
    token = tokens[case.operation.method.upper()]
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=CHECKS)
