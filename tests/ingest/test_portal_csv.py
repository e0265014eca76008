"""The portal's CSV download, and what Excel does to it when someone opens and re-saves it."""

import codecs
import csv
import io

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.ingest.test_bad_input import assert_failed_with
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

PORTAL_CSV = FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv"
ACTIVITIES = [
    "Add owner to group",
    "Reset password (self-service)",
    "Update application",
    "Update group",
    "Update policy",
    "Update user",
]


def portal_rows() -> list[list[str]]:
    with open(PORTAL_CSV, encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def write_csv(path, rows, *, delimiter=",", encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def stored_activities():
    return sorted(AuditEvent.objects.values_list("activity__name", flat=True))


def test_excel_semicolon_csv(tmp_path):
    path = write_csv(tmp_path / "semicolon.csv", portal_rows(), delimiter=";")
    result = import_file(path)
    assert (result.format, result.new, result.errors) == ("portal-csv", 6, [])
    assert stored_activities() == ACTIVITIES


def test_excel_unicode_text_is_utf16_and_tab_separated(tmp_path):
    rows = portal_rows()
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t").writerows(rows)
    path = tmp_path / "unicode-text.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + buffer.getvalue().encode("utf-16-le"))
    result = import_file(path)
    assert (result.format, result.new, result.errors) == ("portal-csv", 6, [])
    assert (
        AuditEvent.objects.get(activity__name="Reset password (self-service)")
        .targets.get()
        .display_name
        == "山田 太郎"
    )


def test_excel_reformatted_dates_month_first(tmp_path):
    rows = portal_rows()
    rows[1][0] = "11/2/2026 8:14"  # Excel (en-US) drops seconds when it re-saves
    rows[2][0] = "11/2/2026 9:30:45 AM"
    path = write_csv(tmp_path / "excel.csv", rows)
    result = import_file(path)
    assert result.new == 6
    dates = {
        name: when.isoformat()
        for name, when in AuditEvent.objects.values_list("activity__name", "activity_datetime")
    }
    assert dates["Update user"] == "2026-11-02T08:14:00+00:00"
    assert dates["Update group"] == "2026-11-02T09:30:45+00:00"


def test_reimport_of_the_same_download_adds_nothing(tmp_path):
    assert import_file(PORTAL_CSV).new == 6
    overlapping = write_csv(tmp_path / "overlap.csv", portal_rows()[:3], quoting=csv.QUOTE_ALL)
    result = import_file(overlapping)
    assert (result.read, result.new, result.duplicate) == (2, 0, 2)


def test_the_id_is_derived_from_content(tmp_path):
    import_file(PORTAL_CSV)
    ids = list(AuditEvent.objects.values_list("entra_id", flat=True))
    assert all(entra_id.startswith("portal-csv:") for entra_id in ids)
    assert len(set(ids)) == 6


def test_bad_date_names_line_and_column(tmp_path):
    rows = portal_rows()
    rows[3][0] = "yesterday"
    path = write_csv(tmp_path / "bad-date.csv", rows)
    result = import_file(path)
    assert_failed_with(result, str(path), "line 4", "field Date (UTC)", "'yesterday'")


def test_short_row_names_its_line_after_a_multiline_cell(tmp_path):
    rows = portal_rows()
    rows[1][-1] = "first line\nsecond line"  # a quoted cell spanning two lines
    rows[2] = rows[2][:10]
    path = write_csv(tmp_path / "short.csv", rows)
    result = import_file(path)
    # Row 1 starts on line 2 and takes lines 2-3, so the short row is on line 4.
    assert_failed_with(result, "line 4", "has 10 cells but the header has 86")


def test_header_only_file_imports_nothing(tmp_path):
    path = write_csv(tmp_path / "empty.csv", portal_rows()[:1])
    result = import_file(path)
    assert (result.format, result.read, result.new, result.errors) == ("portal-csv", 0, 0, [])


def test_more_than_five_properties_are_not_in_the_download():
    import_file(PORTAL_CSV)
    target = AuditEvent.objects.get(activity__name="Update user").targets.get()
    assert target.modified_properties.count() == 5
