"""Telling the input formats apart from the first few kilobytes of a file.

Each format has a tell: Graph pages wrap records in ``value``, Azure Monitor in ``records`` with
``properties`` inside, Log Analytics rows use PascalCase columns (``TimeGenerated``,
``TargetResources``), the portal's CSV starts with a ``Date (UTC)`` header, and NDJSON is one
object per line.
"""

import csv
import io
import json
from dataclasses import dataclass

import ijson

from logs.ingest.errors import ImportFileError
from logs.ingest.json_limits import GuardedReader, JsonLimitError, check_nesting, raw_decode_shape
from logs.ingest.sources import InputFile


@dataclass(frozen=True)
class Detected:
    format: str
    layout: str  # how records sit in the file: envelope, list, object, lines, csv, tables


def detect(input_file: InputFile) -> Detected:
    sample = input_file.sample.lstrip("\ufeff \t\r\n")
    if sample.startswith("{"):
        sample = _within_limits(sample)
        lines = _json_lines_record(sample)
        if lines is not None:
            return Detected(_record_format(lines, default="ndjson"), "lines")
        return _detect_json_object(input_file, sample)
    if sample.startswith("["):
        return _detect_json_array(input_file, _within_limits(sample))
    header = csv_header(sample)
    if header:
        names = {name.strip().lower() for name in header}
        if "date (utc)" in names and "activity" in names:
            return Detected("portal-csv", "csv")
        # Query results may project or rename columns: the activity's name with a date
        # column or the id tells an AuditLogs export (the parser names a missing date column).
        if ("operationname" in names or "activitydisplayname" in names) and (
            "id" in names
            or any(name.startswith(("timegenerated", "activitydatetime")) for name in names)
        ):
            return Detected("log-analytics", "csv")
    raise ImportFileError(
        input_file.name,
        "is not a known audit-log format: expected Graph JSON, the portal's JSON or CSV "
        "download, an Azure Monitor or Log Analytics export, or NDJSON",
    )


def _within_limits(sample: str) -> str:
    """The sample up to where it breaks a limit on JSON (logs.ingest.json_limits): what comes
    before still tells the format, and the parser then reports the break, record and field."""
    data = _sample_bytes(sample)
    try:
        check_nesting(data)
    except JsonLimitError as error:
        return data[: error.offset].decode("utf-8", errors="ignore")
    return sample


def _sample_bytes(sample: str) -> bytes:
    return sample.encode("utf-8", "surrogatepass")


def csv_header(sample: str) -> list[str] | None:
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = csv_delimiter(first_line)
    try:
        header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    return header if len(header) > 1 else None


def csv_delimiter(header_line: str) -> str:
    """The portal writes commas; Excel's "Unicode text" (UTF-16) uses tabs, and Excel in
    locales with a decimal comma saves "CSV" with semicolons."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", "\t", ";")}
    return max(counts, key=lambda delimiter: (counts[delimiter], delimiter == ","))


def _json_lines_record(sample: str):
    """The first record if the sample is JSON lines (one object, a newline, another object)."""
    try:
        first, end = raw_decode_shape(sample)
    except json.JSONDecodeError:
        return None
    rest = sample[end:]
    if "\n" in rest and rest.lstrip().startswith("{") and isinstance(first, dict):
        return first
    return None


def _record_format(keys_or_record, default: str) -> str:
    keys = set(keys_or_record)
    lower = {key.lower() for key in keys}
    if "properties" in lower and ({"operationname", "resourceid", "time"} & lower):
        return "azure-monitor"
    if {
        "TimeGenerated",
        "ActivityDateTime",
        "TargetResources",
        "ActivityDisplayName",
        "OperationName",
    } & keys:
        return "log-analytics"
    return default


def _json_keys(sample: str, prefix: str, until: str | None = None) -> list[str]:
    """Map keys at ``prefix`` found in the sample (which may end mid-document), up to ``until``
    if it is met (the keys after it would not change the caller's answer)."""
    keys = []
    reader = GuardedReader(io.BytesIO(_sample_bytes(sample)))
    try:
        for event_prefix, event, value in ijson.parse(reader, use_float=True):
            if event == "map_key" and event_prefix == prefix:
                keys.append(value)
                if value == until:
                    break
    except (ijson.JSONError, JsonLimitError):
        pass  # the sample may end mid-document; the parser reports what is wrong, and where
    return keys


def _detect_json_object(input_file: InputFile, sample: str) -> Detected:
    # A Graph response whatever else it holds: its records, after "value", need not be read.
    keys = _json_keys(sample, "", until="value")
    if "value" in keys:
        return Detected("graph", "envelope")
    if "records" in keys:
        return Detected("azure-monitor", "envelope")
    if "tables" in keys:
        return Detected("log-analytics", "tables")
    fmt = _record_format(keys, default="")
    if fmt:
        return Detected(fmt, "object")
    if "activityDateTime" in keys or "id" in keys:
        return Detected("graph", "object")  # one record, as GET /directoryAudits/{id} returns
    raise ImportFileError(
        input_file.name,
        'is JSON but not a known audit-log shape: expected a Graph response with "value", '
        'an Azure Monitor export with "records", or audit records',
    )


def _detect_json_array(input_file: InputFile, sample: str) -> Detected:
    if sample.replace(" ", "").replace("\n", "").replace("\r", "").startswith("[]"):
        return Detected("graph", "list")  # an empty page: valid, with nothing to import
    keys = _json_keys(sample, "item")
    if not keys:
        raise ImportFileError(
            input_file.name, "is a JSON list but its first item is not an audit record"
        )
    # A bare list of Graph-shaped records is what the admin center's JSON download holds.
    return Detected(_record_format(keys, default="portal-json"), "list")
