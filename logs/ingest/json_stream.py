"""Streaming reads of JSON and JSON-lines files, one record at a time, with positions for errors.

ijson parses incrementally, so a 1 GB export is never held in memory; a record is re-serialised
compactly (key order and values kept) as the stored original. Every read goes through
``logs.ingest.json_limits``, which bounds nesting, sizes and numbers before the parser sees the
bytes, and names the record and field of whatever breaks them.
"""

import io
import json

import ijson
import orjson

from logs.ingest.errors import FieldError, ImportFileError, RecordError, rejected_row
from logs.ingest.json_limits import (
    MAX_RECORD_BYTES,
    NUMBER_MESSAGE,
    GuardedReader,
    JsonLimitError,
    describe_json_error,
    format_path,
    loads,
    locate,
    record_depth,
)
from logs.ingest.sources import InputFile

# A JSON-lines record is one line: no longer than the largest record.
MAX_LINE_CHARS = MAX_RECORD_BYTES


def to_original(value) -> str:
    """Compact JSON text of a parsed record (orjson: several times faster than json here).

    Raises FieldError for text that no database can store: a lone surrogate (half of a UTF-16
    pair, which is not a character; orjson refuses it) or a NUL character (PostgreSQL's text
    refuses it). The limits already keep numbers and nesting within what orjson writes.
    """
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        path = find_text(value, _not_unicode)
        raise FieldError(
            path or "record",
            "holds a lone surrogate (half of a UTF-16 pair), which is not Unicode text",
        ) from None
    if "\\u0000" in text:
        path = find_text(value, lambda string: "\x00" in string)
        if path is not None:
            raise FieldError(path or "record", "holds a NUL character, which text cannot store")
    return text


def _not_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_text(value, test, path=()) -> str | None:
    """The path of the first string (key or value) in ``value`` that passes ``test``."""
    if isinstance(value, str):
        return format_path(path) if test(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if test(key):
                return format_path((*path, key))
            found = find_text(item, test, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_text(item, test, (*path, index))
            if found is not None:
                return found
    return None


def _raw_text(value) -> str:
    """The record for a rejects file, when it cannot be its original: every odd character
    escaped."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def iter_json_items(input_file: InputFile, prefix: str):
    """Yield (location, item) for each item under ``prefix`` ("item", "value.item", "")."""
    count = 0
    try:
        with input_file.open_utf8() as stream:
            reader = GuardedReader(stream, record_depth(prefix))
            for item in ijson.items(reader, prefix, use_float=True):
                count += 1
                yield f"record {count}", item
    except (ijson.JSONError, JsonLimitError) as error:
        raise json_file_error(input_file, prefix, error, f"after record {count}") from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            input_file.name, f"is not valid {input_file.encoding} text ({error.reason})"
        ) from None


def json_file_error(input_file, prefix: str, error: Exception, after: str, unit: str = "record"):
    """The ImportFileError for a JSON file that failed after ``after``, naming the record and
    field where it failed (found by reading the file again up to there)."""
    stop = error.offset if isinstance(error, JsonLimitError) else None
    with input_file.open_utf8() as stream:
        location, field = locate(stream, prefix, stop, unit=unit)
    if isinstance(error, JsonLimitError):
        message = error.message
    else:
        reason = describe_json_error(error)
        message = (
            reason
            if reason == NUMBER_MESSAGE
            else f"is not valid JSON {after} ({reason}); the file may be truncated or damaged"
        )
    return ImportFileError(input_file.name, message, location=location, field=field)


def iter_json_layout(input_file: InputFile, layout: str, prefixes: dict):
    """(location, item) for a JSON file: one object a line, or the items at ``prefixes[layout]``."""
    if layout == "lines":
        return iter_json_lines(input_file)
    return iter_json_items(input_file, prefixes[layout])


def iter_json_lines(input_file: InputFile):
    """Yield (location, item or RecordError) for each non-blank line of a JSON-lines file."""
    try:
        with input_file.open_text() as stream:
            line_number = 0
            while line := stream.readline(MAX_LINE_CHARS + 1):
                line_number += 1
                location = f"line {line_number}"
                if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
                    _skip_rest_of_line(stream)
                    yield rejected_row(
                        input_file.name,
                        location,
                        f"is longer than {MAX_LINE_CHARS:,} characters",
                        line[:1000],
                    )
                    continue
                text = line.strip().lstrip("\ufeff")
                if text:
                    yield location, _json_line(input_file, location, text)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            input_file.name, f"is not valid {input_file.encoding} text ({error.reason})"
        ) from None


def _json_line(input_file: InputFile, location: str, text: str):
    try:
        return loads(text)
    except json.JSONDecodeError as error:
        message = f"is not valid JSON ({error.msg} at column {error.colno})"
        return RecordError(input_file.name, location, "", message, raw=text)
    except JsonLimitError as error:
        _, field = locate(io.BytesIO(text.encode("utf-8", "surrogatepass")), "")
        return RecordError(input_file.name, location, field, error.message, raw=text)


def _skip_rest_of_line(stream) -> None:
    while (part := stream.readline(MAX_LINE_CHARS)) and not part.endswith(("\n", "\r")):
        pass


def record_or_error(input_file: InputFile, location: str, item, normalize):
    """Normalise one parsed item, turning a FieldError into a RecordError that says where."""
    if isinstance(item, RecordError):
        return item
    original = None
    try:
        original = to_original(item)
        return normalize(item, original=original, location=location)
    except FieldError as error:
        raw = original if original is not None else _raw_text(item)
        return RecordError(input_file.name, location, error.field, error.message, raw=raw)


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
            reader = GuardedReader(stream, record_depth(TABLE_ROWS))
            events = ijson.parse(reader, use_float=True)
            for prefix, event, value in events:
                if prefix == "tables.item" and event == "start_map":
                    columns = []
                elif prefix == "tables.item.columns.item.name" and event == "string":
                    columns.append(value)
                elif prefix == TABLE_ROWS and event == "start_array":
                    row = _build_array(events)
                    count += 1
                    location = f"row {count}"
                    if len(row) != len(columns):
                        yield rejected_row(
                            input_file.name,
                            location,
                            f"has {len(row)} values but the table has {len(columns)} columns",
                            _raw_text(row),
                        )
                        continue
                    yield location, dict(zip(columns, row, strict=True))
    except (ijson.JSONError, JsonLimitError) as error:
        failure = json_file_error(input_file, TABLE_ROWS, error, f"after row {count}", "row")
        failure.field = _column_field(failure.field, columns)
        raise failure from None


TABLE_ROWS = "tables.item.rows.item"


def _column_field(field: str, columns: list[str]) -> str:
    """A row's ``[3].user.id`` as ``Column4.user.id``: rows are lists in column order."""
    position, bracket, rest = field.removeprefix("[").partition("]")
    if bracket and position.isdigit() and int(position) < len(columns):
        return columns[int(position)] + rest
    return field


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
