"""Records that parse but cannot be stored faithfully are refused with a 400, on every database.

Text with a NUL character, a lone UTF-16 surrogate escape, a name longer than its column, or a
target too large for its index was stored on SQLite (the surrogate silently turned into "?" or
joined into another character) and a 500 on PostgreSQL. Now each is a 400 naming the record and
the field, and nothing is stored. Values that are stored, and only displayed as decoded JSON,
cannot break the pages that show them.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from logs.ingest.importer import import_file
from logs.models import AuditEvent, ImportBatch
from logs.roles import AUDIT_EXPORTER
from tests.factories import GraphDirectoryAuditFactory
from tests.processes import ingestion_token

pytestmark = pytest.mark.django_db

INGEST_URL = "/api/v1/ingest/"
CJK = "".join(chr(0x4E00 + index % 20000) for index in range(1024))


@pytest.fixture
def ingest(django_user_model) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ingestion_token(django_user_model)}")
    return client


def push_text(client, text: str):
    return client.generic("POST", INGEST_URL, text.encode(), content_type="application/json")


def page(second: dict) -> dict:
    return {"value": [GraphDirectoryAuditFactory(), second]}


def with_target(**fields) -> dict:
    record = GraphDirectoryAuditFactory()
    record["targetResources"][0].update(fields)
    return record


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (
            json.dumps(page(GraphDirectoryAuditFactory(id="@id@"))).replace("@id@", "x\\ud800y"),
            "id",
            "lone surrogate",
        ),
        (  # ijson would join these two escapes into U+10041
            json.dumps(page(GraphDirectoryAuditFactory(id="@id@"))).replace(
                "@id@", "\\ud800\\u0041"
            ),
            "id",
            "lone surrogate",
        ),
        (
            json.dumps(page(GraphDirectoryAuditFactory(activityDisplayName="a\u0000b"))),
            "activityDisplayName",
            "NUL character",
        ),
        (  # a key, not a value: the error names it, and the failed batch stores the name
            json.dumps(page({**GraphDirectoryAuditFactory(), "x\u0000y": "z"})),
            "x\\x00y",
            "NUL character",
        ),
    ],
    ids=["lone-surrogate", "surrogate-joined", "nul", "nul-in-a-key"],
)
def test_text_that_cannot_be_stored_faithfully_is_a_400(ingest, body, field, says):
    response = push_text(ingest, body)

    assert response.status_code == 400, response.content[:500]
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, field), error
    assert says in error["message"], error
    assert not AuditEvent.objects.exists()
    batch = ImportBatch.objects.get(pk=response.json()["import_batch"])
    assert batch.status == ImportBatch.Status.FAILED and field in batch.error


@pytest.mark.parametrize(
    ("record", "field", "says"),
    [
        (
            GraphDirectoryAuditFactory(activityDisplayName="A" * 257),
            "activityDisplayName",
            "is 257 characters long; the limit is 256; stored as empty",
        ),
        (
            with_target(displayName=CJK),
            "targetResources[0].displayName",
            "bytes of UTF-8; the database indexes at most 2,400; stored as empty",
        ),
    ],
    ids=["long-activity", "huge-target-name"],
)
def test_text_too_long_for_its_column_is_stored_empty_with_a_note(ingest, record, field, says):
    response = push_text(ingest, json.dumps(page(record)))

    assert response.status_code == 201, response.content[:500]
    assert response.json()["stored_with_notes"] == 1
    event = AuditEvent.objects.get(entra_id=record["id"])
    [note] = event.notes
    assert note["field"] == field and says in note["note"], note
    assert json.loads(event.original) == record  # the original keeps the value whole


def test_the_longest_names_that_fit_are_stored(ingest):
    record = with_target(displayName="Ω" * 1024)
    record["activityDisplayName"] = "A" * 256
    response = push_text(ingest, json.dumps({"value": [record]}))
    assert response.status_code == 201, response.content[:500]
    event = AuditEvent.objects.get()
    assert event.activity.name == "A" * 256
    assert event.targets.get().display_name == "Ω" * 1024


def test_nan_and_infinity_are_not_json(ingest):
    text = json.dumps(page(GraphDirectoryAuditFactory(id="@id@"))).replace('"@id@"', "NaN")
    response = push_text(ingest, text)
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


def test_a_stored_value_nested_too_deeply_to_decode_is_shown_as_text(tmp_path, django_user_model):
    """A modified property's value is text that the pages decode to show it: 100,000 nested
    lists in one must not take them down."""
    deep_text = "[" * 100_000 + "]" * 100_000
    record = GraphDirectoryAuditFactory()
    record["targetResources"][0]["modifiedProperties"] = [
        {"displayName": "Policy", "oldValue": deep_text, "newValue": '["' + deep_text + '"]'}
    ]
    path = tmp_path / "deep-value.json"
    path.write_text(json.dumps({"value": [record]}), encoding="utf-8")
    assert import_file(path).new == 1
    user = django_user_model.objects.create_user("exporter", is_staff=True)
    user.groups.add(Group.objects.get(name=AUDIT_EXPORTER))
    client = Client()
    client.force_login(user)

    event = AuditEvent.objects.get()
    response = client.get(f"/admin/logs/auditevent/{event.pk}/change/")
    assert response.status_code == 200
    assert deep_text[:1000] in response.content.decode()
