"""Graph endpoint test setup: an Audit Reader holding an API token, sent as a bearer token."""

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.roles import AUDIT_READER


@pytest.fixture
def reader_token(django_user_model) -> str:
    user = django_user_model.objects.create_user("graph-reader")
    user.groups.add(Group.objects.get(name=AUDIT_READER))
    return AuthToken.objects.create(user)[1]


@pytest.fixture
def graph(reader_token) -> APIClient:
    """A client sending the reader's token as Graph's clients do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {reader_token}")
    return client
