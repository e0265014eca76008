"""Streaming reads of JSON and JSON-lines files, one record at a time, with positions for errors.

ijson parses incrementally, so a 1 GB export is never held in memory; a record is re-serialised
compactly (key order and values kept) as the stored original.
"""

import json

import ijson
import orjson

from logs.ingest.errors import FieldError, ImportFileError, RecordError, rejected_row
from logs.ingest.sources import InputFile


def to_original(value) -> str:
    """Compact JSON text of a parsed record (orjson: several times faster than json here)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # Numbers beyond 64 bits (orjson refuses them) are kept by the standard library.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def iter_json_items(input_file: InputFile, prefix: str):
    """Yield (location, item) for each item under ``prefix`` ("item", "value.item", "")."""
    count = 0
    try:
        with input_file.open_utf8() as stream:
            for item in ijson.items(stream, prefix, use_float=True):
                count += 1
                yield f"record {count}", item
    except ijson.JSONError as error:
        raise ImportFileError(
            input_file.name,
            f"is not valid JSON after record {count} ({_describe_json_error(error)}); "
            "the file may be truncated or damaged",
            location=f"record {count + 1}",
        ) from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            input_file.name, f"is not valid {input_file.encoding} text ({error.reason})"
        ) from None


def iter_json_layout(input_file: InputFile, layout: str, prefixes: dict):
    """(location, item) for a JSON file: one object a line, or the items at ``prefixes[layout]``."""
    if layout == "lines":
        return iter_json_lines(input_file)
    return iter_json_items(input_file, prefixes[layout])


def iter_json_lines(input_file: InputFile):
    """Yield (location, item or RecordError) for each non-blank line of a JSON-lines file."""
    try:
        with input_file.open_text() as stream:
            for line_number, line in enumerate(stream, start=1):
                text = line.strip().lstrip("\ufeff")
                if not text:
                    continue
                location = f"line {line_number}"
                try:
                    yield location, json.loads(text)
                except json.JSONDecodeError as error:
                    yield rejected_row(
                        input_file.name,
                        location,
                        f"is not valid JSON ({error.msg} at column {error.colno})",
                        text,
                    )
    except UnicodeDecodeError as error:
        raise ImportFileError(
            input_file.name, f"is not valid {input_file.encoding} text ({error.reason})"
        ) from None


def record_or_error(input_file: InputFile, location: str, item, normalize):
    """Normalise one parsed item, turning a FieldError into a RecordError that says where."""
    if isinstance(item, RecordError):
        return item
    original = to_original(item)
    try:
        return normalize(item, original=original, location=location)
    except FieldError as error:
        return RecordError(input_file.name, location, error.field, error.message, raw=original)


def _describe_json_error(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


def iter_json_table_rows(input_file: InputFile):
    """Yield (location, {column: value}) for each row of a Log Analytics query response.

    The response is ``{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[...]]}]}``;
    rows are lists in column order, so each is zipped with the table's column names. Parsing is
    event by event, so a large response is never held in memory.
    """
    count = 0
    columns: list[str] = []
    try:
        with input_file.open_utf8() as stream:
            events = ijson.parse(stream, use_float=True)
            for prefix, event, value in events:
                if prefix == "tables.item" and event == "start_map":
                    columns = []
                elif prefix == "tables.item.columns.item.name" and event == "string":
                    columns.append(value)
                elif prefix == "tables.item.rows.item" and event == "start_array":
                    row = _build_array(events)
                    count += 1
                    location = f"row {count}"
                    if len(row) != len(columns):
                        yield rejected_row(
                            input_file.name,
                            location,
                            f"has {len(row)} values but the table has {len(columns)} columns",
                            to_original(row),
                        )
                        continue
                    yield location, dict(zip(columns, row, strict=True))
    except ijson.JSONError as error:
        raise ImportFileError(
            input_file.name,
            f"is not valid JSON after row {count} ({_describe_json_error(error)}); "
            "the file may be truncated or damaged",
            location=f"row {count + 1}",
        ) from None


def _build_array(events) -> list:
    """The rest of a JSON array whose start_array event was just read."""
    builder = ijson.ObjectBuilder()
    builder.event("start_array", None)
    depth = 1
    for _prefix, event, value in events:
        builder.event(event, value)
        if event in ("start_array", "start_map"):
            depth += 1
        elif event in ("end_array", "end_map"):
            depth -= 1
            if depth == 0:
                break
    return builder.value
