"""Format ``portal-csv``: the Entra admin center's "Download → CSV" of the audit log.

The header is fixed (see ``fixtures/``): ``Date (UTC)``, ``CorrelationId``, ``Service``,
``Category``, ``Activity``, ``Result``, ``ResultReason``, ``User Agent``, the actor columns
(``ActorType``, ``ActorDisplayName``, ``ActorObjectId``, ``ActorUserPrincipalName``,
``IPAddress``, ``ActorHomeTenantId``, ``ActorHomeTenantName``, ``ActorServicePrincipalId``,
``ActorServicePrincipalName``), then targets flattened into ``Target1..3`` with
``ModifiedProperty1..5`` each, and ``AdditionalDetail1..6``. What lies beyond those slots is
not in the file, and empty cells cannot tell null from "" (they are read as null).

The download carries no record id, so the id is derived from the row's content:
``portal-csv:`` and a SHA-256 of the normalised row. Re-importing the same download, or an
overlapping one, therefore adds nothing; an event first imported from Graph and then from a
CSV download is stored twice, once under each id.
"""

import hashlib
import json

from logs.ingest.csv_rows import iter_csv_rows
from logs.ingest.errors import FieldError
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import record_or_error
from logs.ingest.values import SourceObject, parse_datetime

NAME = "portal-csv"
LAYOUTS = {"csv"}

ID_PREFIX = "portal-csv:"
TARGET_SLOTS = 3
MODIFIED_PROPERTY_SLOTS = 5
ADDITIONAL_DETAIL_SLOTS = 6

_EVENT_COLUMNS = {
    "correlationId": "CorrelationId",
    "loggedByService": "Service",
    "category": "Category",
    "activityDisplayName": "Activity",
    "result": "Result",
    "resultReason": "ResultReason",
}
_USER_COLUMNS = {
    "id": "ActorObjectId",
    "displayName": "ActorDisplayName",
    "userPrincipalName": "ActorUserPrincipalName",
    "homeTenantId": "ActorHomeTenantId",
    "homeTenantName": "ActorHomeTenantName",
}
_APP_COLUMNS = {
    "displayName": "ActorDisplayName",
    "servicePrincipalId": "ActorServicePrincipalId",
    "servicePrincipalName": "ActorServicePrincipalName",
}
# ActorType values that name an application rather than a person.
_APP_ACTOR_TYPES = {"app", "application", "serviceprincipal", "service principal"}


def parse(input_file, layout: str = "csv"):
    for location, row in iter_csv_rows(input_file, required_columns=("Date (UTC)", "Activity")):
        yield record_or_error(input_file, location, row, normalize_portal_csv_row)


def normalize_portal_csv_row(value, *, original: str, location: str):
    row = SourceObject(value, "")
    graph_record, column_of = _graph_record(row)
    content = json.dumps(graph_record, ensure_ascii=False, sort_keys=True)
    graph_record["id"] = ID_PREFIX + hashlib.sha256(content.encode()).hexdigest()
    try:
        return normalize_graph_record(graph_record, original=original, location=location)
    except FieldError as error:
        raise FieldError(column_of.get(error.field, error.field), error.message) from None


def _graph_record(row: SourceObject) -> tuple[dict, dict]:
    """The row as a Graph-shaped record, and which CSV column each Graph field came from."""
    column_of = {"activityDateTime": "Date (UTC)"}
    date_text = row.text("Date (UTC)", max_length=64, required=True)
    record = {"activityDateTime": parse_datetime(date_text, "Date (UTC)").isoformat()}
    for field, column in _EVENT_COLUMNS.items():
        record[field] = row.text(column)
        column_of[field] = column
    record["initiatedBy"] = _initiated_by(row, column_of)
    record["targetResources"] = _targets(row, column_of)
    record["additionalDetails"] = [
        {
            "key": row.text(f"AdditionalDetail{slot}Key"),
            "value": row.text(f"AdditionalDetail{slot}Value"),
        }
        for slot in range(1, ADDITIONAL_DETAIL_SLOTS + 1)
        if row.text(f"AdditionalDetail{slot}Key")
    ]
    return record, column_of


def _initiated_by(row: SourceObject, column_of: dict) -> dict | None:
    actor_type = row.text("ActorType").strip().lower()
    user = {field: row.text(column) or None for field, column in _USER_COLUMNS.items()}
    app = {field: row.text(column) or None for field, column in _APP_COLUMNS.items()}
    is_app = actor_type in _APP_ACTOR_TYPES or (
        not actor_type and not user["id"] and not user["userPrincipalName"] and any(app.values())
    )
    initiated_by = {}
    if is_app:
        initiated_by["app"] = app
        for field, column in _APP_COLUMNS.items():
            column_of[f"initiatedBy.app.{field}"] = column
        user = {}
    elif any(user.values()):
        for field, column in _USER_COLUMNS.items():
            column_of[f"initiatedBy.user.{field}"] = column
    else:
        user = {}
    # The caller's address and agent belong to the request, whoever made it.
    ip_address, user_agent = row.text("IPAddress"), row.text("User Agent")
    if ip_address:
        user["ipAddress"] = ip_address
        column_of["initiatedBy.user.ipAddress"] = "IPAddress"
    if user_agent:
        user["userAgent"] = user_agent
        column_of["initiatedBy.user.userAgent"] = "User Agent"
    if user:
        initiated_by["user"] = user
    return initiated_by or None


def _targets(row: SourceObject, column_of: dict) -> list[dict]:
    targets = []
    for slot in range(1, TARGET_SLOTS + 1):
        prefix = f"Target{slot}"
        target = {
            "type": row.text(f"{prefix}Type"),
            "displayName": row.text(f"{prefix}DisplayName"),
            "id": row.text(f"{prefix}ObjectId"),
            "userPrincipalName": row.text(f"{prefix}UserPrincipalName"),
            "modifiedProperties": _modified_properties(row, prefix),
        }
        if not any(target.values()):
            continue
        path = f"targetResources[{len(targets)}]"
        for field, suffix in (
            ("type", "Type"),
            ("displayName", "DisplayName"),
            ("id", "ObjectId"),
            ("userPrincipalName", "UserPrincipalName"),
        ):
            column_of[f"{path}.{field}"] = f"{prefix}{suffix}"
        targets.append(target)
    return targets


def _modified_properties(row: SourceObject, target_prefix: str) -> list[dict]:
    properties = []
    for slot in range(1, MODIFIED_PROPERTY_SLOTS + 1):
        prefix = f"{target_prefix}ModifiedProperty{slot}"
        name = row.text(f"{prefix}Name")
        old_value = row.text(f"{prefix}OldValue") or None
        new_value = row.text(f"{prefix}NewValue") or None
        if name or old_value is not None or new_value is not None:
            properties.append({"displayName": name, "oldValue": old_value, "newValue": new_value})
    return properties
