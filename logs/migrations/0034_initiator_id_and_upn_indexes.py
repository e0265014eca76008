"""Indexes for finding initiators by id and by user principal name in any case.

- The initiator filter and the search match a part of a name or a whole id
  (``logs.filters.initiators_matching``: the names through migration 0018's trigram index on
  PostgreSQL, or an object, application or service principal id). Only the application id had
  an index, so the condition as a whole was a scan of every initiator, on every page that
  filters by initiator. With the object and service principal ids indexed, PostgreSQL
  combines the four lookups (a ``BitmapOr``). Graph's ``initiatedBy/user/id eq`` reads the
  first of them too.
- Graph's ``startswith(initiatedBy/user/userPrincipalName, '...')`` and ``eq`` on it compare in
  any case (Django's ``istartswith`` and ``iexact``), which the plain UPN index cannot serve. As
  migration 0016 did for target names: on PostgreSQL ``UPPER(user_principal_name)`` with
  ``text_pattern_ops``, so that a prefix is a range of it whatever the collation; on SQLite
  the name with the ``NOCASE`` collation, which its ``LIKE`` uses. The models cannot describe
  either, so this step runs per database.
"""

from django.db import migrations, models

UPN_ANY_CASE = "initiator_upn_any_case_idx"
CREATE_UPN_ANY_CASE = {
    "postgresql": (
        f"CREATE INDEX {UPN_ANY_CASE} ON logs_initiator "
        "(UPPER(user_principal_name::text) text_pattern_ops)"
    ),
    "sqlite": (
        f"CREATE INDEX {UPN_ANY_CASE} ON logs_initiator (user_principal_name COLLATE NOCASE)"
    ),
}


def create_upn_any_case(apps, schema_editor):
    statement = CREATE_UPN_ANY_CASE.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement)


def drop_upn_any_case(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE_UPN_ANY_CASE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {UPN_ANY_CASE}")


class Migration(migrations.Migration):
    dependencies = [
        ("logs", "0033_target_type_in_position_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="initiator",
            index=models.Index(fields=["user_object_id"], name="initiator_user_id_idx"),
        ),
        migrations.AddIndex(
            model_name="initiator",
            index=models.Index(fields=["service_principal_id"], name="initiator_sp_id_idx"),
        ),
        migrations.RunPython(create_upn_any_case, drop_upn_any_case),
    ]
