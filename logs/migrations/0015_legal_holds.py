"""Legal holds: placing and releasing are rows of their own, never edited.

On PostgreSQL a trigger refuses UPDATE and DELETE on both tables from raw SQL too (the ORM
refuses them already): a hold removed behind retention's back would let it purge what
litigation needs. Nothing, retention included, ever deletes a hold. The roles get the new
permissions: every role that reads events may see holds, Compliance Administrators place
and release them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

HOLD_TABLES = ["logs_legalhold", "logs_legalholdrelease"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION logs_reject_hold_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'legal holds are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Release a hold (legal_hold release) instead of changing it.';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # No parameters: the "%" placeholders are PL/pgSQL's, not the driver's.
        cursor.execute(CREATE_FUNCTION)
    for table in HOLD_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable_statement BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_hold_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in HOLD_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable_statement ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS logs_reject_hold_change()")


def grant_hold_permissions(apps, schema_editor):
    from logs.roles import apply_roles

    # Permissions are normally created after the whole migrate run; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    apply_roles(
        apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), only_existing=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("logs", "0014_annotation_reference_unchecked"),
    ]

    operations = [
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="How the hold is named in commands and reports; never reused.",
                        max_length=200,
                        unique=True,
                    ),
                ),
                (
                    "reason",
                    models.TextField(
                        help_text="Why the events must be kept (matter, request, ...)."
                    ),
                ),
                (
                    "filters",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="The events the filters select, as everywhere in the portal "
                        "(API names).",
                    ),
                ),
                (
                    "event_ids",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Or the events with these Entra activity ids.",
                    ),
                ),
                ("placed_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                (
                    "placed_by",
                    models.CharField(
                        help_text="The user (or OS user) who placed it.", max_length=256
                    ),
                ),
            ],
            options={
                "ordering": ["-placed_at", "-id"],
                "default_permissions": ("add", "view"),
            },
        ),
        migrations.CreateModel(
            name="LegalHoldRelease",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.TextField(help_text="Why the events need not be kept any longer."),
                ),
                ("released_at", models.DateTimeField(auto_now_add=True)),
                ("released_by", models.CharField(max_length=256)),
                (
                    "hold",
                    models.OneToOneField(
                        on_delete=models.deletion.PROTECT,
                        related_name="release",
                        to="logs.legalhold",
                    ),
                ),
            ],
            options={
                "ordering": ["-released_at", "-id"],
                "default_permissions": ("add", "view"),
            },
        ),
        migrations.AlterField(
            model_name="accessrecord",
            name="action",
            field=models.CharField(
                choices=[
                    ("sign_in", "Sign-in"),
                    ("sign_in_failed", "Failed sign-in"),
                    ("query", "Query"),
                    ("export", "Export"),
                    ("import", "Import"),
                    ("ingest", "Ingest"),
                    ("annotate", "Annotate"),
                    ("retention", "Retention run"),
                    ("token", "API token"),
                    ("role", "Role membership"),
                    ("legal_hold", "Legal hold"),
                ],
                max_length=32,
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
        # Reversing leaves the permissions with the roles; they go with the tables' content type.
        migrations.RunPython(grant_hold_permissions, migrations.RunPython.noop),
    ]
