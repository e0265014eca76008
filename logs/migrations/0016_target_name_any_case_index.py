"""An index on targets' display names compared without regard to case.

The Graph-compatible endpoint's ``targetResources/any(t: t/displayName eq '...')`` and
``startswith(t/displayName, '...')`` compare names as Graph does, in any case (the FilterSet's
``target_name`` and ``target_name_startswith``: Django's ``iexact`` and ``istartswith``). The
plain ``target_name_idx`` cannot serve those, so each read every target, in a time that grows with
the table (benchmarks/README.md, metric ``graph``); this index makes them a range of it.

- PostgreSQL: ``UPPER(display_name)``, the expression Django compares, with
  ``text_pattern_ops`` so that a prefix (``LIKE 'X%'``) is a range of it whatever the
  database's collation (equality is served too);
- SQLite: the name with the ``NOCASE`` collation, which SQLite's ``LIKE`` (how Django spells
  both lookups there) uses for a whole value or a prefix.
"""

from django.db import migrations

NAME = "target_name_any_case_idx"
CREATE = {
    "postgresql": (
        f"CREATE INDEX {NAME} ON logs_target (UPPER(display_name::text) text_pattern_ops)"
    ),
    "sqlite": f"CREATE INDEX {NAME} ON logs_target (display_name COLLATE NOCASE)",
}


def create(apps, schema_editor):
    statement = CREATE.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("logs", "0015_legal_holds")]

    operations = [migrations.RunPython(create, drop)]
