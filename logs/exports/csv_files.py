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
import re

from logs.columns import COLUMNS_BY_KEY
from logs.exports.graph_records import graph_datetime
from logs.exports.selection import EventRow

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
_EMPTY_TARGET = [""] * (4 + 3 * MODIFIED_PROPERTY_SLOTS)
_EMPTY_PROPERTY = ["", "", ""]
_EMPTY_DETAIL = ["", ""]

# A quoted cell starting with a trigger: at a line start or after a delimiter. Inside a quoted
# cell every quote is doubled, so the pattern cannot match there, only (harmlessly) at the start
# of a line inside a multi-line cell.
_TRIGGER_CELL = re.compile(r'(?:^|,)"[=+\-@\t\r]', re.MULTILINE)

ACTOR_TYPES = {"user": "User", "app": "Application"}


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet shows it as text, never runs it."""
    return "'" + cell if cell and cell[0] in FORMULA_TRIGGERS else cell


def portal_row(event: EventRow) -> list[str]:
    """One event as the portal's CSV download writes it (see the module docstring)."""
    kind = event.initiator_kind
    has_initiator = kind is not None
    if kind in ACTOR_TYPES:
        actor_type = ACTOR_TYPES[kind]
    elif kind is not None and event.app_display_name and not event.user_object_id:
        actor_type = "Application"
    else:
        actor_type = ""
    actor_name = event.app_display_name if actor_type == "Application" else event.user_display_name
    row = [
        graph_datetime(event),
        event.correlation_id,
        event.service_name,
        event.category_name,
        event.activity_name,
        event.result,
        event.result_reason,
        # Without an initiator the importer takes the user agent from additionalDetails.
        event.user_agent if has_initiator else "",
        actor_type,
        actor_name,
        event.user_object_id,
        event.user_principal_name,
        event.ip_address,
        event.home_tenant_id,
        event.home_tenant_name,
        event.service_principal_id,
        event.service_principal_name,
    ]
    for target in event.targets[:TARGET_SLOTS]:
        row += (target.type, target.display_name, target.object_id, target.user_principal_name)
        properties = target.modified_properties[:MODIFIED_PROPERTY_SLOTS]
        for prop in properties:
            row += (prop.name, prop.old_value or "", prop.new_value or "")
        row += _EMPTY_PROPERTY * (MODIFIED_PROPERTY_SLOTS - len(properties))
    row += _EMPTY_TARGET * (TARGET_SLOTS - min(len(event.targets), TARGET_SLOTS))
    details = [detail for detail in event.additional_details if detail.get("key")]
    for detail in details[:ADDITIONAL_DETAIL_SLOTS]:
        row += (detail["key"], detail.get("value") or "")
    row += _EMPTY_DETAIL * (ADDITIONAL_DETAIL_SLOTS - min(len(details), ADDITIONAL_DETAIL_SLOTS))
    return row


def column_header(keys: list[str]) -> list[str]:
    return [COLUMNS_BY_KEY[key].header for key in keys]


def column_row(event, keys: list[str]) -> list[str]:
    """One changelist row: ``event`` is an AuditEvent loaded as the changelist loads it."""
    return [COLUMNS_BY_KEY[key].value(event) for key in keys]


class CsvChunkWriter:
    """Turns lists of rows into CSV text, one string per chunk, neutralising if asked."""

    def __init__(self, header: list[str], *, neutralise_formulas: bool = True):
        self.neutralise_formulas = neutralise_formulas
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        self.header = BYTE_ORDER_MARK + self._text([header], check=False)

    def chunk(self, rows: list[list[str]]) -> str:
        return self._text(rows, check=self.neutralise_formulas)

    def _text(self, rows, check: bool) -> str:
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        # Most chunks hold no trigger: one regular-expression scan of the text decides, and
        # only a chunk with a candidate cell is written again cell by cell.
        if check and _TRIGGER_CELL.search(text):
            self._writer.writerows([[neutralise(cell) for cell in row] for row in rows])
            text = self._buffer.getvalue()
            self._buffer.seek(0)
            self._buffer.truncate()
        return text
