"""Date-times read as UTC text, for queries that read many and use few.

Converting a date-time column to Python datetimes costs a few microseconds a row in Django's
converters: for the compliance answers' tens of thousands of property rows, or retention's
quarter of a million events, longer than the query. Read as text, the values still sort in time
order, and ``from_utc_text`` turns the few that are shown or compared back into datetimes.
"""

from datetime import UTC, datetime

from django.db.models import CharField, Func


class UTCDateTimeText(Func):
    """A date-time as UTC text that sorts in time order (``YYYY-MM-DD HH:MM:SS.ffffff``).

    SQLite stores exactly this text (a zero fraction left out, which still sorts first); the
    cast keeps its driver from parsing the column's declared type as a date.
    """

    output_field = CharField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS TEXT)", params

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')", params


def from_utc_text(text: str) -> datetime:
    """The aware datetime of ``UTCDateTimeText``'s text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def as_utc_text(moment: datetime) -> str:
    """The text ``UTCDateTimeText`` reads on PostgreSQL for the aware datetime ``moment``: the
    fraction always written, as ``to_char`` writes it (SQLite leaves a zero fraction out)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
