"""Streaming reads of JSON and JSON-lines files, one record at a time, with positions for errors.

ijson parses incrementally, so a 1 GB export is never held in memory; a record is re-serialised
compactly (key order and values kept) as the stored original.
"""

import json

import ijson

from logs.ingest.errors import FieldError, ImportFileError, RecordError
from logs.ingest.sources import InputFile


def to_original(value) -> str:
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
                    yield (
                        location,
                        RecordError(
                            input_file.name,
                            location,
                            "",
                            f"is not valid JSON ({error.msg} at column {error.colno})",
                            raw=text,
                        ),
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
