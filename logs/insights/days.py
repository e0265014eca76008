"""The UTC days of a period, in the database and in Python, and dates as ISO text."""

from datetime import UTC, datetime, timedelta

from django.db.models import DateField, Func
from django.db.models.functions import TruncDate


class UTCDay(Func):
    """The UTC calendar day of a date-time, computed in the database.

    SQLite stores date-times as UTC text, so the first ten characters are the day (Django's
    TruncDate there calls back into Python for every row); PostgreSQL converts natively, and
    groups dates faster than their text. On SQLite the expression is spelled exactly as the
    ``event_day_counts_idx`` index spells it (numbers written out, not passed as parameters),
    or SQLite would not recognise it.
    """

    output_field = DateField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"substr({sql}, 1, 10)", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(TruncDate(self.source_expressions[0], tzinfo=UTC))


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_day(moment: datetime) -> str:
    return str(moment.astimezone(UTC).date())


def utc_days(since: datetime, until: datetime) -> list[str]:
    first = since.astimezone(UTC).date()
    last = until.astimezone(UTC).date()
    return [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]
