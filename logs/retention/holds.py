"""Legal holds: placing and releasing them, and which events they keep from retention.

A hold covers what the shared filters select (``logs.filters.AuditEventFilterSet``, the
API's parameters and the export command's options), or a list of Entra activity ids. Its
filters are applied again at every retention run, so a hold means exactly what the same
filter means in the portal, the API and an export at that moment: events imported later
that match it are held too.

Retention asks two things of the active holds, both answered by the database in one query
(never event by event in Python): which expired events no hold covers (``without_held``:
a ``NOT EXISTS`` per hold added to the selection), and which of a batch about to be deleted
a hold covers now (``held_among``). Both take the holds as they are at that moment, so a hold
placed during a run protects what the run has not deleted yet. ``holds_covering`` answers
per date range, for work that removes a whole range at once.
"""

import json
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q
from django.db.models.expressions import RawSQL

from logs.access_trail import record_access
from logs.api.parameters import unapplied_values
from logs.filters import AuditEventFilterSet
from logs.models import AccessRecord, AuditEvent, LegalHold, LegalHoldRelease
from logs.models.holds import NAME_LENGTH
from logs.retention.ids import id_condition

# Filters a hold cannot take: what they select moves with the clock, or they select nothing.
UNFIT_FILTERS = {
    "period": "A hold needs fixed dates: give since and until, not a period that moves with "
    "the clock.",
    "ordering": "Orders events and selects none; a hold has no order.",
}
HOLD_FILTERS = tuple(name for name in AuditEventFilterSet.base_filters if name not in UNFIT_FILTERS)
ENTRA_ID_LENGTH = AuditEvent._meta.get_field("entra_id").max_length


class HoldError(Exception):
    """A hold that cannot be placed, released or applied; ``errors`` maps each field (a filter
    name, ``event_ids``, ``name``, ``reason``) to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(
            "; ".join(
                f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items()
            )
        )


# -- what a hold covers -----------------------------------------------------------------------
class EntraIdIn(Func):
    """``entra_id`` in a list of any length, as one parameter: a hold may list more ids than
    SQLite takes parameters in one statement."""

    output_field = BooleanField()

    def __init__(self, ids: list[str]):
        super().__init__(F("entra_id"))
        self.ids = list(ids)

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.ids)]

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::text[])", [*params, self.ids]


def events_matching(filters: dict[str, str]):
    """The events ``filters`` select, exactly as the API and ``export_audit_logs`` select
    them; a filter that does not apply is a HoldError naming it."""
    unfit = {name: [UNFIT_FILTERS[name]] for name in filters if name in UNFIT_FILTERS}
    unknown = {
        name: [f"Unknown filter. Known: {', '.join(HOLD_FILTERS)}."]
        for name in filters
        if name not in HOLD_FILTERS and name not in UNFIT_FILTERS
    }
    if unfit or unknown:
        raise HoldError({**unfit, **unknown})
    not_text = {
        name: ["Must be one text value."]
        for name, value in filters.items()
        if not isinstance(value, str) or "\x00" in value
    }
    if not_text:
        raise HoldError(not_text)
    # A hold keeps every event its filters select, duplicates of events from another format
    # included (lists hide them by default; retention must not purge them for that).
    data = filters if "duplicates" in filters else {**filters, "duplicates": "show"}
    filterset = AuditEventFilterSet(data=data, queryset=AuditEvent.objects.all())
    errors = {} if filterset.is_valid() else dict(filterset.errors)
    if not errors:
        errors = unapplied_values(filterset, filters)
    if errors:
        raise HoldError(errors)
    return filterset.qs.order_by()


def covered_events(hold: LegalHold):
    """The stored events ``hold`` covers now."""
    if hold.event_ids:
        return AuditEvent.objects.filter(EntraIdIn(hold.event_ids))
    try:
        return events_matching(hold.filters)
    except HoldError as error:
        # Refused when the hold was placed; should a stored hold no longer apply, retention
        # must stop rather than purge what it was meant to keep.
        raise HoldError(
            {f"legal hold {hold.name!r}": [f"its filters no longer apply ({error})."]}
        ) from None


def active_holds() -> list[LegalHold]:
    return list(LegalHold.objects.active().order_by("id"))


def _is_held(holds: list[LegalHold]):
    """A condition on events: covered by any of ``holds`` (None when there are none)."""
    condition = None
    for hold in holds:
        covered = Exists(covered_events(hold).filter(pk=OuterRef("pk")))
        condition = covered if condition is None else condition | covered
    return condition


def without_held(condition: Q, holds: list[LegalHold]) -> Q:
    """``condition`` less every event one of ``holds`` covers."""
    held = _is_held(holds)
    return condition if held is None else condition & ~held


def kept_back(condition: Q, holds: list[LegalHold]) -> dict[str, int]:
    """For each hold, how many events matching ``condition`` it covers (overlapping holds
    each count an event they share)."""
    return {hold.name: covered_events(hold).filter(condition).count() for hold in holds}


def kept_back_total(condition: Q, holds: list[LegalHold]) -> int:
    """How many events matching ``condition`` any of ``holds`` covers."""
    held = _is_held(holds)
    if held is None:
        return 0
    return AuditEvent.objects.filter(condition).filter(held).order_by().count()


def held_among(ids: list[int], holds: list[LegalHold]) -> set[int]:
    """Which of the events ``ids`` (a batch about to be deleted) ``holds`` cover now."""
    held = _is_held(holds)
    if held is None or not ids:
        return set()
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    selected, parameters = id_condition(f"{table}.id", ids)
    chosen = RawSQL(selected, parameters, output_field=BooleanField())
    return set(AuditEvent.objects.filter(chosen).filter(held).values_list("pk", flat=True))


def holds_covering(since: datetime, until: datetime, holds: list[LegalHold] | None = None):
    """The holds that cover an event dated in ``[since, until)``: a range that none covers
    may be removed whole; one that some hold covers is purged event by event."""
    holds = active_holds() if holds is None else holds
    return [
        hold
        for hold in holds
        if covered_events(hold)
        .filter(activity_datetime__gte=since, activity_datetime__lt=until)
        .exists()
    ]


# -- placing and releasing ---------------------------------------------------------------------
def clean_hold(name: str, reason: str, filters: dict | None, event_ids: list | None) -> dict:
    """The hold's fields, checked: a HoldError names every field that is wrong."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["A hold needs a name."]
    elif "\x00" in name:
        errors["name"] = ["A name cannot hold a NUL character."]
    elif len(name) > NAME_LENGTH:
        errors["name"] = [f"At most {NAME_LENGTH} characters."]
    elif LegalHold.objects.filter(name=name).exists():
        errors["name"] = [f"A hold named {name!r} exists already; names are never reused."]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["A hold needs a reason."]
    elif "\x00" in reason:
        errors["reason"] = ["A reason cannot hold a NUL character."]
    filters = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    ids = _clean_ids(event_ids or [], errors)
    if filters and ids:
        errors["event_ids"] = ["A hold covers filtered events or listed ids, not both."]
    elif not filters and not ids and "event_ids" not in errors:
        errors["filters"] = ["A hold needs at least one filter, or a list of event ids."]
    elif filters:
        try:
            events_matching(filters)
        except HoldError as error:
            errors.update(error.errors)
    if errors:
        raise HoldError(errors)
    return {"name": name, "reason": reason, "filters": filters, "event_ids": ids}


def _clean_ids(event_ids: list, errors: dict) -> list[str]:
    ids = []
    for value in event_ids:
        text = str(value).strip()
        if not text:
            continue
        if len(text) > ENTRA_ID_LENGTH or "\x00" in text:
            errors["event_ids"] = [f"Not an activity id: {text[:80]!r}."]
            return []
        ids.append(text)
    return list(dict.fromkeys(ids))


def place_hold(
    name: str,
    *,
    reason: str,
    filters: dict | None = None,
    event_ids: list | None = None,
    user=None,
    username: str = "",
    request=None,
) -> LegalHold:
    """Check and store a new hold, and leave an access record; ``user`` (or ``username``
    outside a request) is who placed it."""
    hold = LegalHold(**clean_hold(name, reason, filters, event_ids))
    return store_hold(hold, user=user, username=username, request=request)


def store_hold(hold: LegalHold, *, user=None, username: str = "", request=None) -> LegalHold:
    """Store ``hold``, whose fields ``clean_hold`` checked, with who placed it and an access
    record (``covered_now`` says how many stored events it covers)."""
    hold.placed_by = user.get_username() if user is not None else username
    try:
        with transaction.atomic():
            hold.save()
            covered = covered_events(hold).count()
            record_access(
                AccessRecord.Action.LEGAL_HOLD,
                user=user,
                username=hold.placed_by,
                request=request,
                row_count=covered,
                detail={
                    "change": "placed",
                    "hold": hold.name,
                    "reason": hold.reason,
                    "filters": hold.filters,
                    "event_ids": hold.event_ids,
                },
            )
    except IntegrityError:
        # Two placed at once under one name: the second is refused by the unique index.
        raise HoldError({"name": [f"A hold named {hold.name!r} exists already."]}) from None
    hold.covered_now = covered
    return hold


def release_hold(
    name: str, *, reason: str, user=None, username: str = "", request=None
) -> LegalHoldRelease:
    """End the active hold ``name``; the next retention run treats its events normally."""
    reason = (reason or "").strip()
    name = (name or "").strip()
    errors = {}
    # PostgreSQL refuses NUL in text, even in a query: no stored name holds one.
    hold = None if "\x00" in name else LegalHold.objects.filter(name=name).first()
    if hold is None:
        errors["name"] = [f"No hold is named {name!r}."]
    elif not hold.is_active:
        errors["name"] = [f"The hold {hold.name!r} was released already."]
    if not reason:
        errors["reason"] = ["Releasing a hold needs a reason."]
    elif "\x00" in reason:
        errors["reason"] = ["A reason cannot hold a NUL character."]
    if errors:
        raise HoldError(errors)
    released_by = user.get_username() if user is not None else username
    try:
        with transaction.atomic():
            release = LegalHoldRelease.objects.create(
                hold=hold, reason=reason, released_by=released_by
            )
            record_access(
                AccessRecord.Action.LEGAL_HOLD,
                user=user,
                username=released_by,
                request=request,
                detail={"change": "released", "hold": hold.name, "reason": reason},
            )
    except IntegrityError:
        raise HoldError({"name": [f"The hold {hold.name!r} was released already."]}) from None
    return release
