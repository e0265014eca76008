"""Reading a source record's values (``logs.ingest.values``): a key in any case, a length limit
to the character, null kept apart from "", dates moved to UTC; every refusal names the field.

The parsers read most keys as spelled and take a short path for them; a key a source spells in
another case takes the long path. Both must give the same answer, so each rule is checked here
on a key spelled the other way too.
"""

from collections import OrderedDict
from datetime import UTC, datetime

import pytest

from logs.ingest.errors import FieldError
from logs.ingest.importer import import_file
from logs.ingest.values import SourceObject, parse_datetime
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_bad_input import graph_page, write_json


def refused(call) -> str:
    with pytest.raises(FieldError) as raised:
        call()
    return str(raised.value)


def test_any_kind_of_mapping_is_an_object():
    record = SourceObject(OrderedDict(id="abc"), "value", 3)
    assert record.text("id", required=True) == "abc"
    assert record.path == "value[3]"
    assert refused(lambda: SourceObject(["id"], "value", 3)) == (
        "field value[3]: expected an object, got a list"
    )


@pytest.mark.parametrize("key", ["displayName", "DisplayName"])
def test_a_value_of_exactly_the_limit_is_kept_one_more_is_refused(key):
    record = SourceObject({key: "x" * 10}, "target")
    assert record.text("displayName", max_length=10) == "x" * 10
    assert record.nullable_text("displayName", max_length=10) == "x" * 10
    message = "field target.displayName: is 10 characters long; the limit is 9"
    assert refused(lambda: record.text("displayName", max_length=9)) == message
    assert refused(lambda: record.nullable_text("displayName", max_length=9)) == message


@pytest.mark.parametrize("key", ["id", "ID"])
def test_a_required_value_must_not_be_blank(key):
    assert SourceObject({key: " abc "}, "").text("id", required=True) == " abc "
    assert refused(lambda: SourceObject({key: "  "}, "").text("id", required=True)) == (
        "field id: is empty"
    )
    assert refused(lambda: SourceObject({}, "").text("id", required=True)) == "field id: is missing"
    assert SourceObject({key: "  "}, "").text("id") == "  "


@pytest.mark.parametrize("key", ["oldValue", "OldValue"])
def test_null_stays_apart_from_the_empty_string(key):
    assert SourceObject({key: None}, "").nullable_text("oldValue") is None
    assert SourceObject({key: ""}, "").nullable_text("oldValue") == ""
    assert SourceObject({key: '["a"]'}, "").nullable_text("oldValue") == '["a"]'
    assert SourceObject({}, "").nullable_text("oldValue") is None
    assert SourceObject({key: None}, "").text("oldValue") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-11-09T10:01:19+02:00", datetime(2024, 11, 9, 8, 1, 19, tzinfo=UTC)),
        ("2024-11-09T10:01:19.1234567-05:30", datetime(2024, 11, 9, 15, 31, 19, 123456, UTC)),
        ("2024-11-09T10:01:19Z", datetime(2024, 11, 9, 10, 1, 19, tzinfo=UTC)),
        ("2024-11-09T10:01:19", datetime(2024, 11, 9, 10, 1, 19, tzinfo=UTC)),
        ("11/9/2024, 10:01:19.000 AM", datetime(2024, 11, 9, 10, 1, 19, tzinfo=UTC)),
    ],
)
def test_a_date_with_an_offset_is_moved_to_utc_one_without_is_utc(text, expected):
    parsed = parse_datetime(text, "activityDateTime")
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["activityDateTime", "ActivityDateTime"])
def test_a_date_field_takes_64_characters_spaces_included(tmp_path, key):
    moment = "2024-11-09T10:01:19+02:00"
    fits, too_long = GraphDirectoryAuditFactory(), GraphDirectoryAuditFactory()
    for record, width in ((fits, 64), (too_long, 65)):
        del record["activityDateTime"]
        record[key] = moment.rjust(width)

    kept = import_file(write_json(tmp_path / "fits.json", graph_page(fits)))
    refusal = import_file(write_json(tmp_path / "too-long.json", graph_page(too_long)))

    assert kept.new == 1
    stored = AuditEvent.objects.get()
    assert (stored.entra_id, stored.activity_datetime) == (
        fits["id"],
        datetime(2024, 11, 9, 8, 1, 19, tzinfo=UTC),
    )
    assert refusal.failed
    assert "field activityDateTime: is 65 characters long; the limit is 64" in "\n".join(
        refusal.errors
    )
