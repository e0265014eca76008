"""Each stored event as a Microsoft Graph ``directoryAudit`` record.

Two shapes, from one module so that they cannot drift apart:

- **Served** (:func:`directory_audit`): the record as Microsoft Graph serves it, the same object
  from the Graph-compatible endpoint (``logs/graph/``, v1.0 and beta) and in JSON exports
  (beta's shape: v1.0's properties and ``userAgent``, so that nothing normalised is left out).
  Graph's properties in Graph's order, whatever the source spelled: ``activityDateTime`` in UTC
  with ``Z``; ``result`` in Graph's enum; ``targetResources[].type`` in lower case even where
  the stored original says ``"Type"``; ``initiatedBy`` with both ``app`` and ``user``, null for
  the one that did not act; ``additionalDetails`` as key/value pairs; null for what the source
  format lacks. Keys Graph does not define are left out (the original keeps them).
- **Verbatim** (:func:`graph_record_text`): what NDJSON exports and the retention archive hold,
  "identical to what was imported", so that a restore gives back every original byte for byte.

Where a served value comes from:

- ``graph``, ``portal-json``, ``ndjson``: the original *is* the Graph record; its values are
  served as Entra wrote them (null kept apart from "", every fractional digit of the date up
  to Graph's seven). Verbatim, its stored text is written as it is.
- ``azure-monitor``: the original is the Azure Monitor record; the Graph record is its
  ``properties`` object, with the envelope's ``time``, ``operationName`` and ``correlationId``
  filled in where ``properties`` lacks them, exactly as the importer read it.
- ``portal-csv``, ``log-analytics``: the originals are a CSV row or a table row, not Graph
  records, so the record is rebuilt from the normalised fields (``id`` is the stored activity
  id, ``activityDateTime`` carries the stored microseconds, an empty value is null). Such an
  event is written in the served shape in NDJSON too; the source row itself remains in the
  original.

Importing a JSON or NDJSON export into an empty database reproduces every event's normalised
fields, targets and modified properties (``tests/exports/test_round_trip.py``).
"""

import re
from datetime import UTC, datetime

import orjson
from django.db import NotSupportedError
from django.db.models import CharField, Func

from logs.exports.selection import EventRow

V1 = "v1.0"
BETA = "beta"
GRAPH_VERSIONS = (V1, BETA)

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
    return _dumps(directory_audit(event))


def served_record_text(event: EventRow) -> str:
    """The served record (:func:`directory_audit`, beta's shape) as compact JSON text."""
    return _dumps(directory_audit(event))


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


def source_graph_record(event: EventRow) -> dict:
    """The Graph-shaped record the event was read from: its original, the ``properties`` of an
    Azure Monitor record, or one rebuilt from the normalised fields."""
    if event.source_format in VERBATIM_FORMATS:
        return orjson.loads(event.original)
    if event.source_format == AZURE_MONITOR:
        return azure_monitor_graph_record(event.original)
    return rebuilt_graph_record(event)


def directory_audit(event: EventRow, version: str = BETA) -> dict:
    """The event as Microsoft Graph ``version`` (v1.0 or beta) serves a directoryAudit."""
    record = source_graph_record(event)
    served = {
        "id": event.entra_id,
        "category": string_value(property_value(record, "category")),
        "correlationId": string_value(property_value(record, "correlationId")),
        "result": event.result or None,
        "resultReason": string_value(property_value(record, "resultReason")),
        "activityDisplayName": string_value(property_value(record, "activityDisplayName")),
        "activityDateTime": served_datetime(
            property_value(record, "activityDateTime"), event.activity_datetime
        ),
        "loggedByService": string_value(property_value(record, "loggedByService")),
        "operationType": string_value(property_value(record, "operationType")),
        "initiatedBy": _initiated_by(property_value(record, "initiatedBy")),
        "targetResources": [_target(target) for target in _objects(record, "targetResources")],
        "additionalDetails": [
            {
                "key": string_value(property_value(detail, "key")),
                "value": string_value(property_value(detail, "value")),
            }
            for detail in _objects(record, "additionalDetails")
        ],
    }
    if version == BETA:
        served["userAgent"] = event.user_agent or None
    return served


# The fractional seconds of a date-time as a source wrote it (ISO 8601 or an export's form).
_FRACTION = re.compile(r":\d\d[.,](\d+)")
# Graph's DateTimeOffset carries at most seven fractional digits.
GRAPH_FRACTION_DIGITS = 7


def served_datetime(source_text, stored: datetime) -> str:
    """The stored date (UTC) as Graph writes it, ``2018-01-09T21:20:02.7215374Z``.

    The stored date has microseconds; the source's seventh digit, where it wrote one, comes
    from its own text, which is used only when it denotes the stored microseconds (offsets are
    whole minutes, so converting to UTC never changes the fraction).
    """
    moment = stored.astimezone(UTC)
    fraction = None
    if isinstance(source_text, str):
        match = _FRACTION.search(source_text)
        if match is None:
            fraction = "" if moment.microsecond == 0 else None
        else:
            digits = match.group(1)[:GRAPH_FRACTION_DIGITS]
            if int(digits[:6].ljust(6, "0")) == moment.microsecond:
                fraction = digits
    if fraction is None:
        fraction = f"{moment.microsecond:06d}0"
    return f"{moment:%Y-%m-%dT%H:%M:%S}" + (f".{fraction}Z" if fraction else "Z")


USER_IDENTITY_KEYS = (
    "id",
    "displayName",
    "userPrincipalName",
    "ipAddress",
    "userType",
    "homeTenantId",
    "homeTenantName",
)
APP_IDENTITY_KEYS = ("appId", "displayName", "servicePrincipalId", "servicePrincipalName")


def _initiated_by(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    return {
        "app": _identity(property_value(value, "app"), APP_IDENTITY_KEYS),
        "user": _identity(property_value(value, "user"), USER_IDENTITY_KEYS),
    }


def _identity(value, keys: tuple[str, ...]) -> dict | None:
    if not isinstance(value, dict):
        return None
    return {key: string_value(property_value(value, key)) for key in keys}


def _target(target: dict) -> dict:
    return {
        "id": string_value(property_value(target, "id")),
        "displayName": string_value(property_value(target, "displayName")),
        "type": string_value(property_value(target, "type")),
        "userPrincipalName": string_value(property_value(target, "userPrincipalName")),
        "groupType": string_value(property_value(target, "groupType")),
        "modifiedProperties": [
            {
                "displayName": string_value(property_value(prop, "displayName")),
                "oldValue": string_value(property_value(prop, "oldValue")),
                "newValue": string_value(property_value(prop, "newValue")),
            }
            for prop in _objects(target, "modifiedProperties")
        ],
    }


_ABSENT = object()


def property_value(record: dict, key: str):
    """``record[key]``, the key in any case (as the importer reads it: ``"Type"`` is ``type``);
    None when absent."""
    value = record.get(key, _ABSENT)
    if value is not _ABSENT:
        return value
    folded = key.lower()
    for name, item in record.items():
        if name.lower() == folded:
            return item
    return None


def _objects(record: dict, key: str) -> list[dict]:
    value = property_value(record, key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def string_value(value) -> str | None:
    """A string property: the source's string, or null. The importer refuses any other type in
    the properties served; should one be stored all the same, its JSON text is served rather
    than a value Graph's clients cannot read."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def rebuilt_graph_record(event: EventRow) -> dict:
    """A Graph record from the normalised fields, in the key order Graph writes; an empty
    normalised value (what these formats write for a missing one) is null."""
    return {
        "id": event.entra_id,
        "category": event.category_name or None,
        "correlationId": event.correlation_id or None,
        "result": event.result or None,
        "resultReason": event.result_reason or None,
        "activityDisplayName": event.activity_name or None,
        "activityDateTime": graph_datetime(event),
        "loggedByService": event.service_name or None,
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


def initiated_by(event: EventRow) -> dict | None:
    """``initiatedBy`` as the importer reads it back: a user, an app (with the caller's address
    under ``user``, where Graph puts it), or neither for the system; None when there was none.
    The user agent is served as beta's ``userAgent`` (see :func:`directory_audit`)."""
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
    record = {}
    if user or not app:
        record["user"] = user
    if app:
        record["app"] = app
    return record
