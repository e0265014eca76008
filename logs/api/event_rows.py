"""A page of the event list built from rows: the body ``AuditEventSerializer`` gives the same
events, without a model instance per event or per lookup.

Building the page's events and their four joined lookups as model instances, then reading
them back through the serializer, was most of an API page's Python. Here the page is one query
of the columns the list shape serves (``PAGE_FIELDS``: the event's own, its lookups' names and
its initiator's, joined as ``select_related`` joined them, and the informational flag), read
as dicts by the paginator (``KeysetCursorPagination.paginate_rows``), plus one query of the
page's targets (``targets_by_event``). Each value is turned into what the serializer's field
would make of it:

- text columns hold no NULL (only a missing initiator's are NULL, and then ``initiated_by`` is
  null), so each is its own representation (a CharField's ``str(value)``);
- the date through the serializer's own ``DateTimeField`` (the time zone and ISO format);
- the status is its stored value (a ChoiceField gives back a choice's value, and any other
  value unchanged); the informational flag is the boolean.

The body is a ``PlainBody``, which ``PageJSONRenderer`` writes with orjson.
``tests/api/test_event_rows_bytes.py`` compares it with the serializer's, byte for byte.
"""

from rest_framework import serializers

from logs.api.renderers import PlainBody
from logs.api.serializers import event_link_parts, targets_by_event
from logs.models import Initiator

# The initiator's columns: those ``initiated_by`` serves, and those its display name is made of.
_INITIATOR_COLUMNS = tuple(
    f"initiator__{field}"
    for field in dict.fromkeys(
        (
            "kind",
            "user_principal_name",
            "user_object_id",
            "user_type",
            "home_tenant_id",
            "home_tenant_name",
            "app_id",
            "app_display_name",
            "service_principal_id",
            "service_principal_name",
            *Initiator.SHOWN_NAME_FIELDS,
        )
    )
)
SHOWN_NAME_FIELDS = Initiator.SHOWN_NAME_FIELDS
# What a page reads of each event. The lookups' ids, the date and the id are also what the
# paginator's cursor holds (``ColumnSort.key_of``, the date orderings).
PAGE_FIELDS = (
    "id",
    "entra_id",
    "activity_datetime",
    "service_id",
    "service__name",
    "category_id",
    "category__name",
    "activity_id",
    "activity__name",
    "operation_type",
    "result",
    "result_reason",
    "correlation_id",
    "initiator_id",
    *_INITIATOR_COLUMNS,
    "initiator_ip_address",
    "user_agent__text",  # None: no user agent
    "is_informational",
)
# AuditEventSerializer's date field, as its ModelSerializer builds it (no format, no time zone
# of its own: the settings' and the request's apply).
_DATE = serializers.DateTimeField(read_only=True)


def page_body(rows: list[dict], request, paginator) -> PlainBody:
    """The list's body for the page ``rows`` (dicts of ``PAGE_FIELDS``): the paginator's links
    and the events in the list shape."""
    results = page_results(rows, request)
    return PlainBody(
        next=paginator.get_next_link(), previous=paginator.get_previous_link(), results=results
    )


def page_results(rows: list[dict], request) -> list[dict]:
    """The events ``rows`` as ``AuditEventSerializer`` represents them, in that order."""
    targets = targets_by_event([row["id"] for row in rows])
    date = _DATE.to_representation
    link_start, link_end = event_link_parts(request)
    return [
        {
            "id": row["id"],
            "activity_id": row["entra_id"],
            "activity_datetime": date(row["activity_datetime"]),
            "service": row["service__name"],
            "category": row["category__name"],
            "activity": row["activity__name"],
            "operation_type": row["operation_type"],
            "result": row["result"],
            "result_reason": row["result_reason"],
            "correlation_id": row["correlation_id"],
            "initiated_by": None if row["initiator_id"] is None else _initiated_by(row),
            "targets": targets[row["id"]],
            "informational": bool(row["is_informational"]),
            "links": {"self": f"{link_start}{row['id']}{link_end}"},
        }
        for row in rows
    ]


def _initiated_by(row: dict) -> dict:
    """``InitiatedBySerializer``'s representation, for an event that has an initiator."""
    return {
        "type": row["initiator__kind"],
        "display_name": _display_name(row),
        "user_principal_name": row["initiator__user_principal_name"],
        "user_object_id": row["initiator__user_object_id"],
        "user_type": row["initiator__user_type"],
        "home_tenant_id": row["initiator__home_tenant_id"],
        "home_tenant_name": row["initiator__home_tenant_name"],
        "app_id": row["initiator__app_id"],
        "app_display_name": row["initiator__app_display_name"],
        "service_principal_id": row["initiator__service_principal_id"],
        "service_principal_name": row["initiator__service_principal_name"],
        "ip_address": row["initiator_ip_address"],
        "user_agent": row["user_agent__text"] or "",
    }


def _display_name(row: dict) -> str:
    """The serializer's ``display_name`` (``serializers._initiator_display_name``), from the
    row: a user's display name, an application's, else the shown name (the system's)."""
    kind = row["initiator__kind"]
    if kind == Initiator.Kind.USER:
        return row["initiator__user_display_name"]
    if kind == Initiator.Kind.APP:
        return row["initiator__app_display_name"] or row["initiator__service_principal_name"]
    return Initiator.shown_name(*(row[f"initiator__{field}"] for field in SHOWN_NAME_FIELDS))
