"""Implausible activity dates are refused: after now plus a margin, or before 2000-01-01.

A record dated 9999 topped every newest-first list, one dated year 1 was stored as is. The rule
lives in one function that every format's records pass through, so each format names its own
date field; the bounds are settings.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.ingest.importer import import_file
from logs.models import AuditEvent, ImportBatch
from logs.roles import INGESTION_SERVICE
from tests.factories import GraphDirectoryAuditFactory
from tests.security.hostile import date_files

pytestmark = pytest.mark.django_db


def entra_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def graph_file(tmp_path, *dates: str):
    records = [GraphDirectoryAuditFactory(activityDateTime=date) for date in dates]
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


def only_error(result) -> str:
    assert result.failed, result
    assert not AuditEvent.objects.filter(import_batch=result.batch).exists()
    [message] = result.errors
    return message


@pytest.mark.parametrize(
    ("date", "says"),
    [
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z is in the future"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z is before 2000-01-01T00:00:00Z"),
        ("1999-12-31T23:59:59.9999999Z", "1999-12-31T23:59:59Z is before 2000-01-01"),
        ("1970-01-01T00:00:00Z", "is before 2000-01-01"),
    ],
)
def test_a_date_out_of_bounds_is_refused_naming_record_and_field(tmp_path, date, says):
    path = graph_file(tmp_path, "2024-11-09T10:01:19.0000000Z", date)
    message = only_error(import_file(path))
    assert message.startswith(f"{path}, record 2, field activityDateTime: "), message
    assert says in message, message


def test_the_future_margin_is_a_day_by_default(tmp_path):
    now = datetime.now(UTC)
    accepted = graph_file(tmp_path, entra_time(now + timedelta(hours=23)))
    assert import_file(accepted).new == 1
    refused = graph_file(tmp_path, entra_time(now + timedelta(hours=25)))
    assert "is in the future" in only_error(import_file(refused))


def test_the_first_accepted_moment_is_midnight_of_2000_01_01(tmp_path):
    assert import_file(graph_file(tmp_path, "2000-01-01T00:00:00.0000000Z")).new == 1


def test_the_bounds_are_settings(tmp_path, settings):
    settings.AUDITPORTAL_EARLIEST_ACTIVITY_DATE = datetime(2024, 1, 1, tzinfo=UTC)
    settings.AUDITPORTAL_FUTURE_MARGIN_HOURS = 0
    in_an_hour = entra_time(datetime.now(UTC) + timedelta(hours=1))
    assert "before 2024-01-01" in only_error(
        import_file(graph_file(tmp_path, "2023-12-31T23:00:00Z"))
    )
    assert "is in the future" in only_error(import_file(graph_file(tmp_path, in_an_hour)))


def test_a_large_file_parsed_in_a_second_process_keeps_to_the_same_bounds(tmp_path, settings):
    """The parsing process has no settings of its own: it gets this process's bounds."""
    settings.AUDITPORTAL_FUTURE_MARGIN_HOURS = 0
    in_an_hour = entra_time(datetime.now(UTC) + timedelta(hours=1))
    path = graph_file(tmp_path, "2024-11-09T10:01:19.0000000Z", in_an_hour)
    message = only_error(import_file(path, parallel=True))
    assert "record 2, field activityDateTime" in message and "is in the future" in message


def test_every_format_names_its_own_date_field(tmp_path):
    for hostile in date_files("9999-01-01T00:00:00Z"):
        path = hostile.write(tmp_path)
        message = only_error(import_file(path))
        assert message.startswith(f"{path}, {hostile.location}, field {hostile.field}: ")
        assert "is in the future" in message, message


def test_a_refused_date_is_rejected_alone_with_continue_on_error(tmp_path):
    path = graph_file(tmp_path, "2024-11-09T10:01:19.0000000Z", "9999-12-31T23:59:59Z")
    rejected = []
    result = import_file(path, continue_on_error=True, on_reject=rejected.append)
    assert (result.new, result.rejected) == (1, 1)
    assert [(error.location, error.field) for error in rejected] == [
        ("record 2", "activityDateTime")
    ]
    assert ImportBatch.objects.get().status == ImportBatch.Status.PARTIAL


def test_a_pushed_record_out_of_bounds_is_a_400_naming_index_and_field(django_user_model):
    user = django_user_model.objects.create_user("entra-export-job")
    user.groups.add(Group.objects.get(name=INGESTION_SERVICE))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    records = [
        GraphDirectoryAuditFactory(),
        GraphDirectoryAuditFactory(activityDateTime="9999-12-31T23:59:59Z"),
        GraphDirectoryAuditFactory(activityDateTime="0001-01-01T00:00:00Z"),
    ]
    response = client.post("/api/v1/ingest/", {"value": records}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(error["index"], error["field"]) for error in errors] == [
        (1, "activityDateTime"),
        (2, "activityDateTime"),
    ]
    assert "in the future" in errors[0]["message"]
    assert "before 2000-01-01" in errors[1]["message"]
    assert not AuditEvent.objects.exists()
