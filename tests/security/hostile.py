"""Input files of every format carrying one hostile value, for the tests that throw them at the
import command and the ingest endpoint.

Each builder writes two records (or rows, or lines) of real shape, the second holding
``raw``: JSON text put in verbatim (a 5,000-digit number, 5,000 nested lists), under a field
the test expects the error to name.
"""

import copy
import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import zstandard

from tests.factories import GraphDirectoryAuditFactory

SLOT = "@@hostile@@"
# Past Python's 4,300-digit limit for converting text to int, where ijson's C backend crashed.
HUGE_INTEGER = "9" * 5000
# Far past the 64 levels allowed; deep enough that the standard parser's recursion fails.
DEEP_NESTING = "[" * 5000 + "]" * 5000
# A valid ISO 8601 date-time that has no UTC equivalent (a day before year 1).
OVERFLOWING_DATE = "0001-01-01T00:00:00+23:59"


@dataclass
class HostileFile:
    name: str
    text: str  # the file's content
    location: str  # where the error must point: "record 2", "line 3", "row 2"
    field: str  # the field the error must name

    def write(self, directory: Path, compression: str | None = None) -> Path:
        """The file in ``directory``, plain or compressed ("gzip", "zstd") as archives are."""
        data = self.text.encode("utf-8")
        suffix, data = compressed(data, compression)
        path = directory / (self.name + suffix)
        path.write_bytes(data)
        return path


COMPRESSIONS = (None, "gzip", "zstd")


def compressed(data: bytes, compression: str | None) -> tuple[str, bytes]:
    """The file name's suffix and the bytes of ``data`` compressed as ``compression`` says."""
    if compression == "gzip":
        return ".gz", gzip.compress(data)
    if compression == "zstd":
        return ".zst", zstandard.ZstdCompressor().compress(data)
    return "", data


def graph_records(count: int = 2) -> list[dict]:
    return [GraphDirectoryAuditFactory() for _ in range(count)]


def _with_slot(record: dict, key: str = "extension") -> dict:
    record = copy.deepcopy(record)
    record[key] = SLOT
    return record


def _fill(text: str, raw: str) -> str:
    return text.replace(json.dumps(SLOT), raw)


def _azure_monitor(record: dict) -> dict:
    return {
        "time": record["activityDateTime"],
        "resourceId": "/tenants/00000000-0000-0000-0000-000000000001/providers/Microsoft.aadiam",
        "operationName": record["activityDisplayName"],
        "category": "AuditLogs",
        "properties": record,
    }


def _log_analytics(record: dict) -> dict:
    return {
        "Id": record["id"],
        "ActivityDateTime": record["activityDateTime"],
        "ActivityDisplayName": record["activityDisplayName"],
        "OperationName": record["activityDisplayName"],
        "Category": record["category"],
        "Result": record["result"],
        "LoggedByService": record["loggedByService"],
        "TargetResources": json.dumps(record["targetResources"]),
    }


def json_number_or_nesting_files(raw: str) -> list[HostileFile]:
    """Every JSON layout of every format, its second record holding ``raw`` (JSON text)."""
    first, second = graph_records()
    bad = _with_slot(second)
    lines = "\n".join
    la_first, la_bad = _log_analytics(first), _log_analytics(second)
    la_bad["Extra"] = SLOT
    columns = list(la_bad)
    table = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": name, "type": "string"} for name in columns],
                "rows": [
                    [la_first.get(name) for name in columns],
                    [la_bad[name] for name in columns],
                ],
            }
        ]
    }
    csv_text = io.StringIO()
    writer = csv.writer(csv_text)
    writer.writerow(["TimeGenerated", "Id", "OperationName", "TargetResources"])
    for record, targets in ((first, json.dumps(first["targetResources"])), (second, SLOT)):
        writer.writerow(
            [record["activityDateTime"], record["id"], record["activityDisplayName"], targets]
        )
    return [
        HostileFile(
            "graph.json",
            _fill(json.dumps({"value": [first, bad]}), raw),
            "record 2",
            "extension",
        ),
        HostileFile("portal.json", _fill(json.dumps([first, bad]), raw), "record 2", "extension"),
        HostileFile(
            "eventhub.json",
            _fill(json.dumps({"records": [_azure_monitor(first), _azure_monitor(bad)]}), raw),
            "record 2",
            "properties.extension",
        ),
        HostileFile(
            "PT1H.json",
            _fill(lines(json.dumps(_azure_monitor(record)) for record in (first, bad)), raw),
            "line 2",
            "properties.extension",
        ),
        HostileFile("query.json", _fill(json.dumps(table), raw), "row 2", "Extra"),
        HostileFile(
            "AuditLogs.ndjson",
            _fill(lines(json.dumps(row) for row in (la_first, la_bad)), raw),
            "line 2",
            "Extra",
        ),
        HostileFile(
            "AuditLogs-export.csv",
            # The dynamic column holds JSON text: here, only the hostile value.
            csv_text.getvalue().replace(SLOT, raw),
            "line 3",
            "TargetResources",
        ),
        HostileFile(
            "archive.ndjson",
            _fill(lines(json.dumps(record) for record in (first, bad)), raw),
            "line 2",
            "extension",
        ),
    ]


def date_files(date_text: str) -> list[HostileFile]:
    """Every format, its second record dated ``date_text``."""
    first, second = graph_records()
    second["activityDateTime"] = date_text
    la_first, la_second = _log_analytics(first), _log_analytics(second)
    portal_csv = io.StringIO()
    writer = csv.writer(portal_csv)
    writer.writerow(["Date (UTC)", "CorrelationId", "Service", "Category", "Activity", "Result"])
    keys = ("activityDateTime", "correlationId", "loggedByService", "category")
    for record in (first, second):
        writer.writerow([record[key] for key in (*keys, "activityDisplayName", "result")])
    return [
        HostileFile(
            "graph.json", json.dumps({"value": [first, second]}), "record 2", "activityDateTime"
        ),
        HostileFile("portal.json", json.dumps([first, second]), "record 2", "activityDateTime"),
        HostileFile("portal.csv", portal_csv.getvalue(), "line 3", "Date (UTC)"),
        HostileFile(
            "eventhub.json",
            json.dumps({"records": [_azure_monitor(first), _azure_monitor(second)]}),
            "record 2",
            "properties.activityDateTime",
        ),
        HostileFile(
            "AuditLogs.ndjson",
            "\n".join(json.dumps(row) for row in (la_first, la_second)),
            "line 2",
            "ActivityDateTime",
        ),
        HostileFile(
            "archive.ndjson",
            "\n".join(json.dumps(record) for record in (first, second)),
            "line 2",
            "activityDateTime",
        ),
    ]
