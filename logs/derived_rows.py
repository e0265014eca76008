"""Verifying the rows an import derives from each event's original record.

The hash chain (logs.integrity) covers an event's columns and its ``original``, the record as
the source sent it. What import derives from that record is stored beside it: the event's
``additional_details``, its ``Target`` rows (type, object id, display name, user principal
name, group type, plus copies of the event's date, activity, result and service) and their
``ModifiedProperty`` rows (name, old value, new value). The portal shows all of these (the
detail page's "old → new" values), so a change to them made around auditportal must be found
as surely as a change to the event.

Derived rows are not hashed into the chain: ``additional_details`` is jsonb on PostgreSQL,
which reorders keys, and hashing targets would tie the chain's record to a second layout of
the same facts. Instead verification derives them again, from the chained ``original`` and
``source_format``, with the very normaliser the import used (``NORMALISERS``; for the
Graph-shaped formats, the part of it that derives targets and details,
``graph_shape.derived_rows``), and compares with what is stored: a row changed, added or
deleted is a difference from what the chained record says. A normaliser is pure (the record
in, the normalised record out, no database), so the derivation gives today what it gave at
import, with two exceptions handled here: strict mode is switched off (a record stored under
it re-reads the same without it: strict mode only refuses records), and the activity-date
bounds are lifted (they depend on the clock and the settings, the stored date is chained
anyway, and the bounds do not affect what is derived).

A change to a normaliser that alters what it derives from records already stored shows up
here as a difference on those events: such a change must come with a migration that rewrites
the derived rows it affects, as the import would write them now.

The check runs chunk by chunk while the chain is walked (``DerivedRowsCheck.check_chunk``): for
one chunk of events, the targets and the modified properties are read in one query each, over
the range of the chunk's event ids (events are stored in id order along the chain, which the
walk checks), so memory stays bounded by the chunk whatever the number of events.
"""

import contextlib
from dataclasses import dataclass, field

import orjson
from django.db import connection

from logs.ingest.activity_dates import any_activity_date
from logs.ingest.errors import FieldError
from logs.ingest.formats import graph, ndjson, portal_json
from logs.ingest.formats.azure_monitor import NAME as AZURE_MONITOR
from logs.ingest.formats.azure_monitor import normalize_azure_monitor_record
from logs.ingest.formats.log_analytics import NAME as LOG_ANALYTICS
from logs.ingest.formats.log_analytics import normalize_log_analytics_row
from logs.ingest.formats.portal_csv import NAME as PORTAL_CSV
from logs.ingest.formats.portal_csv import normalize_portal_csv_row
from logs.ingest.graph_shape import derived_rows as graph_derived_rows
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.notes import strictness
from logs.ingest.records import TargetRecord

# source_format → the function its parser normalises each parsed item with (the parsers hand
# it to record_or_error); every format the import reads is here (tests check it).
NORMALISERS = {
    graph.NAME: normalize_graph_record,
    portal_json.NAME: normalize_graph_record,
    ndjson.NAME: normalize_graph_record,
    PORTAL_CSV: normalize_portal_csv_row,
    AZURE_MONITOR: normalize_azure_monitor_record,
    LOG_ANALYTICS: normalize_log_analytics_row,
}
# The formats whose items normalize_graph_record reads as they are: their targets and details
# come from graph_shape.derived_rows, the part of it that derives them.
GRAPH_SHAPED = {
    name for name, normalise in NORMALISERS.items() if normalise is normalize_graph_record
}

# How many of the events with a difference a finding names (and then how many there are).
EVENTS_NAMED = 5

# A target's own columns, as TargetRecord names them, in the order the query reads them.
TARGET_FIELDS = ("type", "object_id", "display_name", "user_principal_name", "group_type")
# The event's columns a target copies (Target.event_datetime), by the target's column name.
TARGET_COPIES = ("event_datetime", "event_activity", "event_result", "event_service")
TARGET_COLUMNS = TARGET_FIELDS + TARGET_COPIES
PROPERTY_FIELDS = ("name", "old_value", "new_value")


class Underivable(Exception):
    """The original record can no longer be read the way the import read it."""


def derive(source_format: str, original: str) -> tuple[list[TargetRecord], list]:
    """The targets and additional details the import derived from ``original`` (stored from a
    file of ``source_format``)."""
    with rederiving():
        return _derive(source_format, original)


@contextlib.contextmanager
def rederiving():
    """Normalise as the import did, whatever the mode and the date bounds now (see above)."""
    with strictness(False), any_activity_date():
        yield


def _derive(source_format: str, original: str) -> tuple[list[TargetRecord], list]:
    """``derive`` without its context, entered once per chunk (see ``rederiving``)."""
    normalise, item = _normaliser_and_item(source_format, original)
    try:
        if source_format in GRAPH_SHAPED:
            return graph_derived_rows(item)
        record = normalise(item, original=original, location="the original record")
    except FieldError as error:
        raise Underivable(f"{error.field}: {error.message}") from None
    return record.targets, record.additional_details


def rederived_record(source_format: str, original: str):
    """The whole record the import normalised from ``original``, as ``derive`` reads it: for
    the fingerprints (logs.ingest.fingerprints) of events stored before they were kept."""
    normalise, item = _normaliser_and_item(source_format, original)
    with rederiving():
        try:
            return normalise(item, original=original, location="the original record")
        except FieldError as error:
            raise Underivable(f"{error.field}: {error.message}") from None


def _normaliser_and_item(source_format: str, original: str):
    """The normaliser of ``source_format`` and the item ``original`` holds."""
    normalise = NORMALISERS.get(source_format)
    if normalise is None:
        raise Underivable(f"no parser reads the source format {source_format!r}")
    try:
        # The parsers stored orjson's text of the item they parsed (json_stream.to_original), so
        # reading it back gives that item: the same keys in the same order, the same numbers.
        return normalise, orjson.loads(original)
    except orjson.JSONDecodeError as error:
        raise Underivable(f"the original is not JSON ({error})") from None


@dataclass
class DerivedMismatch:
    """One kind of difference between stored derived rows and what the originals give."""

    kind: str  # "modified", "inserted", "missing" (as chain breaks say), or "unreadable"
    field: str  # e.g. "target display_name", "modified property", "additional_details"
    event_ids: list[int] = field(default_factory=list)
    events: int = 0
    reason: str = ""  # for "unreadable": why the first original could not be read

    def add(self, event_id: int, reason: str = "") -> None:
        if self.events < EVENTS_NAMED:
            self.event_ids.append(event_id)
        if not self.events:
            self.reason = reason
        self.events += 1

    def __str__(self):
        ids = ", ".join(str(pk) for pk in self.event_ids)
        more = ", ..." if self.events > len(self.event_ids) else ""
        where = f"{self.events} event{'s' if self.events != 1 else ''} (event ids {ids}{more})"
        if self.kind == "modified":
            problem = (
                f"the {self.field} stored does not match what the event's original record gives: "
                "it was changed outside auditportal"
            )
        elif self.kind == "inserted":
            problem = (
                f"a {self.field} is stored that the event's original record does not hold: it "
                "was added outside auditportal"
            )
        elif self.kind == "missing":
            problem = (
                f"a {self.field} that the event's original record holds is not stored: it was "
                "deleted outside auditportal"
            )
        else:
            problem = (
                "the original record can no longer be read as the import read it "
                f"({self.reason}), so its targets, modified properties and details are unchecked"
            )
        return f"{self.kind}: {where}: {problem}"


@dataclass
class ChunkEvent:
    """What the check needs of one event, read by the chain walk."""

    pk: int
    moment: str  # the activity date as the chain record holds it
    service_id: int
    activity_id: int
    result: str
    source_format: str
    original: str
    additional_details: str  # JSON text


class DerivedRowsCheck:
    """Compares, chunk by chunk, the stored derived rows with what the originals give.

    Differences are collected (not stopped at): each kind is reported with the first event ids
    and how many events have it. Memory holds one chunk's rows and a few ids per kind."""

    def __init__(self):
        self.found: dict[tuple[str, str], DerivedMismatch] = {}
        self.targets = 0
        self.properties = 0
        self._targets_sql, self._properties_sql = _derived_rows_sql()

    @property
    def mismatches(self) -> list[DerivedMismatch]:
        return list(self.found.values())

    def _found(self, kind: str, name: str, event_id: int, reason: str = "") -> None:
        mismatch = self.found.get((kind, name))
        if mismatch is None:
            mismatch = self.found[kind, name] = DerivedMismatch(kind, name)
        mismatch.add(event_id, reason)

    def check_chunk(self, events: list[ChunkEvent]) -> None:
        """Check the derived rows of ``events`` (in id order, as the chain walk reads them)."""
        if not events:
            return
        targets, properties = self._read(events[0].pk, events[-1].pk)
        differing = []
        with rederiving():
            for event in events:
                differences = self._compare(event, targets.get(event.pk, []), properties)
                if differences:
                    differing.append((event, differences))
        if differing:
            # A purge that committed between reading the events and their targets took both:
            # an event no longer stored is the chain's to account for, not a difference here.
            stored = _stored_event_ids(events[0].pk, events[-1].pk)
            for event, differences in differing:
                if event.pk in stored:
                    for kind, name, reason in differences:
                        self._found(kind, name, event.pk, reason)

    def _read(self, first: int, last: int) -> tuple[dict, dict]:
        """event id → its target rows, and target id → {position: property row}."""
        with connection.cursor() as cursor:
            cursor.execute(self._targets_sql, [first, last])
            target_rows = cursor.fetchall()
            cursor.execute(self._properties_sql, [first, last])
            property_rows = cursor.fetchall()
        targets: dict[int, list] = {}
        for row in target_rows:
            targets.setdefault(row[0], []).append(row)
        properties: dict[int, dict] = {}
        for target_id, position, *values in property_rows:
            properties.setdefault(target_id, {})[position] = tuple(values)
        self.targets += len(target_rows)
        self.properties += len(property_rows)
        return targets, properties

    def _compare(self, event: ChunkEvent, stored_targets: list, properties: dict) -> list:
        """The differences of one event: (kind, field, reason) each, at most once per kind.

        Rows are compared whole first (most are equal), field by field only when they differ."""
        try:
            targets, details = _derive(event.source_format, event.original)
        except Underivable as error:
            return [("unreadable", "original", str(error))]
        differences = {}  # (kind, field) → None: a set that keeps the order found
        if _details(event.additional_details) != details:
            differences["modified", "additional_details"] = None
        copies = (event.moment, event.activity_id, event.result, event.service_id)
        by_position = {row[1]: row for row in stored_targets}
        for position, target in enumerate(targets):
            row = by_position.pop(position, None)
            if row is None:
                differences["missing", "target"] = None
                continue
            derived = (
                target.type,
                target.object_id,
                target.display_name,
                target.user_principal_name,
                target.group_type,
                *copies,
            )
            stored = row[3:]
            if derived != stored:
                for name, mine, theirs in zip(TARGET_COLUMNS, derived, stored, strict=True):
                    if mine != theirs:
                        differences["modified", f"target {name}"] = None
            stored_properties = properties.get(row[2], _NONE)
            matched = 0
            for index, prop in enumerate(target.modified_properties):
                stored = stored_properties.get(index)
                if stored is None:
                    differences["missing", "modified property"] = None
                    continue
                matched += 1
                derived = (prop.name, prop.old_value, prop.new_value)
                if derived != stored:
                    for name, mine, theirs in zip(PROPERTY_FIELDS, derived, stored, strict=True):
                        if mine != theirs:
                            differences["modified", f"modified property {name}"] = None
            # Positions are unique per target: any stored beyond those matched were added.
            if len(stored_properties) > matched:
                differences["inserted", "modified property"] = None
        if by_position:
            differences["inserted", "target"] = None
        return [(kind, name, "") for kind, name in differences]


_NONE: dict = {}


def _details(stored: str) -> object:
    """The stored ``additional_details`` (JSON text, as both drivers return jsonb and text here)
    as a Python value; None if it is not JSON."""
    try:
        return orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None


def utc_text_sql(column: str) -> str:
    """SQL giving ``column`` (a date-time) as the chain record writes dates (chain_datetime)."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    # Django stores "YYYY-MM-DD HH:MM:SS" on SQLite, then ".ffffff" unless it is 0.
    return f"substr({column}, 1, 19) || '.' || substr(substr({column}, 21) || '000000', 1, 6)"


def _derived_rows_sql() -> tuple[str, str]:
    """The targets, and the modified properties, of the events with ids in a range; each query
    reads its table through its (event, position) or (target, position) index."""
    fields = ", ".join(f"target.{name}" for name in TARGET_FIELDS)
    targets = (
        f"SELECT target.event_id, target.position, target.id, {fields}, "
        f"{utc_text_sql('target.event_datetime')}, target.event_activity_id, "
        "target.event_result, target.event_service_id "
        "FROM logs_target AS target WHERE target.event_id BETWEEN %s AND %s"
    )
    properties = (
        "SELECT prop.target_id, prop.position, prop.name, prop.old_value, prop.new_value "
        "FROM logs_modifiedproperty AS prop JOIN logs_target AS target "
        "ON target.id = prop.target_id WHERE target.event_id BETWEEN %s AND %s"
    )
    return targets, properties


def _stored_event_ids(first: int, last: int) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM logs_auditevent WHERE id BETWEEN %s AND %s", [first, last])
        return {row[0] for row in cursor.fetchall()}
