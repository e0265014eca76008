"""The one registry of event columns: key → header → value.

The admin changelist, its column chooser and the CSV export all read columns from here, so a
column has one name, one header and one way of being computed. Headers follow the Entra
portal's audit-log list where it has the column.
"""

from collections.abc import Callable
from dataclasses import dataclass

from logs.models import AuditEvent, Initiator


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    value: Callable[[AuditEvent], str]
    default: bool = False
    # The ``ordering`` key (logs.filters.ORDERINGS) the column's header sorts by, if any.
    sort: str | None = None


def target_label(target) -> str:
    return target.display_name or target.user_principal_name or target.object_id or target.type


def targets_text(event: AuditEvent) -> str:
    """Every target, in source order; needs ``targets`` prefetched to stay one query a page."""
    return ", ".join(label for label in map(target_label, event.targets.all()) if label)


def target_types_text(event: AuditEvent) -> str:
    return ", ".join(dict.fromkeys(t.type for t in event.targets.all() if t.type))


def initiator_text(event: AuditEvent) -> str:
    return event.initiator.name if event.initiator else ""


def initiator_kind_text(event: AuditEvent) -> str:
    if event.initiator is None:
        return ""
    return Initiator.Kind(event.initiator.kind).label


def informational_text(event: AuditEvent) -> str:
    """Needs the ``is_informational`` annotation (see AuditEventQuerySet.for_listing)."""
    return "Yes" if getattr(event, "is_informational", False) else "No"


COLUMNS = [
    Column(
        "date",
        "Date (UTC)",
        lambda e: f"{e.activity_datetime:%Y-%m-%d %H:%M:%S}",
        default=True,
        sort="date",
    ),
    Column("service", "Service", lambda e: e.service.name, default=True, sort="service"),
    Column("category", "Category", lambda e: e.category.name, default=True, sort="category"),
    Column("activity", "Activity", lambda e: e.activity.name, default=True, sort="activity"),
    Column("status", "Status", lambda e: e.get_result_display(), default=True, sort="status"),
    Column("targets", "Target(s)", targets_text, default=True),
    Column("initiated_by", "Initiated by (actor)", initiator_text, default=True, sort="initiator"),
    Column("result_reason", "Status reason", lambda e: e.result_reason),
    Column("correlation_id", "Correlation ID", lambda e: e.correlation_id),
    Column("operation_type", "Operation type", lambda e: e.operation_type),
    Column("initiator_type", "Initiator type", initiator_kind_text),
    Column("initiator_ip", "IP address", lambda e: e.initiator_ip_address),
    Column("user_agent", "User agent", lambda e: e.initiator_user_agent),
    Column("target_type", "Target type", target_types_text),
    Column("activity_id", "Activity ID", lambda e: e.entra_id),
    Column("informational", "Informational", informational_text),
]

COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_COLUMN_KEYS = [column.key for column in COLUMNS if column.default]


def known_column_keys(keys) -> list[str]:
    """``keys`` in registry order, unknown ones dropped (a saved choice may outlive a column)."""
    wanted = set(keys)
    return [column.key for column in COLUMNS if column.key in wanted]
