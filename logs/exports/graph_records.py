"""Each stored event as a Graph-shaped ``directoryAudit`` record: what JSON and NDJSON exports hold.

The promise is "identical to what was imported", so the record comes from the stored original
wherever the original is one:

- ``graph``, ``portal-json``, ``ndjson``: the original *is* the Graph record; its stored text is
  written as it is (no parsing, no re-serialisation).
- ``azure-monitor``: the original is the Azure Monitor record; the Graph record is its
  ``properties`` object, with the envelope's ``time``, ``operationName`` and ``correlationId``
  filled in where ``properties`` lacks them, exactly as the importer read it.
- ``portal-csv``, ``log-analytics``: the originals are a CSV row or a table row, not Graph
  records, so the record is rebuilt from the normalised fields (``id`` is the stored activity
  id, ``activityDateTime`` carries the stored microseconds). Importing it gives back every
  normalised field; what the row never carried (an operation type, for a portal CSV) stays
  empty, and the source row itself remains in the original.

Either way importing an export into an empty database reproduces every event's normalised
fields, targets and modified properties (``tests/exports/test_round_trip.py``).
"""

from datetime import UTC, datetime

import orjson
from django.db import NotSupportedError
from django.db.models import CharField, Func

from logs.exports.selection import EventRow
from logs.ingest.graph_shape import USER_AGENT_DETAIL_KEYS

VERBATIM_FORMATS = frozenset({"graph", "portal-json", "ndjson"})
AZURE_MONITOR = "azure-monitor"
# Graph field in properties → the Azure Monitor column the importer falls back to.
AZURE_MONITOR_FALLBACKS = {
    "activityDateTime": "time",
    "activityDisplayName": "operationName",
    "correlationId": "correlationId",
}


def needs_targets(event: EventRow) -> bool:
    """Whether building this event's record reads its targets (only a rebuilt one does)."""
    return event.source_format not in VERBATIM_FORMATS and event.source_format != AZURE_MONITOR


def graph_record_text(event: EventRow) -> str:
    """The record as compact JSON text on one line."""
    if event.source_format in VERBATIM_FORMATS:
        text = event.original
        # Importers store compact JSON; should a stored text span lines, NDJSON still needs one.
        return text if "\n" not in text else _dumps(orjson.loads(text))
    if event.source_format == AZURE_MONITOR:
        return _dumps(azure_monitor_graph_record(event.original))
    return _dumps(rebuilt_graph_record(event))


def _dumps(record) -> str:
    return orjson.dumps(record).decode()


def azure_monitor_graph_record(original: str) -> dict:
    envelope = orjson.loads(original)
    folded = {key.lower(): value for key, value in envelope.items()}
    record = dict(folded.get("properties") or {})
    present = {key.lower(): value for key, value in record.items()}
    for graph_field, column in AZURE_MONITOR_FALLBACKS.items():
        if present.get(graph_field.lower()) in (None, "") and folded.get(column.lower()) not in (
            None,
            "",
        ):
            record[graph_field] = folded[column.lower()]
    return record


def graph_datetime(event: EventRow) -> str:
    """Graph's form, seven fractional digits; the stored date has six, the seventh is 0."""
    moment = event.activity_datetime
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


class GraphDateTime(Func):
    """The same text as :func:`graph_datetime`, formatted by the database: a CSV export writes
    the date of every row, and making a datetime object per row only to format it again costs
    more than reading the row."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"0Z\"')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores a date on SQLite as UTC text, "YYYY-MM-DD HH:MM:SS" followed by
        # ".ffffff" unless the microseconds are 0.
        template = (
            "substr(%(expressions)s, 1, 10) || 'T' || substr(%(expressions)s, 12, 8) || '.' || "
            "substr(substr(%(expressions)s, 21) || '000000', 1, 6) || '0Z'"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sql(self, compiler, connection, **extra):
        if "template" not in extra:
            raise NotSupportedError(f"GraphDateTime is not written for {connection.vendor}")
        return super().as_sql(compiler, connection, **extra)


def parse_graph_datetime(text: str) -> datetime:
    """The stored date back from :func:`graph_datetime`'s text."""
    return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)


def rebuilt_graph_record(event: EventRow) -> dict:
    """A Graph record from the normalised fields, in the key order Graph writes."""
    return {
        "id": event.entra_id,
        "category": event.category_name,
        "correlationId": event.correlation_id or None,
        "result": event.result or None,
        "resultReason": event.result_reason,
        "activityDisplayName": event.activity_name,
        "activityDateTime": graph_datetime(event),
        "loggedByService": event.service_name,
        "operationType": event.operation_type or None,
        "initiatedBy": initiated_by(event),
        "targetResources": [
            {
                "id": target.object_id or None,
                "displayName": target.display_name or None,
                "type": target.type or None,
                "userPrincipalName": target.user_principal_name or None,
                "groupType": target.group_type or None,
                "modifiedProperties": [
                    {
                        "displayName": prop.name,
                        "oldValue": prop.old_value,
                        "newValue": prop.new_value,
                    }
                    for prop in target.modified_properties
                ],
            }
            for target in event.targets
        ],
        "additionalDetails": event.additional_details,
    }


def user_agent_in_details(event: EventRow) -> bool:
    """Whether the stored user agent is the one additionalDetails carries (Entra puts it there),
    so that it need not be written into initiatedBy."""
    return any(
        (detail.get("key") or "").lower() in USER_AGENT_DETAIL_KEYS
        and detail.get("value") == event.user_agent
        for detail in event.additional_details
    )


def initiated_by(event: EventRow) -> dict | None:
    """``initiatedBy`` as the importer reads it back: a user, an app (with the caller's address
    under ``user``, where Graph puts it), or neither for the system; None when there was none."""
    if event.initiator_kind is None:
        return None
    user = {
        "id": event.user_object_id or None,
        "displayName": event.user_display_name or None,
        "userPrincipalName": event.user_principal_name or None,
        "userType": event.user_type or None,
        "homeTenantId": event.home_tenant_id or None,
        "homeTenantName": event.home_tenant_name or None,
    }
    app = {
        "appId": event.app_id or None,
        "displayName": event.app_display_name or None,
        "servicePrincipalId": event.service_principal_id or None,
        "servicePrincipalName": event.service_principal_name or None,
    }
    user = {key: value for key, value in user.items() if value is not None}
    app = {key: value for key, value in app.items() if value is not None}
    if event.ip_address:
        user["ipAddress"] = event.ip_address
    if event.user_agent and not user_agent_in_details(event):
        user["userAgent"] = event.user_agent
    record = {}
    if user or not app:
        record["user"] = user
    if app:
        record["app"] = app
    return record
