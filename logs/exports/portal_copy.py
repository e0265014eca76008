"""The portal-form CSV written by PostgreSQL itself: one ``COPY (SELECT ...) TO STDOUT``.

Writing 86 quoted cells a row with ``csv.writer`` costs more than the database needs to read
the rows, so on PostgreSQL the whole row is built by one SELECT and the server writes the CSV
(``FORMAT csv, FORCE_QUOTE *``); Python only relays the bytes, turning each row's ``\\n`` into
the ``\\r\\n`` that ``csv_files.CsvChunkWriter`` ends lines with. The server sends each row as
one COPY message (a rule of PostgreSQL's protocol, and psycopg reads a message at a time), so a
row's end is its message's last byte and line breaks inside quoted cells are left alone.

The SELECT is the export's own queryset (its filters, its order, the cap) with the event's cells
of ``csv_files`` (the same expressions), wrapped in lateral subqueries that lay out the first 3
targets, the first 5 modified properties of each and the first 6 additional details that have a
key, formulas neutralised by the rule of :func:`csv_files.neutralise`. The bytes are those
``csv_files`` writes (``tests/exports/test_portal_copy.py``), with one exception the importer
never stores: an additional detail key or value that is a JSON float, array or object (imported
ones are strings or null) is written as PostgreSQL's JSON text, not as Python's ``str()`` of it.

The COPY is one statement in a transaction of its own, open for as long as the rows take to
leave. A client that goes away closes the generator: psycopg cancels the statement and the
transaction is rolled back, so the connection is left idle.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction

from logs.exports import csv_files
from logs.exports.graph_records import GraphDateTime
from logs.exports.selection import in_export_order
from logs.models.events import query_additional_details

# The triggers' code points: ascii() of a cell is its first character's, compared as a number
# (taking the first character as text costs an allocation per cell, and cells are many).
_TRIGGERS = ", ".join(str(ord(trigger)) for trigger in csv_files.FORMULA_TRIGGERS)
_EVENT_CELL_COUNT = 1 + len(csv_files._EVENT_CELLS)  # the date, then the event's cells


def is_available(connection) -> bool:
    """Whether this database writes the portal form itself (elsewhere ``csv_files`` does)."""
    return connection.vendor == "postgresql"


def _neutralised(cell: str, neutralise_formulas: bool) -> str:
    if not neutralise_formulas:
        return cell
    return f"CASE WHEN ascii({cell}) IN ({_TRIGGERS}) THEN '''' || {cell} ELSE {cell} END"


def _json_truthy(value: str) -> str:
    """Whether a JSON value is true to Python (``csv_files`` tests ``detail.get("key")`` and
    writes ``detail.get("value") or ""``)."""
    return (
        f"CASE jsonb_typeof({value}) WHEN 'string' THEN {value} <> '\"\"'"
        f" WHEN 'number' THEN {value} <> '0' WHEN 'boolean' THEN {value} = 'true'"
        f" WHEN 'array' THEN {value} <> '[]' WHEN 'object' THEN {value} <> '{{}}' ELSE false END"
    )


def _json_cell(value: str, neutralise_formulas: bool) -> str:
    """A JSON value's cell as ``csv.writer`` writes the Python value (strings neutralised)."""
    text = f"({value} #>> '{{}}')"
    return (
        f"CASE jsonb_typeof({value}) WHEN 'string' THEN {_neutralised(text, neutralise_formulas)}"
        f" WHEN 'boolean' THEN CASE WHEN {value} = 'true' THEN 'True' ELSE 'False' END"
        f" ELSE {text} END"
    )


def portal_select(queryset, *, neutralise_formulas: bool, oldest_first: bool, limit: int | None):
    """The SELECT of the portal form's 86 cells per event, in the export's order, and its
    parameters."""
    event_cells = [
        GraphDateTime("activity_datetime"),  # never starts with a formula trigger
        *csv_files._cells(csv_files._EVENT_CELLS, neutralise_formulas),
        query_additional_details(),
    ]
    names = [f"x_{number}" for number in range(len(event_cells))]
    events = queryset.prefetch_related(None).annotate(**dict(zip(names, event_cells, strict=True)))
    events = in_export_order(
        events.values_list("id", "activity_datetime", *names), oldest_first, limit
    )
    if limit is not None:
        events = events[:limit]
    inner, params = events.query.get_compiler(queryset.db).as_sql()

    def cell(expression: str) -> str:
        return _neutralised(expression, neutralise_formulas)

    cells = [f"coalesce(q.c{number}, '')" for number in range(_EVENT_CELL_COUNT)]
    target_cells = [cell("t.type"), cell("t.display_name"), cell("t.object_id")]
    target_cells += [cell("t.user_principal_name")]
    target_cells += [
        f"coalesce(t.cells[{prop}][{part}], '')"
        for prop in range(1, csv_files.MODIFIED_PROPERTY_SLOTS + 1)
        for part in range(1, 4)
    ]
    cells += [
        f"coalesce(t.cells[{target}][{number}], '')"
        for target in range(1, csv_files.TARGET_SLOTS + 1)
        for number in range(1, len(target_cells) + 1)
    ]
    # ARRAY(SELECT ... ORDER BY ...) keeps the subquery's order without the sort that an
    # ordered aggregate starts for every event; OFFSET 0 keeps the planner from copying the
    # subquery into each of the cells that read it.
    joins = [
        f"""LEFT JOIN LATERAL (SELECT ARRAY(
          SELECT ARRAY[{", ".join(target_cells)}]
            FROM (SELECT t.*, ARRAY(
                    SELECT ARRAY[{cell("name")}, {cell("coalesce(old_value, '')")},
                                 {cell("coalesce(new_value, '')")}]
                      FROM logs_modifiedproperty WHERE target_id = t.id
                     ORDER BY position LIMIT {csv_files.MODIFIED_PROPERTY_SLOTS}) AS cells
                    FROM logs_target t WHERE t.event_id = q.id
                   ORDER BY t.position LIMIT {csv_files.TARGET_SLOTS}) t
           ORDER BY t.position) AS cells OFFSET 0) t ON true"""
    ]
    cells += [
        f"coalesce(d.cells[{detail}][{part}], '')"
        for detail in range(1, csv_files.ADDITIONAL_DETAIL_SLOTS + 1)
        for part in range(1, 3)
    ]
    value = (
        f"CASE WHEN {_json_truthy('d.value')} THEN {_json_cell('d.value', neutralise_formulas)}"
        " ELSE '' END"
    )
    joins.append(
        f"""LEFT JOIN LATERAL (SELECT ARRAY(
          SELECT ARRAY[{_json_cell("d.key", neutralise_formulas)}, {value}]
            FROM (SELECT detail -> 'key' AS key, detail -> 'value' AS value
                    FROM jsonb_array_elements(q.details) WITH ORDINALITY AS e(detail, number)
                   WHERE {_json_truthy("(detail -> 'key')")}
                   ORDER BY number LIMIT {csv_files.ADDITIONAL_DETAIL_SLOTS}) d
        ) AS cells OFFSET 0) d ON true"""
    )
    direction = "" if oldest_first else " DESC"
    columns = ", ".join(f"c{number}" for number in range(_EVENT_CELL_COUNT))
    sql = (
        f"SELECT {', '.join(cells)}\n  FROM ({inner}) AS q(id, moment, {columns}, details)\n"
        + "\n".join(joins)
        + f"\n ORDER BY q.moment{direction}, q.id{direction}"
    )
    return sql, params


def iter_portal_csv(
    queryset,
    *,
    neutralise_formulas: bool = True,
    oldest_first: bool = False,
    limit: int | None = None,
    rows_per_chunk: int = 2000,
):
    """Yield ``(text, number of rows)`` of the portal-form CSV's rows, ``rows_per_chunk`` rows
    at a time (the header is the caller's)."""
    try:
        sql, params = portal_select(
            queryset,
            neutralise_formulas=neutralise_formulas,
            oldest_first=oldest_first,
            limit=limit,
        )
    except EmptyResultSet:
        # Django found that the filters select nothing (an empty list of ids) and wrote no
        # SQL: there are no rows to copy.
        return
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)"
    connection = connections[queryset.db]
    with (
        transaction.atomic(using=queryset.db),
        connection.cursor() as cursor,
    ):
        # The plan's cost (a lateral lookup per event) makes PostgreSQL compile it with JIT,
        # which takes longer than running it.
        cursor.execute("SET LOCAL jit = off")
        copy_rows = cursor.cursor.copy(statement, params)
        with copy_rows as copy:
            rows = []
            for block in copy:
                rows.append(bytes(block)[:-1])
                if len(rows) == rows_per_chunk:
                    rows.append(b"")
                    yield b"\r\n".join(rows).decode(), rows_per_chunk
                    rows = []
            if rows:
                count = len(rows)
                rows.append(b"")
                yield b"\r\n".join(rows).decode(), count
