"""CSV exports: the portal header, chosen columns, RFC 4180 quoting, formula neutralisation."""

import csv
import io
from datetime import UTC, datetime

import pytest

from logs.exports import Export
from logs.exports.csv_files import PORTAL_HEADER, neutralise
from logs.models import AuditEvent
from tests.exports.support import AWKWARD, awkward_events
from tests.factories import AuditEventFactory, ModifiedPropertyFactory, TargetFactory

pytestmark = pytest.mark.django_db


def read(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "UTF-8 with a byte-order mark, as the portal writes"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def exported(**options) -> str:
    return "".join(Export(AuditEvent.objects.all(), "csv", **options))


def test_portal_header_is_the_real_download_header(fixtures_dir):
    with open(
        fixtures_dir / "portal-csv" / "AuditLogs_2026-11-02.csv", encoding="utf-8-sig"
    ) as sample:
        real = next(csv.reader(sample))
    assert len(PORTAL_HEADER) == 86
    assert real == PORTAL_HEADER


def test_every_cell_is_quoted_and_lines_end_in_crlf():
    AuditEventFactory(result_reason='said "no", twice\nthen left')
    text = exported()
    assert text.count("\r\n") == 2
    first_data_line = text.split("\r\n")[1]
    assert first_data_line.startswith('"') and '"said ""no"", twice\nthen left"' in first_data_line
    assert read(text)[1][PORTAL_HEADER.index("ResultReason")] == 'said "no", twice\nthen left'


def test_cells_the_database_quotes_are_the_bytes_csv_writer_writes():
    awkward_events()
    text = exported()
    rows = read(text)
    rewritten = io.StringIO()
    csv.writer(rewritten, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    assert "\ufeff" + rewritten.getvalue() == text
    assert len(rows) == 1 + len(AWKWARD)
    assert all(len(row) == len(PORTAL_HEADER) for row in rows)
    reasons = {row[PORTAL_HEADER.index("ResultReason")] for row in rows[1:]}
    assert 'said "no", twice' in reasons
    assert "line one\nline two\r\nline three" in reasons
    assert '\'=HYPERLINK("http://x")' in reasons


def test_targets_and_modified_properties_fill_the_portal_slots():
    event = AuditEventFactory()
    first = TargetFactory(event=event, position=0, display_name="Alice", type="User")
    ModifiedPropertyFactory(target=first, position=0, name="Mail", old_value=None, new_value='"a"')
    TargetFactory(event=event, position=1, display_name="Sales", type="Group")
    [row] = [dict(zip(PORTAL_HEADER, cells, strict=True)) for cells in read(exported())[1:]]
    assert row["Target1DisplayName"] == "Alice" and row["Target1Type"] == "User"
    assert row["Target1ModifiedProperty1Name"] == "Mail"
    assert row["Target1ModifiedProperty1OldValue"] == ""
    assert row["Target1ModifiedProperty1NewValue"] == '"a"'
    assert row["Target2DisplayName"] == "Sales" and row["Target3DisplayName"] == ""
    assert row["ActorType"] == "User"


def test_chosen_columns_have_the_changelist_headers_and_values():
    TargetFactory(event=AuditEventFactory(), display_name="Alice")
    rows = read(exported(columns=["targets", "status", "activity_id"]))
    event = AuditEvent.objects.get()
    assert rows == [["Target(s)", "Status", "Activity ID"], ["Alice", "Success", event.entra_id]]


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised_in_both_shapes(trigger):
    value = f"{trigger}SUM(1,2)"
    TargetFactory(event=AuditEventFactory(), display_name=value)
    portal = read(exported())[1]
    chosen = read(exported(columns=["targets"]))[1]
    assert portal[PORTAL_HEADER.index("Target1DisplayName")] == "'" + value
    assert chosen == ["'" + value]


def test_harmless_cells_are_left_alone_and_kept_formulas_are_unchanged():
    TargetFactory(event=AuditEventFactory(), display_name="a=b, 'quoted' -1")
    TargetFactory(event=AuditEventFactory(), display_name="=1+1")
    assert [row[0] for row in read(exported(columns=["targets"]))[1:]] == [
        "'=1+1",
        "a=b, 'quoted' -1",
    ]
    kept = read(exported(columns=["targets"], neutralise_formulas=False))
    assert [row[0] for row in kept[1:]] == ["=1+1", "a=b, 'quoted' -1"]


def test_neutralise():
    assert neutralise("=cmd") == "'=cmd"
    assert neutralise("") == ""
    assert neutralise("plain") == "plain"


def test_dates_have_graphs_seven_digits_whole_seconds_included():
    AuditEventFactory(activity_datetime=datetime(2026, 3, 1, 8, 5, 9, tzinfo=UTC))
    AuditEventFactory(activity_datetime=datetime(2026, 3, 1, 8, 5, 9, 120034, tzinfo=UTC))
    dates = [row[0] for row in read(exported())[1:]]
    assert dates == ["2026-03-01T08:05:09.1200340Z", "2026-03-01T08:05:09.0000000Z"]


@pytest.mark.parametrize("kept", [0, 1, 2])
def test_targets_of_scattered_events_stay_with_their_events(kept):
    """Events far apart by id (a narrow filter) get their own targets, not their neighbours'."""
    events = [AuditEventFactory() for _ in range(12)]
    for number, event in enumerate(events):
        target = TargetFactory(event=event, position=0, display_name=f"target {number}")
        ModifiedPropertyFactory(target=target, position=0, name=f"property {number}")
    chosen = events[kept::5]
    export = Export(AuditEvent.objects.filter(pk__in=[event.pk for event in chosen]), "csv")
    rows = [dict(zip(PORTAL_HEADER, cells, strict=True)) for cells in read("".join(export))[1:]]
    expected = {f"target {events.index(event)}" for event in chosen}
    assert {row["Target1DisplayName"] for row in rows} == expected
    for row in rows:
        number = row["Target1DisplayName"].removeprefix("target ")
        assert row["Target1ModifiedProperty1Name"] == f"property {number}"
