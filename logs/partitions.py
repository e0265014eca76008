"""PostgreSQL: the event table in month partitions, so that retention drops a whole month.

On PostgreSQL ``logs_auditevent`` is partitioned by range of ``activity_datetime``, one
partition per UTC month, named ``logs_auditevent_pYYYYMM`` (migration 0026). SQLite keeps one
table. Django's model is unchanged: the ORM reads and writes the parent table, and PostgreSQL
routes each row to its month.

A partitioned table's unique constraints must contain the partition key, so the physical
keys are ``(id, activity_datetime)``, ``(entra_id, activity_datetime)`` and
``(chain_seq, activity_datetime)``. What that leaves open, and who closes it:

- The same record sent twice has the same date, so the database still refuses the duplicate.
- The same Entra id with another date is a different record claiming the same id: every writer
  of events checks for a stored id before inserting, under the chain lock
  (``logs.hash_chain.lock_chain``, held by the import from its first duplicate check to its
  commit), so two writers cannot both miss each other; the importer reports it as a conflict.
- Ids come from the table's identity sequence and chain positions are given under the chain
  lock, so neither repeats; verification would report a repeated position as a break.

A month's partition is created when the first event of that month is written (inside the
writer's transaction, after it took the chain lock, so two writers never create one twice);
the migration creates every month from the oldest stored event to a few months ahead. There is
no DEFAULT partition: a month without one is created, never routed elsewhere, so a whole month
is always one partition that retention can drop.

Each partition gets the statement trigger that refuses UPDATE and DELETE (logs.immutability):
PostgreSQL copies row triggers to partitions, not statement triggers, and a statement naming a
partition directly does not fire the parent's.
"""

from datetime import UTC, date, datetime

from django.db import connection

EVENT_TABLE = "logs_auditevent"
PARTITION_KEY = "activity_datetime"
# The trigger function every audit table's statement trigger calls (migration 0009).
STATEMENT_TRIGGER_FUNCTION = "logs_reject_audit_statement"
# Months created past the current one, by the migration and whenever a partition is created.
MONTHS_AHEAD = 3


def partitioned(using_connection=None) -> bool:
    """Whether the event table is partitioned here (PostgreSQL after migration 0026)."""
    conn = using_connection or connection
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [EVENT_TABLE]
        )
        return cursor.fetchone() is not None


def month_of(moment: datetime) -> date:
    """The first day of ``moment``'s UTC month."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date, table: str = EVENT_TABLE) -> str:
    return f"{table}_p{month:%Y%m}"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The partition's range: from the month's first instant (UTC) to the next month's."""
    end = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=UTC),
        datetime(end.year, end.month, 1, tzinfo=UTC),
    )


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def existing_months(cursor, table: str = EVENT_TABLE) -> dict[date, str]:
    """The partitions of ``table``, by month: read from the catalog (each partition's bound)."""
    cursor.execute(
        "SELECT child.relname, pg_get_expr(child.relpartbound, child.oid) "
        "FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
        "WHERE pg_inherits.inhparent = to_regclass(%s)",
        [table],
    )
    months = {}
    for name, bound in cursor.fetchall():
        # "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO (...)": the start names the month;
        # the partitions this module creates are whole UTC months.
        start = bound.split("'")[1]
        months[date(int(start[0:4]), int(start[5:7]), 1)] = name
    return months


def create_partition(cursor, month: date, table: str = EVENT_TABLE) -> str:
    """Create ``month``'s partition of ``table``, empty, with its immutability trigger.

    Created as a table of its own and then attached: ATTACH takes a lock on the parent that
    lets reads and writes go on, where ``CREATE TABLE ... PARTITION OF`` would block every
    reader of the events until the creating transaction commits. Attaching builds the
    partition's share of every index and unique constraint of the parent.
    """
    name = partition_name(month, table)
    start, end = month_bounds(month)
    cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING STORAGE)')
    cursor.execute(
        f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
        [start, end],
    )
    cursor.execute(
        f'CREATE TRIGGER "{name}_immutable_statement" BEFORE UPDATE OR DELETE ON "{name}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {STATEMENT_TRIGGER_FUNCTION}()"
    )
    return name


def ensure_partitions(moments, using_connection=None) -> list[str]:
    """Make sure every month of ``moments`` (datetimes) has its partition, creating those
    missing (and, when one is, the months up to ``MONTHS_AHEAD`` past the current one);
    returns the names created.

    Call inside the transaction that inserts the events, after it took the chain lock: the
    partitions are created in that transaction (a rolled-back import leaves none behind) and
    no other writer can create the same month meanwhile. Does nothing on SQLite or on an
    unpartitioned table. The catalog is read each time, not remembered: retention, in another
    process, may have dropped a month since (and a restore brings its events back).
    """
    conn = using_connection or connection
    if conn.vendor != "postgresql":
        return []
    needed = {month_of(moment) for moment in moments if moment is not None}
    if not needed:
        return []
    with conn.cursor() as cursor:
        if not partitioned(conn):
            return []
        present = set(existing_months(cursor))
        missing = needed - present
        if not missing:
            return []
        today = month_of(datetime.now(UTC))
        ahead = today
        for _ in range(MONTHS_AHEAD):
            ahead = next_month(ahead)
        missing |= set(months_between(today, ahead)) - present
        return [create_partition(cursor, month) for month in sorted(missing)]
