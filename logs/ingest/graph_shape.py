"""Normalising one Graph-shaped ``directoryAudit`` record into an AuditRecord.

Graph, the portal's JSON download, Azure Monitor's ``properties`` and auditportal's own NDJSON all
carry this shape, so they share this one function. Field names follow Microsoft Graph v1.0
(directoryAudit, targetResource, modifiedProperty, auditActivityInitiator).
"""

from logs.ingest.activity_dates import plausible_activity_datetime
from logs.ingest.errors import FieldError
from logs.ingest.notes import Notes
from logs.ingest.records import (
    AuditRecord,
    InitiatorRecord,
    ModifiedPropertyRecord,
    TargetRecord,
)
from logs.ingest.values import SourceObject

ZERO_GUID = "00000000-0000-0000-0000-000000000000"

RESULTS = {
    "success": "success",
    "failure": "failure",
    "timeout": "timeout",
    "unknownfuturevalue": "unknownFutureValue",
    # Words real exports use for the same results (case does not matter).
    "failed": "failure",
}
# Graph's operationResult enumeration gives its members these numbers (its $metadata), which
# Azure Monitor's audit-log schema examples write in place of the names.
RESULT_NUMBERS = {0: "success", 1: "failure", 2: "timeout", 3: "unknownFutureValue"}
KNOWN_RESULTS = "success, failure, timeout, unknownFutureValue"

# Entra puts the caller's user agent in additionalDetails rather than in initiatedBy.
USER_AGENT_DETAIL_KEYS = {"user-agent", "useragent", "user agent"}

ID_LENGTH = 256
# Services, categories and activities are lookup rows whose names the database holds in 256
# characters (PostgreSQL refuses more; SQLite would store it).
LOOKUP_NAME_LENGTH = 256
NAME_LENGTH = 512
LONG_NAME_LENGTH = 1024
SHORT_LENGTH = 64
# PostgreSQL indexes a target's type, id and display name together (logs.models.Target), and an
# index entry takes at most 2,704 bytes (the event's ids and date use some): a longer one fails
# the insert. In characters the limits allow four times as many bytes as that.
TARGET_INDEXED_BYTES = 2_400


def normalize_graph_record(
    value, *, original: str, location: str, path: str = "", notes: Notes | None = None
) -> AuditRecord:
    """Raise FieldError (naming the field) if the record has no id or no usable activity date,
    or (strict mode) if any value does not fit; otherwise values that do not fit are stored as
    empty with a note (logs.ingest.notes).

    ``path`` says where the Graph-shaped object sits in the source record (Azure Monitor nests
    it under ``properties``), so that errors name the field as the file spells it. ``notes``
    may already hold what the caller noted about the record's outer layers.
    """
    if notes is None:
        notes = Notes()
    record = SourceObject(value, path, notes=notes)
    additional_details = _additional_details(record)
    initiator, ip_address, user_agent = _initiator(record.obj("initiatedBy"))
    return AuditRecord(
        entra_id=record.text("id", max_length=ID_LENGTH, required=True),
        activity_datetime=plausible_activity_datetime(
            record.datetime("activityDateTime"), record.field_path("activityDateTime")
        ),
        service=record.text("loggedByService", max_length=LOOKUP_NAME_LENGTH),
        category=record.text("category", max_length=LOOKUP_NAME_LENGTH),
        activity=record.text("activityDisplayName", max_length=LOOKUP_NAME_LENGTH),
        operation_type=record.text("operationType", max_length=SHORT_LENGTH),
        result=_result(record),
        result_reason=record.text("resultReason"),
        correlation_id=record.text("correlationId", max_length=SHORT_LENGTH),
        initiator=initiator,
        initiator_ip_address=ip_address,
        # Beta's directoryAudit carries the user agent as a property of its own; v1.0 in
        # additionalDetails; auditportal's own rebuilt records once wrote it in initiatedBy.user.
        initiator_user_agent=record.text("userAgent")
        or user_agent
        or _user_agent_detail(additional_details),
        additional_details=additional_details,
        targets=_targets(record),
        original=original,
        location=location,
        notes=notes.items,
    )


def _result(record: SourceObject) -> str:
    value = record.raw("result")
    if type(value) is int and value in RESULT_NUMBERS:
        result = RESULT_NUMBERS[value]
        record.note(
            "result",
            f"expected a string, got a number; read as {result!r}, the member numbered {value} "
            "in Graph's operationResult",
            value,
        )
        return result
    if value is None or value == "":
        return ""
    if type(value) is str:
        result = RESULTS.get(value.strip().lower())
        if result is not None:
            return result
    message = f"{value!r} is not a known result ({KNOWN_RESULTS})"
    if record.notes is None or record.notes.strict:
        raise FieldError(record.field_path("result"), message)
    record.note("result", message + "; stored as unknown", value)
    return ""


def _identifies(*values: str) -> bool:
    return any(value and value != ZERO_GUID for value in values)


def _initiator(initiated_by: SourceObject | None):
    """(InitiatorRecord or None, IP address, user agent) from ``initiatedBy``.

    Entra writes a user with a zero GUID and null names when no person acted; that is the
    system, not a user. ``None`` means the source named no initiator at all.
    """
    if initiated_by is None:
        return None, "", ""
    user = initiated_by.obj("user")
    app = initiated_by.obj("app")
    ip_address = user_agent = ""
    if user is not None:
        ip_address = user.text("ipAddress", max_length=SHORT_LENGTH)
        user_agent = user.text("userAgent")
        user_fields = {
            "user_object_id": user.text("id", max_length=SHORT_LENGTH),
            "user_display_name": user.text("displayName", max_length=NAME_LENGTH),
            "user_principal_name": user.text("userPrincipalName", max_length=NAME_LENGTH),
            "user_type": user.text("userType", max_length=SHORT_LENGTH),
            "home_tenant_id": user.text("homeTenantId", max_length=SHORT_LENGTH),
            "home_tenant_name": user.text("homeTenantName", max_length=NAME_LENGTH),
        }
    else:
        user_fields = {}
    if app is not None:
        app_fields = {
            "app_id": app.text("appId", max_length=SHORT_LENGTH),
            "app_display_name": app.text("displayName", max_length=NAME_LENGTH),
            "service_principal_id": app.text("servicePrincipalId", max_length=SHORT_LENGTH),
            "service_principal_name": app.text("servicePrincipalName", max_length=NAME_LENGTH),
        }
    else:
        app_fields = {}
    if _identifies(
        user_fields.get("user_object_id", ""),
        user_fields.get("user_display_name", ""),
        user_fields.get("user_principal_name", ""),
    ):
        kind = "user"
    elif _identifies(*app_fields.values()):
        kind = "app"
    else:
        if user is None and app is None:
            return None, ip_address, user_agent
        kind = "system"
    return InitiatorRecord(kind=kind, **user_fields, **app_fields), ip_address, user_agent


def derived_rows(value) -> tuple[list[TargetRecord], list]:
    """The targets and additional details ``normalize_graph_record`` derives from a record (at
    the top of it, as Graph-shaped formats have it), by the same functions, without the rest.

    Verification (logs.derived_rows) compares these with the stored rows; for the records it
    reads they are all it needs, and the rest of the record is most of the normalising time.
    A record the import stored normalises without error, so these are what it derived."""
    record = SourceObject(value, "", notes=Notes(strict=False))
    return _targets(record), _additional_details(record)


def _targets(record: SourceObject) -> list[TargetRecord]:
    return [_target(target) for target in record.objects("targetResources")]


def _target(target: SourceObject) -> TargetRecord:
    record = _target_record(target)
    indexed = (record.type, record.object_id, record.display_name)
    if sum(map(len, indexed)) * 4 > TARGET_INDEXED_BYTES:  # UTF-8 takes 4 bytes at most
        size = sum(len(text.encode("utf-8")) for text in indexed)
        if size > TARGET_INDEXED_BYTES:
            target.note(
                "displayName",
                f"with the target's type and id takes {size:,} bytes of UTF-8; the database "
                f"indexes at most {TARGET_INDEXED_BYTES:,}; stored as empty",
                record.display_name,
            )
            record.display_name = ""
    return record


def _target_record(target: SourceObject) -> TargetRecord:
    return TargetRecord(
        type=target.text("type", max_length=SHORT_LENGTH),
        object_id=target.text("id", max_length=ID_LENGTH),
        display_name=target.text("displayName", max_length=LONG_NAME_LENGTH),
        user_principal_name=target.text("userPrincipalName", max_length=NAME_LENGTH),
        group_type=target.text("groupType", max_length=SHORT_LENGTH),
        modified_properties=[
            ModifiedPropertyRecord(
                name=prop.text("displayName", max_length=NAME_LENGTH),
                old_value=prop.nullable_text("oldValue"),
                new_value=prop.nullable_text("newValue"),
            )
            for prop in target.objects("modifiedProperties")
        ],
    )


def _additional_details(record: SourceObject) -> list:
    details = record.objects("additionalDetails")
    return [
        {"key": detail.text("key", max_length=NAME_LENGTH), "value": detail.nullable_text("value")}
        for detail in details
    ]


def _user_agent_detail(details: list) -> str:
    for detail in details:
        if detail["key"].lower() in USER_AGENT_DETAIL_KEYS and detail["value"]:
            return detail["value"]
    return ""
