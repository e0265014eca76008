"""The hash chain and retention checkpoints (logs.integrity), and statement-level triggers.

Events already stored are linked into the chain in id order (their insertion order). On
PostgreSQL the row-level immutability triggers are replaced by statement-level ones: they refuse
the same statements (UPDATE always, DELETE outside the retention window), now also on the
checkpoint table, but they run once per statement instead of once per row, so
retention can delete at tens of thousands of events a second.
"""

import hashlib

import orjson
from django.db import migrations, models

PROTECTED_TABLES = [
    "logs_auditevent",
    "logs_target",
    "logs_modifiedproperty",
    "logs_chaincheckpoint",
]
OLD_ROW_TABLES = ["logs_auditevent", "logs_target", "logs_modifiedproperty"]
BACKFILL_CHUNK = 5_000

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION logs_reject_audit_statement() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('auditportal.retention_purge', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only retention (apply_retention) removes audit records.';
END;
$$ LANGUAGE plpgsql;
"""


def backfill_chain(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    if postgres:
        moment = "to_char(activity_datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        for table in OLD_ROW_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    else:
        moment = (
            "substr(activity_datetime, 1, 19) || '.' || "
            "substr(substr(activity_datetime, 21) || '000000', 1, 6)"
        )
    select = (
        f"SELECT id, entra_id, {moment}, service_id, category_id, activity_id, operation_type, "
        "result, result_reason, correlation_id, initiator_id, initiator_ip_address, "
        "initiator_user_agent, source_format, original FROM logs_auditevent "
        "WHERE id > %s ORDER BY id LIMIT %s"
    )
    seq, link, last_id = 0, bytes(32), 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(select, [last_id, BACKFILL_CHUNK])
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for pk, *fields in rows:
                seq += 1
                link = hashlib.sha256(link + orjson.dumps((seq, *fields))).digest()
                updates.append((seq, link, pk))
            cursor.executemany(
                "UPDATE logs_auditevent SET chain_seq = %s, chain_link = %s WHERE id = %s",
                updates,
            )
            last_id = rows[-1][0]
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(CREATE_FUNCTION)
        for table in PROTECTED_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable_statement "
                f"BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
            )


def restore_row_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in PROTECTED_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable_statement ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS logs_reject_audit_statement()")
    for table in OLD_ROW_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION logs_reject_audit_rewrite()"
        )


class Migration(migrations.Migration):
    dependencies = [("logs", "0008_role_groups")]

    operations = [
        migrations.CreateModel(
            name="ChainCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "run",
                    models.CharField(
                        help_text="The retention run that purged the batch.", max_length=128
                    ),
                ),
                (
                    "events",
                    models.PositiveIntegerField(help_text="Chain positions purged by the batch."),
                ),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField(db_index=True)),
                ("last_link", models.BinaryField(max_length=32)),
                ("ranges", models.BinaryField()),
                ("link", models.BinaryField(max_length=32)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_link",
            field=models.BinaryField(max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(
                editable=False, null=True, unique=True, verbose_name="chain position"
            ),
        ),
        migrations.RunPython(backfill_chain, restore_row_triggers, elidable=False),
    ]
