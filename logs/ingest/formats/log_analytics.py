"""Format ``log-analytics``: rows of the ``AuditLogs`` table exported from Log Analytics or
Microsoft Sentinel.

Columns are PascalCase (``Id``, ``ActivityDateTime``, ``ActivityDisplayName``,
``AADOperationType``, ``LoggedByService``, ``Result``, ``InitiatedBy``, ``TargetResources``,
``AdditionalDetails``), as the Azure Monitor table reference documents them. The ``dynamic``
columns arrive as JSON text inside a string in CSV exports and query responses, or as JSON
values in some tools' output; both are accepted. The portal's CSV export names date columns
``TimeGenerated [UTC]`` and writes dates month-first (``5/25/2023, 4:32:49.469 AM``).
Layouts: CSV, a query response (``{"tables": [...]}``), a JSON list, one object, JSON lines.
"""

import hashlib
import json

from logs.ingest.csv_rows import iter_csv_rows
from logs.ingest.errors import FieldError, ImportFileError
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_limits import JsonLimitError, loads
from logs.ingest.json_stream import (
    iter_json_layout,
    iter_json_table_rows,
    record_or_error,
)
from logs.ingest.notes import Notes
from logs.ingest.values import SourceObject, parse_datetime, parse_json_text

NAME = "log-analytics"
# The id of a row whose query left out the Id column: the hash of its content.
ID_PREFIX = "log-analytics:"

PREFIXES = {"list": "item", "object": ""}
LAYOUTS = {*PREFIXES, "lines", "tables", "csv"}

# Graph field → the AuditLogs column that holds it (first present wins).
_COLUMNS = {
    "id": ("Id",),
    "loggedByService": ("LoggedByService",),
    "category": ("Category",),
    "activityDisplayName": ("ActivityDisplayName", "OperationName"),
    "operationType": ("AADOperationType",),
    "result": ("Result",),
    "resultReason": ("ResultReason",),
    "correlationId": ("CorrelationId",),
}
_DATE_COLUMNS = ("ActivityDateTime", "TimeGenerated")
_DYNAMIC_COLUMNS = {
    "initiatedBy": "InitiatedBy",
    "targetResources": "TargetResources",
    "additionalDetails": "AdditionalDetails",
}
_UTC_SUFFIX = " [UTC]"
_COLUMN_OF_FIELD = {
    **{field: columns[0] for field, columns in _COLUMNS.items()},
    **_DYNAMIC_COLUMNS,
    "activityDateTime": "ActivityDateTime",
}


def parse(input_file, layout: str):
    if layout == "csv":
        rows = iter_csv_rows(input_file)
    elif layout == "tables":
        rows = iter_json_table_rows(input_file)
    else:
        rows = iter_json_layout(input_file, layout, PREFIXES)
    checked = False
    for location, row in rows:
        if not checked and isinstance(row, dict):
            # Query results may project columns away; without any date column no row can be
            # stored, so the file is refused once, naming the columns looked for.
            _check_date_column(input_file, location, row)
            checked = True
        yield record_or_error(input_file, location, row, normalize_log_analytics_row)


def _check_date_column(input_file, location: str, row: dict) -> None:
    names = {name.removesuffix(_UTC_SUFFIX).strip().lower() for name in row}
    if not names & {column.lower() for column in _DATE_COLUMNS}:
        looked_for = ", ".join(f"{column} (or {column}{_UTC_SUFFIX})" for column in _DATE_COLUMNS)
        raise ImportFileError(
            input_file.name,
            f"has no date column: looked for {looked_for}; an audit record cannot be stored "
            "without its activity date",
            location=location,
        )


def normalize_log_analytics_row(value, *, original: str, location: str):
    notes = Notes()
    if isinstance(value, dict) and any(name.endswith(_UTC_SUFFIX) for name in value):
        # The portal's CSV export renames date columns ("TimeGenerated [UTC]").
        value = {name.removesuffix(_UTC_SUFFIX): cell for name, cell in value.items()}
    row = SourceObject(value, "", notes=notes)
    graph_record = {}
    for field, columns in _COLUMNS.items():
        graph_record[field] = _first_value(row, columns)
    graph_record["activityDateTime"] = _activity_datetime(row)
    for field, column in _DYNAMIC_COLUMNS.items():
        graph_record[field] = _dynamic(row, column)
    if graph_record["id"] is None and row.raw("Id") is None:
        # A query that projected the Id away: the row is identified by its content, as
        # portal CSV rows are.
        content = json.dumps(graph_record, ensure_ascii=False, sort_keys=True, default=str)
        graph_record["id"] = ID_PREFIX + hashlib.sha256(content.encode()).hexdigest()
        notes.add(
            "Id",
            "the row has no Id column; identified by the hash of its content",
            None,
        )
    try:
        record = normalize_graph_record(
            graph_record, original=original, location=location, notes=notes
        )
    except FieldError as error:
        raise FieldError(_column_path(error.field), error.message) from None
    for note in record.notes:
        note["field"] = _column_path(note["field"])
    return record


def _first_value(row: SourceObject, columns: tuple[str, ...]):
    for column in columns:
        value = row.raw(column)
        if value not in (None, ""):
            return value
    return None


def _activity_datetime(row: SourceObject) -> str:
    for column in _DATE_COLUMNS:
        text = row.text(column, max_length=64)
        if text.strip():
            return parse_datetime(text, column).isoformat()
    raise FieldError("ActivityDateTime", "is missing (and so is TimeGenerated)")


def _dynamic(row: SourceObject, column: str):
    """A ``dynamic`` column: JSON text in a string, or already a JSON value. Text that is not
    JSON is noted and left out (the row keeps it)."""
    value = row.raw(column)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return loads(value)
        except json.JSONDecodeError as error:
            row.note(
                column, f"is not valid JSON ({error.msg} at position {error.pos}); left out", value
            )
            return None
        except JsonLimitError:
            # Beyond the limits on JSON input (logs.ingest.json_limits): refused, located.
            return parse_json_text(value, column)
    return value


def _column_path(field: str) -> str:
    """Name a Graph field path ("targetResources[0].type") by its column ("TargetResources")."""
    head, separator, rest = field.partition(".")
    name, bracket, index = head.partition("[")
    column = _COLUMN_OF_FIELD.get(name, name)
    return f"{column}{bracket}{index}{separator}{rest}"
