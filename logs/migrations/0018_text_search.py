"""Text filters that find what a person types: case-insensitive substrings of names.

The initiator and target filters and the search match any part of a name, in any case. They
still resolve against small tables first, then reach events through the indexes they had:

- ``Initiator.search_text``: an initiator's names (UPN, display name, application and service
  principal names), case-folded, one per line;
- ``TargetName``: every target display name and UPN once, with its folded form.

Folding is Python's (``str.casefold``), so both databases match the same names. On PostgreSQL
both folded columns get a GIN trigram index (``pg_trgm``), which serves ``LIKE '%text%'``
from three characters on. ``pg_trgm`` ships with PostgreSQL (the contrib package) and is a
trusted extension from PostgreSQL 13: the user that migrates needs the CREATE privilege on the
database (an owner has it); on an older server a superuser must run ``CREATE EXTENSION
pg_trgm`` in the database once, before migrating.

SQLite reads the folded column of these tables whole for a substring: they hold distinct
names, not events, so they grow with the directory (its users, groups and applications), not
with the years of events. An FTS5 trigram table would serve three characters and more only,
and would be one more structure to keep in step with every name stored; the folded column is
what both databases share, and the plain B-tree of ``TargetName.name`` serves the step from
names to targets. (SQLite serves development and the demo; deployments run on PostgreSQL.)

Existing initiators and targets are filled in here.
"""

from django.db import migrations, models

BATCH = 10_000
POSTGRES_INDEXES = [
    "CREATE INDEX initiator_search_trgm_idx ON logs_initiator USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX target_name_folded_trgm_idx ON logs_targetname USING gin (folded gin_trgm_ops)",
]


def fill(apps, schema_editor):
    using = schema_editor.connection.alias
    Initiator = apps.get_model("logs", "Initiator")
    Target = apps.get_model("logs", "Target")
    TargetName = apps.get_model("logs", "TargetName")
    fields = [
        "user_principal_name",
        "user_display_name",
        "app_display_name",
        "service_principal_name",
    ]
    changed = []
    for initiator in Initiator.objects.using(using).only("pk", *fields).iterator(BATCH):
        names = dict.fromkeys((getattr(initiator, name) or "").casefold() for name in fields)
        initiator.search_text = "\n".join(name for name in names if name)
        changed.append(initiator)
        if len(changed) == BATCH:
            Initiator.objects.using(using).bulk_update(changed, ["search_text"])
            changed = []
    Initiator.objects.using(using).bulk_update(changed, ["search_text"])
    for column in ("display_name", "user_principal_name"):
        names = (
            Target.objects.using(using)
            .exclude(**{column: ""})
            .order_by()
            .values_list(column, flat=True)
            .distinct()
        )
        batch = []
        for name in names.iterator(BATCH):
            batch.append(TargetName(name=name, folded=name.casefold()))
            if len(batch) == BATCH:
                TargetName.objects.using(using).bulk_create(batch, ignore_conflicts=True)
                batch = []
        TargetName.objects.using(using).bulk_create(batch, ignore_conflicts=True)


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in POSTGRES_INDEXES:
        schema_editor.execute(sql)


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS initiator_search_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS target_name_folded_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("logs", "0017_display_time_zone")]

    operations = [
        migrations.CreateModel(
            name="TargetName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=1024, unique=True)),
                ("folded", models.TextField(editable=False)),
            ],
        ),
        migrations.AddField(
            model_name="initiator",
            name="search_text",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
