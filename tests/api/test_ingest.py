"""POST /api/v1/ingest/: Graph-shaped records pushed by an Ingestion Service token."""

import copy
import io
import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.api.ingest import PayloadTooLarge, read_body
from logs.models import AccessRecord, Annotation, AuditEvent, ImportBatch
from logs.roles import AUDIT_READER, INGESTION_SERVICE
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

INGEST_URL = "/api/v1/ingest/"
GRAPH_PAGE = FIXTURES_DIR / "graph" / "graph-docs-list-example1.json"
GRAPH_PAGE_BYTES = GRAPH_PAGE.read_bytes()
GRAPH_RECORD = json.loads(GRAPH_PAGE_BYTES)["value"][0]


def record(entra_id: str, **changes) -> dict:
    """The fixture's real Graph record under another id, with ``changes`` applied."""
    value = copy.deepcopy(GRAPH_RECORD)
    value["id"] = entra_id
    value.update(changes)
    return value


def token_client(user) -> APIClient:
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def service_account(django_user_model):
    user = django_user_model.objects.create_user("entra-export-job")
    user.groups.add(Group.objects.get(name=INGESTION_SERVICE))
    return user


@pytest.fixture
def ingest(service_account):
    return token_client(service_account)


def post_json(client, body, **extra):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("POST", INGEST_URL, content, content_type="application/json", **extra)


def test_a_real_graph_page_is_stored_with_counts_and_provenance(ingest, service_account):
    response = post_json(ingest, GRAPH_PAGE_BYTES, HTTP_USER_AGENT="export-job/1.0")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["received"], body["new"], body["duplicate"]) == (1, 1, 0)
    event = AuditEvent.objects.get()
    assert (event.entra_id, event.activity.name) == ("id", "Add member to group")
    assert json.loads(event.original) == GRAPH_RECORD
    batch = ImportBatch.objects.get(pk=body["import_batch"])
    assert event.import_batch == batch
    assert (batch.format, batch.file_name, batch.imported_by) == ("graph", "api", service_account)
    assert (batch.status, batch.records_read, batch.records_new) == ("completed", 1, 1)
    assert len(batch.sha256) == 64
    access = AccessRecord.objects.get(action=AccessRecord.Action.INGEST)
    assert (access.user, access.row_count, access.user_agent) == (
        service_account,
        1,
        "export-job/1.0",
    )
    assert access.detail["new"] == 1 and access.detail["import_batch"] == batch.pk


def test_sending_the_same_records_again_stores_nothing_and_answers_200(ingest):
    assert post_json(ingest, GRAPH_PAGE_BYTES).status_code == 201
    response = post_json(ingest, GRAPH_PAGE_BYTES)
    assert response.status_code == 200
    assert (response.json()["new"], response.json()["duplicate"]) == (0, 1)
    assert AuditEvent.objects.count() == 1


def test_a_bare_list_of_records_is_accepted_and_repeats_in_it_are_duplicates(ingest):
    response = post_json(ingest, [record("a"), record("b"), record("a")])
    assert response.status_code == 201
    body = response.json()
    assert (body["received"], body["new"], body["duplicate"]) == (3, 2, 1)
    assert sorted(AuditEvent.objects.values_list("entra_id", flat=True)) == ["a", "b"]


def test_any_bad_record_refuses_the_whole_request_naming_each(ingest):
    bad_date = record("bad-date", activityDateTime="yesterday")
    no_id = {**record("no-id"), "id": None}
    response = post_json(ingest, {"value": [record("good"), bad_date, no_id]})

    assert response.status_code == 400
    body = response.json()
    assert [(error["index"], error["field"]) for error in body["errors"]] == [
        (1, "activityDateTime"),
        (2, "id"),
    ]
    assert "yesterday" in body["errors"][0]["message"]
    assert body["errors_total"] == 2
    assert "nothing was stored" in body["detail"]
    assert not AuditEvent.objects.exists()
    batch = ImportBatch.objects.get(pk=body["import_batch"])
    assert (batch.status, batch.records_read, batch.records_rejected) == ("failed", 3, 2)
    access = AccessRecord.objects.get(action=AccessRecord.Action.INGEST)
    assert access.detail["outcome"] == "refused"


def test_a_value_that_does_not_fit_is_stored_with_a_note_and_a_changed_record_conflicts(ingest):
    response = post_json(ingest, [record("odd", result="maybe"), record("plain")])
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["new"], body["stored_with_notes"], body["conflicting"]) == (2, 1, 0)
    event = AuditEvent.objects.get(entra_id="odd")
    assert event.result == ""
    assert event.notes == [
        {
            "field": "result",
            "note": "'maybe' is not a known result (success, failure, timeout, "
            "unknownFutureValue); stored as unknown",
            "raw": "maybe",
        }
    ]
    changed = post_json(ingest, [record("plain", activityDisplayName="Delete user")])
    assert changed.status_code == 200
    body = changed.json()
    assert (body["new"], body["duplicate"], body["conflicting"]) == (0, 0, 1)
    assert "activity id plain was already stored with other content" in body["conflicts"][0]
    assert AuditEvent.objects.get(entra_id="plain").activity.name != "Delete user"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"value": [{"id": "x", ', "not valid JSON"),
        (b"", "not a known audit-log format"),
        (b"hello", "not a known audit-log format"),
        (b'{"value": 5}', '"value" must be a list'),
        (b'{"records": [{"properties": {}, "operationName": "x"}]}', "expected a Microsoft Graph"),
        (b'{"unrelated": true}', "not a known audit-log shape"),
    ],
)
def test_a_body_that_is_not_graph_json_is_a_400_saying_why(ingest, body, says):
    response = post_json(ingest, body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert says in payload["detail"] or says in json.dumps(payload["errors"])
    assert not AuditEvent.objects.exists()


def test_a_record_that_is_not_an_object_is_reported(ingest):
    response = post_json(ingest, [record("ok"), "not a record"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1


def test_an_empty_page_is_accepted_with_nothing_stored(ingest):
    response = post_json(ingest, {"value": []})
    assert response.status_code == 200
    assert response.json()["received"] == 0


def test_a_body_over_the_size_limit_is_413_before_it_is_read(ingest, settings):
    settings.AUDITPORTAL_INGEST_MAX_BYTES = 100
    response = post_json(ingest, GRAPH_PAGE_BYTES)
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.json()["detail"]
    assert not ImportBatch.objects.exists()


def test_the_size_limit_also_holds_for_what_is_actually_sent():
    request = SimpleNamespace(META={"CONTENT_LENGTH": "10"}, stream=io.BytesIO(b"x" * 101))
    with pytest.raises(PayloadTooLarge):
        read_body(request, 100)
    request = SimpleNamespace(META={}, stream=io.BytesIO(b"x" * 100))
    assert read_body(request, 100) == b"x" * 100


def test_more_records_than_the_limit_is_413_and_stores_nothing(ingest, settings):
    settings.AUDITPORTAL_INGEST_MAX_RECORDS = 2
    response = post_json(ingest, [record("a"), record("b"), record("c")])
    assert response.status_code == 413
    assert "at most 2 per request" in response.json()["detail"]
    assert not AuditEvent.objects.exists()
    assert post_json(ingest, [record("a"), record("b")]).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_anything_but_json_is_415(ingest, content_type):
    response = ingest.generic("POST", INGEST_URL, GRAPH_PAGE_BYTES, content_type=content_type)
    assert response.status_code == 415
    assert not AuditEvent.objects.exists()


def test_json_with_a_utf8_charset_is_accepted(ingest):
    response = ingest.generic(
        "POST", INGEST_URL, GRAPH_PAGE_BYTES, content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_query_parameters_are_refused(ingest):
    response = ingest.generic(
        "POST", f"{INGEST_URL}?dry_run=1", GRAPH_PAGE_BYTES, content_type="application/json"
    )
    assert response.status_code == 400
    assert "dry_run" in response.json()["detail"]


def test_anonymous_is_401_and_a_reader_is_403(django_user_model):
    assert post_json(APIClient(), GRAPH_PAGE_BYTES).status_code == 401
    reader = django_user_model.objects.create_user("reader")
    reader.groups.add(Group.objects.get(name=AUDIT_READER))
    assert post_json(token_client(reader), GRAPH_PAGE_BYTES).status_code == 403
    assert not AuditEvent.objects.exists()


def test_an_ingestion_token_reads_nothing(ingest):
    assert post_json(ingest, GRAPH_PAGE_BYTES).status_code == 201
    assert ingest.get("/api/v1/events/").status_code == 403
    assert ingest.get(INGEST_URL).status_code == 405


def test_substrate_write_backs_are_annotated_as_on_import(ingest):
    write_back = record(
        "write-back",
        operationType="Update",
        activityDisplayName="Update group",
        initiatedBy={
            "app": {
                "appId": "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41",
                "displayName": "Microsoft Substrate Management",
            }
        },
    )
    assert post_json(ingest, [write_back]).status_code == 201
    assert Annotation.objects.filter(event__entra_id="write-back").count() == 1


def test_the_schema_documents_ingest_with_examples(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][INGEST_URL]["post"]
    assert set(operation["responses"]) >= {"200", "201", "400", "413", "415"}
    request = operation["requestBody"]["content"]["application/json"]
    assert request["examples"]


def test_pushed_events_join_the_integrity_chain(ingest):
    from django.core.management import call_command

    assert post_json(ingest, [record("a"), record("b")]).status_code == 201
    assert post_json(ingest, GRAPH_PAGE_BYTES).status_code == 201
    call_command("verify_audit_log")  # raises CommandError on a broken chain
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("entra_id", flat=True)) == [
        "a",
        "b",
        "id",
    ]
