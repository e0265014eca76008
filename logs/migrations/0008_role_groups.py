"""The retention and ingest permissions, and the four role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from logs.roles import apply_roles

    # Permissions are normally created after the whole migrate run; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    # Later migrations grant the permissions of models they create.
    apply_roles(
        apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), only_existing=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("logs", "0007_target_event_type_index"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-activity_datetime", "-id"],
                "permissions": [
                    ("export_auditevent", "Can export audit events (CSV, JSON, NDJSON)"),
                    (
                        "purge_auditevent",
                        "Can run retention (archive, then purge old audit events)",
                    ),
                    (
                        "ingest_auditevent",
                        "Can push audit events through the API ingest endpoint",
                    ),
                ],
            },
        ),
        # Reversing leaves the groups: they may have members by then.
        migrations.RunPython(create_role_groups, migrations.RunPython.noop),
    ]
