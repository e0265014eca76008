"""The portal-form CSV that PostgreSQL writes (``logs.exports.portal_copy``) is byte for byte the
one ``csv_files`` writes elsewhere, on every sample file and on events with awkward values."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from logs.exports import Export, portal_copy
from logs.models import AuditEvent, Initiator
from tests.exports.support import SAMPLE_FILES, awkward_events, imported
from tests.factories import (
    AuditEventFactory,
    InitiatorFactory,
    ModifiedPropertyFactory,
    TargetFactory,
)
from tests.support import FIXTURES_DIR

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def both_ways(queryset, monkeypatch, **options) -> tuple[str, str]:
    """The export written by the database, then by Python."""
    in_database = "".join(Export(queryset, "csv", **options))
    with monkeypatch.context() as patch:
        patch.setattr(portal_copy, "is_available", lambda connection: False)
        in_python = "".join(Export(queryset, "csv", **options))
    return in_database, in_python


def assert_identical(monkeypatch, queryset=None, **options) -> str:
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    in_database, in_python = both_ways(queryset, monkeypatch, **options)
    assert in_database == in_python
    return in_database


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_every_sample_file_exports_the_same_bytes(sample, monkeypatch):
    imported(FIXTURES_DIR / sample)
    assert_identical(monkeypatch)
    assert_identical(monkeypatch, neutralise_formulas=False, chunk_size=3)
    assert_identical(monkeypatch, oldest_first=True, limit=5)


def test_awkward_values_export_the_same_bytes(monkeypatch):
    awkward_events()
    text = assert_identical(monkeypatch)
    assert text.count("'=HYPERLINK") > 5
    assert_identical(monkeypatch, neutralise_formulas=False)


def test_more_than_three_targets_and_five_properties_keep_the_first(monkeypatch):
    event = AuditEventFactory()
    for position in range(5):
        target = TargetFactory(event=event, position=position, display_name=f"t{position}")
        for slot in range(7):
            ModifiedPropertyFactory(target=target, position=slot, name=f"p{position}.{slot}")
    text = assert_identical(monkeypatch)
    assert '"t2"' in text and '"t3"' not in text
    assert '"p0.4"' in text and '"p0.5"' not in text


@pytest.mark.parametrize("kind", ["user", "app", "system", None])
def test_every_kind_of_actor_exports_the_same_bytes(kind, monkeypatch):
    if kind is None:
        AuditEventFactory(initiator=None, initiator_user_agent="agent")
    else:
        initiator = InitiatorFactory(kind=kind, app_display_name="Sync app")
        AuditEventFactory(initiator=initiator)
        named_app = InitiatorFactory(
            kind=Initiator.Kind.SYSTEM if kind == "system" else kind,
            user_object_id="",
            app_display_name="=Named app",
        )
        AuditEventFactory(initiator=named_app)
    assert_identical(monkeypatch)


@pytest.mark.parametrize(
    "details",
    [
        [],
        [{"key": "number", "value": 5}, {"key": "zero", "value": 0}, {"key": 7, "value": -3}],
        [{"key": "true", "value": True}, {"key": "false", "value": False}],
        [{"key": "empty", "value": ""}, {"key": "missing"}, {"value": "no key"}],
        [{"key": f"k{slot}", "value": f"=v{slot}"} for slot in range(9)],
    ],
)
def test_additional_details_of_any_json_type_export_the_same_bytes(details, monkeypatch):
    AuditEventFactory(additional_details=details)
    assert_identical(monkeypatch)


def test_dates_whole_seconds_included_export_the_same_bytes(monkeypatch):
    moment = datetime(2026, 3, 1, 8, 5, 9, tzinfo=UTC)
    AuditEventFactory(activity_datetime=moment)
    AuditEventFactory(activity_datetime=moment)  # the same date: ordered by id
    AuditEventFactory(activity_datetime=moment.replace(microsecond=120034))
    text = assert_identical(monkeypatch)
    assert '"2026-03-01T08:05:09.0000000Z"' in text


@pytest.mark.parametrize("oldest_first", [False, True])
def test_filters_order_and_cap_are_the_querysets(oldest_first, monkeypatch):
    awkward_events()
    queryset = AuditEvent.objects.filter(result_reason__contains="line")
    assert_identical(monkeypatch, queryset, oldest_first=oldest_first)
    assert_identical(monkeypatch, oldest_first=oldest_first, limit=4, chunk_size=3)
    export = Export(AuditEvent.objects.all(), "csv", limit=4, chunk_size=3)
    "".join(export)
    assert export.rows_written == 4 and export.truncated is True


@pytest.mark.django_db(transaction=True)
def test_a_download_closed_midway_leaves_no_transaction(monkeypatch):
    from psycopg.pq import TransactionStatus

    for _ in range(6):
        AuditEventFactory()
    export = Export(AuditEvent.objects.all(), "csv", chunk_size=2)
    chunks = iter(export)
    next(chunks)  # the header
    assert next(chunks).count("\r\n") == 2
    chunks.close()

    assert export.rows_written == 2 and not export.finished
    assert not connection.in_atomic_block
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    assert AuditEvent.objects.count() == 6


def test_filters_that_select_nothing_give_the_header_alone():
    AuditEventFactory()
    text = "".join(Export(AuditEvent.objects.filter(id__in=[]), "csv"))
    assert text.count("\r\n") == 1 and text.startswith("\ufeff")
