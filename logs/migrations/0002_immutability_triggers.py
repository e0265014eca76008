"""PostgreSQL triggers that reject UPDATE and DELETE of audit records outside retention.

The ORM already refuses such changes; the triggers make raw SQL refuse them too. Retention opens
a window with ``SELECT set_config('auditportal.retention_purge', 'on', true)`` (transaction-local),
and only DELETE is allowed inside it: nothing may ever rewrite a stored record.
SQLite has no equivalent of a session setting a trigger could read; there, tampering is caught
by the integrity check instead.
"""

from django.db import migrations

PROTECTED_TABLES = ["logs_auditevent", "logs_target", "logs_modifiedproperty"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION logs_reject_audit_rewrite() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('auditportal.retention_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only retention (apply_retention) removes audit records.';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # No parameters: the function body's "%" placeholders are PL/pgSQL's, not the driver's.
        cursor.execute(CREATE_FUNCTION)
    for table in PROTECTED_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION logs_reject_audit_rewrite()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in PROTECTED_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS logs_reject_audit_rewrite()")


class Migration(migrations.Migration):
    dependencies = [("logs", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
