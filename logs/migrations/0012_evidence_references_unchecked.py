"""Targets and modified properties reference their parent without a database constraint.

They are written only with their event, in its transaction (logs.ingest.loader), never
changed, and deleted only by retention, children first (logs.retention.purge). Checking each
reference cost PostgreSQL a query per row when a target or property was stored, and again when
its parent was purged, as long as the deletes themselves; verify_audit_log reports any row left
without its parent. The ORM relation and its CASCADE are unchanged.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("logs", "0011_target_event_copies")]

    operations = [
        migrations.AlterField(
            model_name="modifiedproperty",
            name="target",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="modified_properties",
                to="logs.target",
            ),
        ),
        migrations.AlterField(
            model_name="target",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="targets",
                to="logs.auditevent",
            ),
        ),
    ]
