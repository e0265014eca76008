"""CSV exports, in two shapes, with spreadsheet formulas neutralised.

**Portal form** (``PORTAL_HEADER``): exactly the columns of the Entra admin center's own
*Download → CSV* (86 of them: the event, the actor, ``Target1..3`` each with
``ModifiedProperty1..5``, ``AdditionalDetail1..6``), filled the way the portal fills them, so
``import_audit_logs`` reads the file back as ``portal-csv`` and tools built for the portal's
download read it too. It is the default CSV of the command and the API. What the portal's CSV
cannot carry (operation type, app id, user type, a fourth target, a sixth modified property, a
seventh additional detail, null apart from "") it does not carry here either.

**Chosen columns** (``columns=`` in the API, ``--columns`` in the command, and the portal's
*Download* button, which uses the columns the user chose for the changelist): one column per key
of ``logs.columns``, under the header and with the value the changelist shows, so the file
matches the screen.

Both are UTF-8 with a byte-order mark (as the portal writes, and so that Excel reads UTF-8),
one header row, every cell quoted, CRLF line ends (RFC 4180).

**Formula neutralisation.** A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by Excel, LibreOffice and Google Sheets, and display names,
user agents and property values are attacker-controlled in Entra (anyone may name themselves
``=HYPERLINK(...)``). Such a cell is written with a leading apostrophe (OWASP's advice):
spreadsheets show the text, not a result. This applies to every CSV the portal and the API
serve, in both shapes, and to the command's by default. The importer reads an apostrophe as
part of the value, so a neutralised cell imports with it; for an exact round trip through CSV,
the command's ``--keep-formulas`` writes cells unchanged (its output is then for programs, not
spreadsheets). JSON and NDJSON, the archive formats, are never altered.
"""

import csv
import io

import orjson
from django.db.models import Case, F, Func, Q, TextField, Value, When
from django.db.models.functions import Cast, Coalesce

from logs.columns import COLUMNS_BY_KEY
from logs.exports.graph_records import GraphDateTime, parse_graph_datetime
from logs.exports.selection import iter_value_chunks, targets_by_event
from logs.models.events import query_additional_details, query_user_agent

BYTE_ORDER_MARK = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

TARGET_SLOTS = 3
MODIFIED_PROPERTY_SLOTS = 5
ADDITIONAL_DETAIL_SLOTS = 6

EVENT_HEADER = [
    "Date (UTC)",
    "CorrelationId",
    "Service",
    "Category",
    "Activity",
    "Result",
    "ResultReason",
    "User Agent",
    "ActorType",
    "ActorDisplayName",
    "ActorObjectId",
    "ActorUserPrincipalName",
    "IPAddress",
    "ActorHomeTenantId",
    "ActorHomeTenantName",
    "ActorServicePrincipalId",
    "ActorServicePrincipalName",
]
PORTAL_HEADER = [
    *EVENT_HEADER,
    *(
        name
        for target in range(1, TARGET_SLOTS + 1)
        for name in (
            f"Target{target}Type",
            f"Target{target}DisplayName",
            f"Target{target}ObjectId",
            f"Target{target}UserPrincipalName",
            *(
                f"Target{target}ModifiedProperty{slot}{part}"
                for slot in range(1, MODIFIED_PROPERTY_SLOTS + 1)
                for part in ("Name", "OldValue", "NewValue")
            ),
        )
    ),
    *(
        f"AdditionalDetail{slot}{part}"
        for slot in range(1, ADDITIONAL_DETAIL_SLOTS + 1)
        for part in ("Key", "Value")
    ),
]


def neutralise(cell):
    """The cell as a spreadsheet shows it as text, never runs it."""
    return "'" + cell if isinstance(cell, str) and cell[:1] in FORMULA_TRIGGERS else cell


class Neutralised(Func):
    """:func:`neutralise` done by the database, for the cells an export reads ready-made.

    Written as one CASE rather than Django's Case/When/Left/Concat: the export compiles its
    queries once a chunk, and those expression trees cost more to compile than to run.
    """

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        cell, params = compiler.compile(self.source_expressions[0])
        triggers = ", ".join(["%s"] * len(FORMULA_TRIGGERS))
        sql = f"CASE WHEN substr({cell}, 1, 1) IN ({triggers}) THEN '''' || {cell} ELSE {cell} END"
        return sql, (*params, *FORMULA_TRIGGERS, *params, *params)

    def as_postgresql(self, compiler, connection, **extra):
        # The first character's code point, compared as a number: no text made per cell.
        cell, params = compiler.compile(self.source_expressions[0])
        triggers = ", ".join(str(ord(trigger)) for trigger in FORMULA_TRIGGERS)
        sql = f"CASE WHEN ascii({cell}) IN ({triggers}) THEN '''' || {cell} ELSE {cell} END"
        return sql, (*params, *params, *params)


# The portal's actor: a user or an app as the initiator's kind says; an initiator of another
# kind that names an app and no user is shown as that app; no initiator, no actor.
_ACTOR_IS_APP = Q(initiator__kind="app") | (
    Q(initiator__kind__isnull=False)
    & ~Q(initiator__kind="user")
    & Q(initiator__user_object_id="")
    & Q(initiator__app_display_name__gt="")
)
# The event's cells of the portal form (EVENT_HEADER after the date), as the database writes them.
_EVENT_CELLS = [
    F("correlation_id"),
    F("service__name"),
    F("category__name"),
    F("activity__name"),
    F("result"),
    F("result_reason"),
    # Without an initiator the importer takes the user agent from additionalDetails.
    Case(
        When(initiator__isnull=True, then=Value("")),
        default=query_user_agent(),
        output_field=TextField(),
    ),
    Case(
        When(initiator__kind="user", then=Value("User")),
        When(_ACTOR_IS_APP, then=Value("Application")),
        default=Value(""),
        output_field=TextField(),
    ),
    Case(
        When(_ACTOR_IS_APP, then=F("initiator__app_display_name")),
        default=F("initiator__user_display_name"),
        output_field=TextField(),
    ),
    F("initiator__user_object_id"),
    F("initiator__user_principal_name"),
    F("initiator_ip_address"),
    F("initiator__home_tenant_id"),
    F("initiator__home_tenant_name"),
    F("initiator__service_principal_id"),
    F("initiator__service_principal_name"),
]
_TARGET_CELLS = [F("type"), F("display_name"), F("object_id"), F("user_principal_name")]
_PROPERTY_CELLS = [
    F("name"),
    Coalesce("old_value", Value(""), output_field=TextField()),
    Coalesce("new_value", Value(""), output_field=TextField()),
]


def _cells(expressions: list, neutralise_formulas: bool) -> list:
    return [Neutralised(e) for e in expressions] if neutralise_formulas else expressions


class CsvCells(Func):
    """Cells as one piece of a CSV row, quoted as ``csv.writer`` quotes them (``QUOTE_ALL``:
    each cell in double quotes, a quote inside doubled, NULL empty), written by the database.

    At 86 cells a row and hundreds of thousands of rows, ``csv.writer`` costs more than the
    database needs to read the rows; the database joins the cells in C.
    """

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        cells, params = [], []
        for expression in self.source_expressions:
            sql, cell_params = compiler.compile(expression)
            cells.append(f"replace(coalesce({sql}, ''), '\"', '\"\"')")
            params.extend(cell_params)
        return "'\"' || " + " || '\",\"' || ".join(cells) + " || '\"'", params


def quote(cell) -> str:
    """One cell as ``csv.writer`` writes it with ``QUOTE_ALL`` (None empty, others by str())."""
    text = "" if cell is None else cell if isinstance(cell, str) else str(cell)
    return '"' + text.replace('"', '""') + '"'


def _quoted_slots(cells: int) -> str:
    return ",".join(['""'] * cells)


_PROPERTY_CELL_COUNT = 3
_TARGET_CELL_COUNT = 4 + _PROPERTY_CELL_COUNT * MODIFIED_PROPERTY_SLOTS
# The text of empty slots, by how many are missing.
_MISSING_PROPERTIES = [
    _quoted_slots(_PROPERTY_CELL_COUNT * missing) for missing in range(MODIFIED_PROPERTY_SLOTS + 1)
]
_MISSING_TARGETS = [
    _quoted_slots(_TARGET_CELL_COUNT * missing) for missing in range(TARGET_SLOTS + 1)
]
_NO_DETAILS_TEXT = _quoted_slots(2 * ADDITIONAL_DETAIL_SLOTS)


def iter_portal_text(queryset, *, neutralise_formulas: bool = True, **options):
    """Yield ``(text, number of rows)`` of the portal form's CSV rows, a chunk at a time
    (``options`` as for ``selection.iter_value_chunks``; the header is the caller's).

    The database writes every cell it can, quoted (``CsvCells``): the event's (dates, the
    actor, formula neutralisation, via ``_EVENT_CELLS``), each target's and each modified
    property's, so Python only strings the pieces together in their slots, padding missing
    ones, and writes the additional details (JSON). The bytes are those ``csv.writer`` writes
    for the same cells (``tests/exports/test_csv_files.py``).
    """
    columns = [
        GraphDateTime("activity_datetime"),  # the chunk's keyset
        CsvCells(
            GraphDateTime("activity_datetime"),  # never starts with a formula trigger
            *_cells(_EVENT_CELLS, neutralise_formulas),
        ),
        Cast(query_additional_details(), TextField()),
    ]
    target_cells = [CsvCells(*_cells(_TARGET_CELLS, neutralise_formulas))]
    property_cells = [CsvCells(*_cells(_PROPERTY_CELLS, neutralise_formulas))]
    for chunk in iter_value_chunks(queryset, columns, key=_portal_key, **options):
        targets = targets_by_event(
            [values[0] for values in chunk],
            queryset.db,
            target_columns=target_cells,
            property_columns=property_cells,
        )
        rows = []
        for event_id, _, event_cells, details in chunk:
            row = [event_cells]
            event_targets = targets.get(event_id, ())
            for (target,), properties in event_targets[:TARGET_SLOTS]:
                row.append(target)
                row.extend(prop for (prop,) in properties[:MODIFIED_PROPERTY_SLOTS])
                missing = MODIFIED_PROPERTY_SLOTS - min(len(properties), MODIFIED_PROPERTY_SLOTS)
                if missing:
                    row.append(_MISSING_PROPERTIES[missing])
            missing = TARGET_SLOTS - min(len(event_targets), TARGET_SLOTS)
            if missing:
                row.append(_MISSING_TARGETS[missing])
            row.append(
                _NO_DETAILS_TEXT if details == "[]" else _detail_text(details, neutralise_formulas)
            )
            rows.append(",".join(row))
        rows.append("")
        yield "\r\n".join(rows), len(chunk)


def _portal_key(values: tuple) -> tuple:
    return parse_graph_datetime(values[1]), values[0]


def _detail_text(text: str, neutralise_formulas: bool) -> str:
    details = [detail for detail in orjson.loads(text) if detail.get("key")]
    cells = []
    for detail in details[:ADDITIONAL_DETAIL_SLOTS]:
        cells += (detail["key"], detail.get("value") or "")
    if neutralise_formulas:
        cells = [neutralise(cell) for cell in cells]
    quoted = [quote(cell) for cell in cells]
    missing = ADDITIONAL_DETAIL_SLOTS - min(len(details), ADDITIONAL_DETAIL_SLOTS)
    if missing:
        quoted.append(_quoted_slots(2 * missing))
    return ",".join(quoted)


def column_header(keys: list[str]) -> list[str]:
    return [COLUMNS_BY_KEY[key].header for key in keys]


def column_row(event, keys: list[str], neutralise_formulas: bool = True) -> list[str]:
    """One changelist row: ``event`` is an AuditEvent loaded as the changelist loads it."""
    if neutralise_formulas:
        return [neutralise(COLUMNS_BY_KEY[key].value(event)) for key in keys]
    return [COLUMNS_BY_KEY[key].value(event) for key in keys]


class CsvChunkWriter:
    """Turns lists of rows (already neutralised, if asked) into CSV text, one string a chunk."""

    def __init__(self, header: list[str]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        self.header = BYTE_ORDER_MARK + self.chunk([header])

    def chunk(self, rows: list[list[str]]) -> str:
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
