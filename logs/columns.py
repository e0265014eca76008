"""The one registry of event columns: key → header → value.

The admin changelist, its column chooser and the CSV export all read columns from here, so a
column has one name, one header and one way of being computed. Headers follow the Entra
portal's audit-log list where it has the column.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

from logs.display_time import current_display_zone, time_html
from logs.models import AuditEvent, Initiator
from logs.models.events import LISTED_TARGETS


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    value: Callable[[AuditEvent], str]
    default: bool = False
    # The ``ordering`` key (logs.filters.ORDERINGS) the column's header sorts by, if any.
    sort: str | None = None
    # What the changelist shows, as HTML, where it is more than the value (which CSV writes).
    display: Callable[[AuditEvent], str] | None = None


# Where a name without spaces may wrap: before "@" and after "." in a user principal name's
# local part ("alex.wilber" / "@contoso.com", never "@contoso." / "com"); after "." and "_"
# elsewhere (exception names, record ids); after "-" between the groups of a GUID; never inside
# a word.
_BREAK_POINTS = re.compile(r"(?<=[._])(?=[^\s@])|(?<=-)(?=[0-9a-fA-F])")
# Entra's identifiers join words in CamelCase ("ApplicationManagement",
# "ObjectAlreadyExistsException"); they may also wrap between those words. Never applied to
# people's or groups' names ("McDonald").
_CAMEL_CASE_BREAK_POINTS = re.compile(_BREAK_POINTS.pattern + r"|(?<=[a-z])(?=[A-Z])")
_USER_PRINCIPAL_NAME = re.compile(r"([^\s@,]+)(@[^\s@,]+)")


# Kept per process: a page shows the same categories, reasons, initiators and targets row
# after row and page after page, and the markup of a text never changes.
@functools.lru_cache(maxsize=8192)
def breakable(text: str, camel_case: bool = False) -> str:
    """``text`` as HTML that wraps, if at all, at the points above: ``alex.wilber@contoso.com``
    breaks as "alex.wilber" / "@contoso.com", never "alex.wil" / "ber@..." (a browser left to
    itself breaks a long word anywhere, or not at all)."""
    points = _CAMEL_CASE_BREAK_POINTS if camel_case else _BREAK_POINTS
    pieces = []
    position = 0
    for upn in _USER_PRINCIPAL_NAME.finditer(text):
        pieces.append(_with_breaks(text[position : upn.start()], points))
        pieces.append(f"{_with_breaks(upn.group(1), points)}<wbr>{escape(upn.group(2))}")
        position = upn.end()
    pieces.append(_with_breaks(text[position:], points))
    return mark_safe("".join(pieces))


def _with_breaks(text: str, points: re.Pattern) -> str:
    return "<wbr>".join(escape(part) for part in points.split(text))


def target_label(target) -> str:
    return target.display_name or target.user_principal_name or target.object_id or target.type


def event_targets(event: AuditEvent):
    """The event's targets in source order: the list ``with_listed_targets()`` loaded, else
    ``targets.all()`` (prefetched by ``for_listing()`` to stay one query a page)."""
    listed = event.__dict__.get(LISTED_TARGETS)
    return listed if listed is not None else event.targets.all()


def targets_text(event: AuditEvent) -> str:
    """Every target, in source order."""
    return ", ".join(label for label in map(target_label, event_targets(event)) if label)


def target_types_text(event: AuditEvent) -> str:
    return ", ".join(dict.fromkeys(t.type for t in event_targets(event) if t.type))


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
        display=lambda e: time_html(e.activity_datetime, current_display_zone()),
    ),
    Column("service", "Service", lambda e: e.service.name, default=True, sort="service"),
    Column(
        "category",
        "Category",
        lambda e: e.category.name,
        default=True,
        sort="category",
        display=lambda e: breakable(e.category.name, camel_case=True),
    ),
    Column("activity", "Activity", lambda e: e.activity.name, default=True, sort="activity"),
    Column("status", "Status", lambda e: e.get_result_display(), default=True, sort="status"),
    # Shown by default, as in the Entra list: a failure says why without a click.
    Column(
        "result_reason",
        "Status reason",
        lambda e: e.result_reason,
        default=True,
        display=lambda e: breakable(e.result_reason, camel_case=True),
    ),
    Column(
        "targets",
        "Target(s)",
        targets_text,
        default=True,
        display=lambda e: breakable(targets_text(e)),
    ),
    Column(
        "initiated_by",
        "Initiated by (actor)",
        initiator_text,
        default=True,
        sort="initiator",
        display=lambda e: breakable(initiator_text(e)),
    ),
    Column(
        "correlation_id",
        "Correlation ID",
        lambda e: e.correlation_id,
        display=lambda e: breakable(e.correlation_id),
    ),
    Column("operation_type", "Operation type", lambda e: e.operation_type),
    Column("initiator_type", "Initiator type", initiator_kind_text),
    Column("initiator_ip", "IP address", lambda e: e.initiator_ip_address),
    Column(
        "user_agent",
        "User agent",
        lambda e: e.initiator_user_agent,
        display=lambda e: breakable(e.initiator_user_agent),
    ),
    Column("target_type", "Target type", target_types_text),
    Column(
        "activity_id", "Activity ID", lambda e: e.entra_id, display=lambda e: breakable(e.entra_id)
    ),
    Column("informational", "Informational", informational_text),
]

COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_COLUMN_KEYS = [column.key for column in COLUMNS if column.default]


def known_column_keys(keys) -> list[str]:
    """``keys`` in registry order, unknown ones dropped (a saved choice may outlive a column)."""
    wanted = set(keys)
    return [column.key for column in COLUMNS if column.key in wanted]
