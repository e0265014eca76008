"""Annotations reference their event without a database constraint.

They are created through the ORM for a stored event and deleted only by retention, before
their event (logs.retention.purge). PostgreSQL checked the reference for every purged event, at
commit: as long as deleting the events themselves. verify_audit_log reports an annotation left
without its event. The index on the event stays.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("logs", "0013_initiator_index_carries_id")]

    operations = [
        migrations.AlterField(
            model_name="annotation",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="annotations",
                to="logs.auditevent",
            ),
        ),
    ]
