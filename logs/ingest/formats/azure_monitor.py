"""Format ``azure-monitor``: Entra audit logs routed by a diagnostic setting.

An Event Hub message is ``{"records": [...]}``; a storage-account blob
(``insights-logs-auditlogs/.../PT1H.json``) holds one record per line; a record may also come
alone. Each record wraps the Graph-shaped directoryAudit in ``properties`` beside Azure
Monitor's own columns (``time``, ``operationName``, ``resourceId``, ``tenantId``,
``callerIpAddress``, ``identity``, ``Level``). The whole record is kept as the original;
``properties`` is normalised like a Graph record, with the outer columns as fallbacks for the
few fields it may leave out.

Records written before the Graph-shaped envelope (category ``Audit``) follow Microsoft's
older "Azure Monitor audit log schema": no record id, ``resultType``, ``identity`` and, in
``properties``, ``auditEventCategory``, ``identityType``, ``operationType``,
``targetResourceType``/``targetResourceName`` (field names and values each joined by ``__``),
``targetUpdatedProperties``, ``additionalDetails`` and ``additionalTargets``. They are mapped
where the meaning is certain (see ``_older_schema_record``) and identified by the hash of
their content, as portal CSV rows are.
"""

import hashlib
import json

from logs.ingest.errors import FieldError
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import iter_json_layout, record_or_error
from logs.ingest.notes import Notes
from logs.ingest.values import SourceObject, describe_type

NAME = "azure-monitor"

PREFIXES = {"envelope": "records.item", "list": "item", "object": ""}
LAYOUTS = {*PREFIXES, "lines"}

# Graph field in properties → the Azure Monitor column that carries the same value.
_FALLBACKS = {
    "activityDateTime": "time",
    "activityDisplayName": "operationName",
    "correlationId": "correlationId",
}
# What Azure Monitor writes in a column that has no value.
NULL_TEXTS = {"<null>", ""}

# The older schema's id: the hash of the record's content, as for portal CSV rows.
OLDER_SCHEMA_ID_PREFIX = "azure-monitor-audit:"
# targetResourceType field name → the Graph targetResource field it fills.
_TARGET_FIELDS = {
    "upn": "userPrincipalName",
    "objectid": "id",
    "objectclass": "type",
    "name": "displayName",
}
_OLDER_RESULTS = {"success": "success", "failure": "failure", "failed": "failure"}


def parse(input_file, layout: str):
    for location, item in iter_json_layout(input_file, layout, PREFIXES):
        yield record_or_error(input_file, location, item, normalize_azure_monitor_record)


def normalize_azure_monitor_record(value, *, original: str, location: str):
    notes = Notes()
    record = SourceObject(value, "", notes=notes)
    properties = record.raw("properties")
    if properties is None:
        raise FieldError(
            "properties",
            'is missing: an Azure Monitor audit record carries the audit event in "properties"',
        )
    nested = SourceObject(properties, "properties", notes=notes)
    if not notes.strict and nested.raw("id") is None and _is_older_schema(record, nested):
        graph_record = _older_schema_record(value, record, nested)
        return normalize_graph_record(
            graph_record, original=original, location=location, notes=notes
        )
    graph_record = dict(nested.raw_items())
    for graph_field, column in _FALLBACKS.items():
        if nested.raw(graph_field) in (None, "") and record.raw(column) not in (None, ""):
            graph_record[graph_field] = record.raw(column)
    return normalize_graph_record(
        graph_record, original=original, location=location, path="properties", notes=notes
    )


def _caller_ip_address(record: SourceObject) -> str:
    value = record.raw("callerIpAddress")
    if type(value) is str and value.strip() not in NULL_TEXTS and len(value) <= 64:
        return value.strip()
    return ""


def _is_older_schema(record: SourceObject, nested: SourceObject) -> bool:
    return any(
        nested.raw(key) is not None for key in ("targetResourceType", "auditEventCategory")
    ) or (record.raw("resultType") is not None and nested.raw("activityDateTime") is None)


def _older_schema_record(value: dict, record: SourceObject, nested: SourceObject) -> dict:
    """The older schema's record as a Graph-shaped one (see the module docstring)."""
    content = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return {
        "id": OLDER_SCHEMA_ID_PREFIX + hashlib.sha256(content.encode()).hexdigest(),
        "activityDateTime": record.raw("time"),
        "activityDisplayName": record.raw("operationName"),
        "category": nested.raw("auditEventCategory"),
        "operationType": nested.raw("operationType"),
        "result": _older_result(record),
        "resultReason": record.raw("resultDescription"),
        "correlationId": record.raw("correlationId"),
        "initiatedBy": _older_initiator(record, nested),
        "targetResources": _older_targets(nested),
        "additionalDetails": _older_details(nested),
    }


def _older_result(record: SourceObject):
    value = record.raw("resultType")
    if value is None or value == "":
        return None
    if type(value) is str and value.strip().lower() in _OLDER_RESULTS:
        return _OLDER_RESULTS[value.strip().lower()]
    record.note("resultType", f"{value!r} is not a known result; stored as unknown", value)
    return None


def _older_initiator(record: SourceObject, nested: SourceObject) -> dict | None:
    """The actor from ``identity``: a user when ``identityType`` is UPN, an application when
    it names one; "NA" (not applicable) or nothing names no actor."""
    identity = record.text("identity", max_length=512).strip()
    identity_type = nested.text("identityType", max_length=64).strip().lower()
    ip_address = _caller_ip_address(record) or None
    if not identity or identity.upper() == "NA":
        return {"user": {"ipAddress": ip_address}} if ip_address else None
    if identity_type == "upn":
        return {"user": {"userPrincipalName": identity, "ipAddress": ip_address}}
    if identity_type in ("application", "app", "serviceprincipal"):
        user = {"user": {"ipAddress": ip_address}} if ip_address else {}
        return {"app": {"displayName": identity}, **user}
    record.note(
        "identity",
        f"identityType {identity_type or '(none)'!r} does not say whether this is a user or "
        "an application; no initiator stored",
        identity,
    )
    return None


def _older_targets(nested: SourceObject) -> list[dict]:
    names = nested.raw("targetResourceType")
    values = nested.raw("targetResourceName")
    if names in (None, "") and values in (None, ""):
        return []
    if type(names) is not str or type(values) is not str:
        nested.note(
            "targetResourceName",
            f"expected text, got {describe_type(names)} and {describe_type(values)}; no "
            "target stored",
            {"targetResourceType": names, "targetResourceName": values},
        )
        return []
    fields, parts = names.split("__"), values.split("__")
    if len(fields) != len(parts):
        nested.note(
            "targetResourceName",
            f"holds {len(parts)} values joined by __ but targetResourceType names "
            f"{len(fields)} fields; no target stored",
            values,
        )
        return []
    target = {}
    for name, part in zip(fields, parts, strict=True):
        graph_field = _TARGET_FIELDS.get(name.strip().lower())
        if graph_field and part:
            target[graph_field] = part
    target["modifiedProperties"] = [
        {
            "displayName": prop.raw("Name"),
            "oldValue": prop.raw("OldValue"),
            "newValue": prop.raw("NewValue"),
        }
        for prop in nested.objects("targetUpdatedProperties")
    ]
    additional_targets = nested.raw("additionalTargets")
    if additional_targets not in (None, "", []):
        nested.note(
            "additionalTargets",
            "additional targets are not mapped; kept in the original record only",
            additional_targets,
            refused_when_strict=False,
        )
    return [target]


def _older_details(nested: SourceObject) -> list[dict]:
    """``additionalDetails``: one object (its keys and values as details), or a string."""
    value = nested.raw("additionalDetails")
    if value is None or value == "" or value == "None":
        return []
    if isinstance(value, dict):
        details = []
        for key, item in value.items():
            if item is None or type(item) is str:
                details.append({"key": key, "value": item})
            else:
                details.append({"key": key, "value": json.dumps(item, ensure_ascii=False)})
        return details
    if isinstance(value, list):
        return value
    nested.note(
        "additionalDetails",
        f"{describe_type(value)} where key/value details are expected; kept in the original "
        "record only",
        value,
        refused_when_strict=False,
    )
    return []
