"""Targets carry copies of their event's date, activity, result and service, and an index on them.

The compliance answers ask which users, applications and service principals a period's events
of some activities changed: for a month of a million-event log, about 160,000 targets. Joining
each to its event (for its date, activity and result) was most of the answers' time; with the
copies, each activity's targets for a period are one range of ``target_activity_date_idx``,
which also holds everything the answers read. Events are never changed, so the copies cannot
go stale. Stored targets are filled in from their events here, with PostgreSQL's immutability
trigger on targets off for this one statement (and back on in the same transaction).
"""

from django.db import migrations, models

FILL_POSTGRES = """
UPDATE logs_target AS target
SET event_datetime = event.activity_datetime,
    event_activity_id = event.activity_id,
    event_result = event.result,
    event_service_id = event.service_id
FROM logs_auditevent AS event
WHERE event.id = target.event_id
"""
FILL_SQLITE = """
UPDATE logs_target
SET (event_datetime, event_activity_id, event_result, event_service_id) = (
    SELECT activity_datetime, activity_id, result, service_id
    FROM logs_auditevent WHERE logs_auditevent.id = logs_target.event_id
)
"""
TRIGGER = "logs_target_immutable_statement"


def fill_copies(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE logs_target DISABLE TRIGGER {TRIGGER}")
        schema_editor.execute(FILL_POSTGRES)
        schema_editor.execute(f"ALTER TABLE logs_target ENABLE TRIGGER {TRIGGER}")
    else:
        schema_editor.execute(FILL_SQLITE)


class Migration(migrations.Migration):
    dependencies = [("logs", "0010_event_day_counts_index")]

    operations = [
        migrations.AddField(
            model_name="target",
            name="event_datetime",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="target",
            name="event_activity",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="logs.activity",
            ),
        ),
        migrations.AddField(
            model_name="target",
            name="event_result",
            field=models.CharField(blank=True, editable=False, max_length=32, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="target",
            name="event_service",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="logs.service",
            ),
        ),
        migrations.RunPython(fill_copies, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="target",
            index=models.Index(
                fields=[
                    "event_activity",
                    "event_datetime",
                    "event_result",
                    "event_service",
                    "event",
                    "type",
                    "object_id",
                    "display_name",
                ],
                name="target_activity_date_idx",
            ),
        ),
    ]
