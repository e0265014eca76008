"""Indexes that let the compliance answers count a period's events without reading them.

Counting a month of events by day, category, activity and result, and checking an event's
activity and result, must not read the events' rows: each is a kilobyte or more (the original
record), a month is a third of a million of them. Each database gets what its planner uses:

- PostgreSQL: ``event_date_idx`` (date, id) also carries the service, category, activity and
  result as included columns, so a period is read by an index-only scan (once autovacuum has
  marked the pages visible) and hashed into groups. Same name and key as the model's index,
  so Django's view of it holds; only the included columns are added here.
- SQLite, which keeps no statistics and groups by sorting: ``event_day_counts_idx`` on the
  UTC day (the expression ``logs.insights.days.UTCDay`` writes), category, activity, result, date
  and service, so the counts are read in the order they are grouped in, with no sort.

See logs/insights/.
"""

from django.db import migrations

POSTGRES_COVERING = (
    "CREATE INDEX event_date_idx ON logs_auditevent (activity_datetime DESC, id DESC) "
    "INCLUDE (service_id, category_id, activity_id, result)"
)
POSTGRES_PLAIN = "CREATE INDEX event_date_idx ON logs_auditevent (activity_datetime DESC, id DESC)"
SQLITE_DAY_COUNTS = (
    "CREATE INDEX event_day_counts_idx ON logs_auditevent (substr(activity_datetime, 1, 10), "
    "category_id, activity_id, result, activity_datetime, service_id)"
)


def create_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX event_date_idx")
        schema_editor.execute(POSTGRES_COVERING)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DAY_COUNTS)


def drop_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX event_date_idx")
        schema_editor.execute(POSTGRES_PLAIN)
    elif vendor == "sqlite":
        schema_editor.execute("DROP INDEX event_day_counts_idx")


class Migration(migrations.Migration):
    dependencies = [("logs", "0009_chain_and_retention")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
