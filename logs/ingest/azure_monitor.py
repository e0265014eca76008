"""Format ``azure-monitor``: Entra audit logs routed by a diagnostic setting.

An Event Hub message is ``{"records": [...]}``; a storage-account blob
(``insights-logs-auditlogs/.../PT1H.json``) holds one record per line. Each record wraps the
Graph-shaped directoryAudit in ``properties`` beside Azure Monitor's own columns (``time``,
``operationName``, ``resourceId``, ``tenantId``, ``callerIpAddress``, ``identity``, ``Level``).
The whole record is kept as the original; ``properties`` is normalised like a Graph record, with
the outer columns as fallbacks for the few fields it may leave out.
"""

from logs.ingest.errors import FieldError
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import iter_json_layout, record_or_error
from logs.ingest.values import SourceObject

NAME = "azure-monitor"

PREFIXES = {"envelope": "records.item", "list": "item", "object": ""}
LAYOUTS = {*PREFIXES, "lines"}

# Graph field in properties → the Azure Monitor column that carries the same value.
_FALLBACKS = {
    "activityDateTime": "time",
    "activityDisplayName": "operationName",
    "correlationId": "correlationId",
}


def parse(input_file, layout: str):
    for location, item in iter_json_layout(input_file, layout, PREFIXES):
        yield record_or_error(input_file, location, item, normalize_azure_monitor_record)


def normalize_azure_monitor_record(value, *, original: str, location: str):
    record = SourceObject(value, "")
    properties = record.raw("properties")
    if properties is None:
        raise FieldError(
            "properties",
            "is missing: an Azure Monitor audit record carries the audit event in "
            '"properties" (records from before 2019 used another schema and are not supported)',
        )
    nested = SourceObject(properties, "properties")
    graph_record = dict(nested.raw_items())
    for graph_field, column in _FALLBACKS.items():
        if nested.raw(graph_field) in (None, "") and record.raw(column) not in (None, ""):
            graph_record[graph_field] = record.raw(column)
    return normalize_graph_record(
        graph_record, original=original, location=location, path="properties"
    )
