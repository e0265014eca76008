"""format=csv|json|ndjson on the event list: the whole filtered list, streamed and recorded."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from rest_framework.test import APIClient

from logs.exports.csv_files import PORTAL_HEADER
from logs.models import AccessRecord, AuditEvent
from tests.exports.support import served_records
from tests.support import EVENTS_URL, SIX_ACTIVITIES_NEWEST_FIRST

pytestmark = pytest.mark.django_db


@pytest.fixture
def exporter(reader):
    reader.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    client = APIClient()
    client.force_login(reader)
    return client


def body(response) -> str:
    assert response.status_code == 200, response
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))


@pytest.mark.parametrize("format", ["csv", "json", "ndjson"])
def test_exports_need_the_export_permission(api, six_events, format):
    response = api.get(EVENTS_URL, {"format": format})
    assert response.status_code == 403
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()


def test_csv_is_the_portal_download_of_the_filtered_rows(exporter, six_events):
    response = exporter.get(EVENTS_URL, {"format": "csv", "category": "GroupManagement"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="auditlogs-')
    assert response["Content-Disposition"].endswith('-entra-format.csv"')
    rows = csv_rows(response)
    assert rows[0] == PORTAL_HEADER
    activity = PORTAL_HEADER.index("Activity")
    assert [row[activity] for row in rows[1:]] == ["Add owner to group", "Update group"]


def test_csv_columns_parameter(exporter, six_events):
    rows = csv_rows(exporter.get(EVENTS_URL, {"format": "csv", "columns": "activity,status"}))
    assert rows[0] == ["Activity", "Status"]
    assert [row[0] for row in rows[1:]] == SIX_ACTIVITIES_NEWEST_FIRST


def test_json_is_the_array_of_records_as_graph_serves_them(exporter, six_events):
    records = json.loads(body(exporter.get(EVENTS_URL, {"format": "json", "ordering": "date"})))
    assert records == served_records(AuditEvent.objects.order_by("activity_datetime", "id"))


def test_ndjson_one_record_per_line(exporter, six_events):
    response = exporter.get(EVENTS_URL, {"format": "ndjson", "result": "failure"})
    assert response["Content-Type"] == "application/x-ndjson"
    lines = body(response).splitlines()
    assert [json.loads(line)["activityDisplayName"] for line in lines] == [
        "Reset password (self-service)"
    ]


def test_accept_header_asks_for_csv_too(exporter, six_events):
    assert csv_rows(exporter.get(EVENTS_URL, HTTP_ACCEPT="text/csv"))[0] == PORTAL_HEADER


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "csv", "columns": "activity,nope"}, "columns"),
        ({"format": "json", "columns": "activity"}, "columns"),
        ({"columns": "activity"}, "columns"),
        ({"format": "csv", "cursor": "abc"}, "cursor"),
        ({"format": "csv", "page_size": "5"}, "page_size"),
        ({"format": "csv", "since": "yesterday"}, "since"),
    ],
)
def test_bad_export_parameters_are_400(exporter, six_events, params, field):
    response = exporter.get(EVENTS_URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_cap_keeps_the_newest_and_says_so(exporter, six_events, monkeypatch):
    monkeypatch.setattr("logs.api.views.WEB_EXPORT_LIMIT", 4)
    response = exporter.get(EVENTS_URL, {"format": "csv", "columns": "activity"})
    assert response["X-Export-Limit"] == "4" and response["X-Export-Truncated"] == "true"
    assert [row[0] for row in csv_rows(response)[1:]] == SIX_ACTIVITIES_NEWEST_FIRST[:4]
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.row_count == 4 and record.detail["truncated"] is True


def test_each_export_is_an_access_record(exporter, reader, six_events):
    body(
        exporter.get(
            EVENTS_URL,
            {
                "format": "csv",
                "columns": "activity",
                "category": "GroupManagement",
                "service": "",  # blank: no filter, so none is recorded
            },
            HTTP_USER_AGENT="curl/8",
        )
    )
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.action == AccessRecord.Action.EXPORT
    assert (record.user, record.username, record.row_count) == (reader, "reader", 2)
    assert record.detail["format"] == "csv" and record.detail["columns"] == ["activity"]
    assert record.detail["filters"] == {"category": "GroupManagement"}
    assert record.detail["complete"] is True and record.detail["via"] == "api"
    assert record.remote_address == "127.0.0.1" and record.user_agent == "curl/8"


@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_leaves_a_record_and_no_transaction(
    exporter, six_events, monkeypatch
):
    monkeypatch.setattr("logs.exports.selection.CHUNK_SIZE", 2)
    response = exporter.get(EVENTS_URL, {"format": "ndjson"})
    chunks = iter(response.streaming_content)
    assert len(next(chunks).splitlines()) == 2
    response.close()  # what the server does when the client goes away

    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.row_count == 2 and record.detail["complete"] is False
    assert not connection.in_atomic_block
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    else:
        assert not connection.connection.in_transaction


def test_the_page_of_json_is_unchanged_without_format(exporter, six_events):
    response = exporter.get(EVENTS_URL)
    assert not response.streaming
    assert [event["activity"] for event in response.json()["results"]] == (
        SIX_ACTIVITIES_NEWEST_FIRST
    )
