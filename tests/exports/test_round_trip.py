"""Export → import round trips on every real sample file: JSON and NDJSON reproduce every event
exactly; the portal-form CSV reproduces every field a portal CSV carries."""

import csv

import pytest

from logs.exports import Export
from logs.exports.csv_files import ADDITIONAL_DETAIL_SLOTS, MODIFIED_PROPERTY_SLOTS, TARGET_SLOTS
from logs.models import AuditEvent
from tests.exports.support import SAMPLE_FILES, imported, normalised_events, purge_all_events
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sample", SAMPLE_FILES)
@pytest.mark.parametrize("format", ["json", "ndjson"])
def test_json_round_trip_reproduces_every_event(sample, format, write_export):
    imported(FIXTURES_DIR / sample)
    before = normalised_events()
    path = write_export(Export(AuditEvent.objects.all(), format, chunk_size=4), f"e.{format}")
    purge_all_events()

    imported(path)

    assert normalised_events() == before


def test_json_export_writes_graph_originals_verbatim(write_export):
    imported(FIXTURES_DIR / "graph" / "graph-docs-list-example1.json")
    event = AuditEvent.objects.get()
    path = write_export(Export(AuditEvent.objects.all(), "ndjson"), "e.ndjson")
    assert path.read_text(encoding="utf-8") == event.original + "\n"


def csv_carried(event: tuple) -> tuple:
    """What a portal CSV row can carry of a normalised event (see logs/exports/csv_files.py):
    no id, operation type, app id, user type or group type; 3 targets of 5 modified properties;
    6 additional details; empty values read back as null."""
    (_, moment, service, category, activity, _, result, reason, correlation) = event[:9]
    initiator, ip_address, user_agent, details, targets = event[9:]
    if initiator is not None:
        kind, object_id, name, upn, _, tenant, tenant_name, _, app_name, sp_id, sp_name = initiator
        initiator = (kind, object_id, name, upn, tenant, tenant_name, app_name, sp_id, sp_name)
    return (
        moment,
        service,
        category,
        activity,
        result,
        reason,
        correlation,
        initiator,
        ip_address,
        user_agent,
        [
            {"key": detail["key"], "value": detail["value"] or ""}
            for detail in details
            if detail["key"]
        ][:ADDITIONAL_DETAIL_SLOTS],
        tuple(
            (
                target_type,
                object_id,
                display_name,
                upn,
                tuple(
                    (name, old or None, new or None)
                    for _, name, old, new in properties[:MODIFIED_PROPERTY_SLOTS]
                ),
            )
            for _, target_type, object_id, display_name, upn, _, properties in targets[
                :TARGET_SLOTS
            ]
            # A target slot with nothing in it reads back as no target (real captures have
            # such targets).
            if target_type or object_id or display_name or upn or properties
        ),
    )


@pytest.mark.parametrize("sample", SAMPLE_FILES)
def test_portal_csv_round_trip_reproduces_what_the_csv_carries(sample, write_export):
    imported(FIXTURES_DIR / sample)
    before = [csv_carried(event) for event in normalised_events()]
    path = write_export(Export(AuditEvent.objects.all(), "csv", chunk_size=4), "e.csv")
    purge_all_events()

    imported(path)

    assert AuditEvent.objects.filter(source_format="portal-csv").count() == len(before)
    # Sorted whole: CSV rows get ids from their content, so events of the same moment (real
    # captures have them) may come back in another order of ids.
    after = [csv_carried(event) for event in normalised_events()]
    assert sorted(after, key=repr) == sorted(before, key=repr)


def test_portal_csv_download_round_trips_exactly(write_export):
    """A portal download exported again is the same download: same ids, same everything."""
    imported(FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv")
    before = normalised_events()
    path = write_export(Export(AuditEvent.objects.all(), "csv"), "e.csv")
    purge_all_events()

    imported(path)

    assert normalised_events() == before


@pytest.mark.parametrize("format", ["json", "ndjson"])
def test_a_user_agent_outside_additional_details_survives_the_round_trip(
    format, write_export, tmp_path
):
    """A portal CSV has a User Agent column of its own; rebuilt, such an event carries it as
    beta's ``userAgent`` property, which the importer reads back."""
    source = FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv"
    with open(source, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        for slot in range(1, ADDITIONAL_DETAIL_SLOTS + 1):
            if row[f"AdditionalDetail{slot}Key"] == "User-Agent":
                row[f"AdditionalDetail{slot}Key"] = row[f"AdditionalDetail{slot}Value"] = ""
    without_details = tmp_path / "no-agent-detail.csv"
    with open(without_details, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    imported(without_details)
    agents = set(AuditEvent.objects.values_list("user_agent__text", flat=True))
    assert "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/130.0" in agents
    before = normalised_events()
    path = write_export(Export(AuditEvent.objects.all(), format), f"e.{format}")
    purge_all_events()

    imported(path)

    assert normalised_events() == before
