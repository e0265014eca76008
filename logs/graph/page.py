"""A page of ``auditLogs/directoryAudits`` as the bytes the endpoint sends.

A collector reads a source one page after the other, so the time this endpoint takes to answer
a page of 1,000 bounds every collection from it. The bytes are those of each event served by
:func:`logs.exports.graph_records.directory_audit` and rendered by DRF's JSON renderer (which
the single record, the refusals and the exports still use; tests/graph/test_page_bytes.py
compares the two), built with less work per event:

- one query for the page's events, of the columns a served record reads: for every format but
  the rebuilt ones (portal-csv, log-analytics) the record comes from the stored original. The
  rebuilt formats' events are read as exports read them (their normalised fields, targets and
  modified properties: one query each) and served by ``directory_audit`` itself;
- no model instance or EventRow per event, and each property of the original found by its
  exact name first, the case-insensitive search (as the importer reads names) only where that
  misses;
- JSON by orjson (``logs.drf_json``), which writes what the renderer writes (compact, UTF-8,
  U+2028 and U+2029 escaped) for what a page holds: strings, nulls, lists and objects (a
  served record's values are strings or null whatever the stored types; see
  ``string_value``).
"""

from datetime import datetime

import orjson
from django.db import connections

from logs.exports.graph_records import (
    APP_IDENTITY_KEYS,
    AZURE_MONITOR,
    BETA,
    USER_IDENTITY_KEYS,
    VERBATIM_FORMATS,
    azure_monitor_graph_record,
    directory_audit,
    needs_targets,
    property_value,
    served_datetime,
    string_value,
)
from logs.exports.selection import event_rows, event_values, ids_condition
from logs.filters import in_events
from logs.models import AuditEvent
from logs.partitions import partitioned
from logs.utc_text import as_utc_text

# The columns a record served from its original reads, in this order.
PAGE_COLUMNS = (
    "id",
    "entra_id",
    "activity_datetime",
    "result",
    "user_agent__text",  # None: no user agent
    "source_format",
    "original",
)

_ABSENT = object()


def page_records(keys: list[tuple[datetime, int]], using: str, version: str) -> list[dict]:
    """The served records of the events ``keys`` (``(activity date, id)``, as the page's keys
    were read), in that order (an event purged by retention in between is left out)."""
    if not keys:
        return []
    ids = [pk for _, pk in keys]
    # Whether the event table is in month partitions, asked once for the page's reads.
    dates = {pk: moment for moment, pk in keys} if partitioned(connections[using]) else None
    rows = AuditEvent.objects.using(using).filter(_events_named(ids, dates, using))
    wanted = set(ids)
    served: dict[int, dict] = {}
    rebuilt: list[int] = []
    for pk, entra_id, moment, result, user_agent, source_format, original in rows.values_list(
        *PAGE_COLUMNS
    ):
        if pk not in wanted:
            continue
        if source_format in VERBATIM_FORMATS:
            record = orjson.loads(original)
        elif source_format == AZURE_MONITOR:
            record = azure_monitor_graph_record(original)
        else:
            rebuilt.append(pk)
            continue
        served[pk] = served_record(record, entra_id, moment, result, user_agent, version)
    if rebuilt:
        matching = AuditEvent.objects.using(using).filter(_events_named(rebuilt, dates, using))
        events = event_rows(
            event_values(matching, with_original=True), using, with_targets=needs_targets
        )
        rebuilt_ids = set(rebuilt)
        for event in events:
            if event.pk not in rebuilt_ids:
                continue
            served[event.pk] = directory_audit(event, version)
    return [served[pk] for pk in ids if pk in served]


def _events_named(ids: list[int], dates: dict | None, using: str):
    """The events ``ids``, whose activity ``dates`` the page read with them (None where the
    event table is not in month partitions).

    In month partitions, by id and date (``logs.filters.in_events``): by id alone, PostgreSQL
    looked each page's ids up in every month's partition, the whole history's, for a page that
    lies in one or two months. Elsewhere, a page's ids mostly lie close together (events are
    stored in import order): then they are read as their id range, the others in it skipped
    by the caller, rather than by ``IN`` with an id each (``ids_condition``)."""
    if dates is not None:
        return in_events({pk: as_utc_text(dates[pk]) for pk in ids}, using)
    return ids_condition("id", ids)


def served_record(record: dict, entra_id, moment, result, user_agent, version: str) -> dict:
    """What ``directory_audit`` serves for an event whose Graph record is ``record``: the same
    properties, in the same order, from the same values."""
    served = {
        "id": entra_id,
        "category": _text(record, "category"),
        "correlationId": _text(record, "correlationId"),
        "result": result or None,
        "resultReason": _text(record, "resultReason"),
        "activityDisplayName": _text(record, "activityDisplayName"),
        "activityDateTime": served_datetime(_value(record, "activityDateTime"), moment),
        "loggedByService": _text(record, "loggedByService"),
        "operationType": _text(record, "operationType"),
        "initiatedBy": _initiated_by(_value(record, "initiatedBy")),
        "targetResources": [_target(target) for target in _objects(record, "targetResources")],
        "additionalDetails": [
            {"key": _text(detail, "key"), "value": _text(detail, "value")}
            for detail in _objects(record, "additionalDetails")
        ],
    }
    if version == BETA:
        served["userAgent"] = user_agent or None
    return served


def _value(record: dict, key: str):
    value = record.get(key, _ABSENT)
    return property_value(record, key) if value is _ABSENT else value


def _text(record: dict, key: str):
    value = record.get(key, _ABSENT)
    if value is _ABSENT:
        value = property_value(record, key)
    if value is None or value.__class__ is str:
        return value
    return string_value(value)


def _objects(record: dict, key: str) -> list[dict]:
    value = _value(record, key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _initiated_by(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    return {
        "app": _identity(_value(value, "app"), APP_IDENTITY_KEYS),
        "user": _identity(_value(value, "user"), USER_IDENTITY_KEYS),
    }


def _identity(value, keys: tuple[str, ...]) -> dict | None:
    if not isinstance(value, dict):
        return None
    return {key: _text(value, key) for key in keys}


def _target(target: dict) -> dict:
    return {
        "id": _text(target, "id"),
        "displayName": _text(target, "displayName"),
        "type": _text(target, "type"),
        "userPrincipalName": _text(target, "userPrincipalName"),
        "groupType": _text(target, "groupType"),
        "modifiedProperties": [
            {
                "displayName": _text(prop, "displayName"),
                "oldValue": _text(prop, "oldValue"),
                "newValue": _text(prop, "newValue"),
            }
            for prop in _objects(target, "modifiedProperties")
        ],
    }
