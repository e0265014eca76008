"""Export test helpers: every real sample file, and events compared by their normalised fields."""

from datetime import UTC, datetime, timedelta

from logs.exports.graph_records import directory_audit
from logs.exports.selection import event_rows, event_values
from logs.immutability import retention_purge
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    InitiatorFactory,
    ModifiedPropertyFactory,
    TargetFactory,
)
from tests.support import FIXTURES_DIR

SAMPLE_FILES = sorted(
    str(path.relative_to(FIXTURES_DIR))
    for path in FIXTURES_DIR.rglob("*")
    if path.suffix in {".json", ".csv"}
)


def imported(path) -> None:
    result = import_file(path)
    assert result.ok, result.errors
    assert result.new > 0


def normalised_events() -> list[tuple]:
    """Every stored event as a tuple of its normalised fields, targets and modified properties
    (not the database ids, the import batch, the source format or the original)."""
    events = (
        AuditEvent.objects.select_related("service", "category", "activity", "initiator")
        .prefetch_related("targets__modified_properties")
        .order_by("activity_datetime", "entra_id")
    )
    return [
        (
            event.entra_id,
            event.activity_datetime,
            event.service.name,
            event.category.name,
            event.activity.name,
            event.operation_type,
            event.result,
            event.result_reason,
            event.correlation_id,
            initiator_fields(event.initiator),
            event.initiator_ip_address,
            event.initiator_user_agent,
            event.additional_details,
            tuple(
                (
                    target.position,
                    target.type,
                    target.object_id,
                    target.display_name,
                    target.user_principal_name,
                    target.group_type,
                    tuple(
                        (prop.position, prop.name, prop.old_value, prop.new_value)
                        for prop in target.modified_properties.all()
                    ),
                )
                for target in event.targets.all()
            ),
        )
        for event in events
    ]


def initiator_fields(initiator) -> tuple | None:
    if initiator is None:
        return None
    return (
        initiator.kind,
        initiator.user_object_id,
        initiator.user_display_name,
        initiator.user_principal_name,
        initiator.user_type,
        initiator.home_tenant_id,
        initiator.home_tenant_name,
        initiator.app_id,
        initiator.app_display_name,
        initiator.service_principal_id,
        initiator.service_principal_name,
    )


def served_records(queryset) -> list[dict]:
    """The events of ``queryset``, in its order, as a JSON export and the Graph endpoint's beta
    version serve them."""
    return [directory_audit(row) for row in event_rows(event_values(queryset, with_original=True))]


def purge_all_events() -> None:
    """An empty event table, the only way audit events may be deleted."""
    with retention_purge():
        AuditEvent.objects.all().delete()
    assert not AuditEvent.objects.exists()


# Cell values that CSV writers and spreadsheets get wrong: quotes, line breaks, separators,
# formula triggers, non-ASCII, COPY's NULL marker.
AWKWARD = [
    'said "no", twice',
    "line one\nline two\r\nline three",
    "Zoë, 東京 🚀",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\tindented",
    "\rreturned",
    "'already quoted",
    "",
    '"',
    "\\N",
    "a=b",
]


def awkward_events() -> None:
    start = datetime(2026, 3, 1, 8, 5, 9, tzinfo=UTC)
    for number, text in enumerate(AWKWARD):
        initiator = InitiatorFactory(
            user_display_name=text, user_principal_name=text, home_tenant_name=text
        )
        event = AuditEventFactory(
            activity_datetime=start + timedelta(seconds=number // 2, microseconds=number % 2),
            result_reason=text,
            correlation_id=text,
            initiator=initiator,
            initiator_user_agent=text,
            initiator_ip_address=text,
            additional_details=[
                {"key": text or "empty", "value": text},
                {"key": "null", "value": None},
                {"key": "", "value": "no key: skipped"},
                {"key": None, "value": "null key: skipped"},
            ],
        )
        for position in range(number % 5):
            target = TargetFactory(
                event=event,
                position=position * 2,
                display_name=text,
                user_principal_name=text,
                object_id=text,
                type=text,
            )
            for slot in range(number % 8):
                ModifiedPropertyFactory(
                    target=target,
                    position=slot * 3,
                    name=text,
                    old_value=None if slot % 2 else text,
                    new_value=text if slot % 3 else None,
                )
