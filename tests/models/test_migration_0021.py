"""Migration 0021 seals the lookup rows stored before it and installs the triggers; going back
removes both."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models.signals import post_migrate

from logs.integrity import verify_chain
from logs.models import Activity, LookupSeal

BEFORE = [("logs", "0020_access_account_and_permission_records")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def rename_activities() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE logs_activity SET name = name || ' (renamed)'")


@pytest.fixture
def before_0021(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(leaf_nodes())


def test_lookups_stored_before_are_sealed_and_protected(before_0021):
    apps = before_0021
    apps.get_model("logs", "Activity").objects.create(name="Add member to group")
    apps.get_model("logs", "Initiator").objects.create(
        identity_key="k1", kind="user", user_principal_name="Alex.Wilber@Contoso.com"
    )
    rename_activities()  # allowed before the migration

    migrate(leaf_nodes())

    assert LookupSeal.objects.filter(lookup="activity").count() == 1
    assert LookupSeal.objects.filter(lookup="initiator").count() == 1
    result = verify_chain()
    assert result.ok, result.broken
    assert result.lookups == 2
    with pytest.raises(DatabaseError, match="immutable"):
        rename_activities()
    assert Activity.objects.get().name == "Add member to group (renamed)"


def test_going_back_removes_the_triggers(transactional_db):
    Activity.objects.create(name="Add member to group")
    migrate(BEFORE)
    try:
        rename_activities()
        assert "logs_lookupseal" not in connection.introspection.table_names()
    finally:
        migrate(leaf_nodes())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_sqlite_triggers_a_table_rebuild_dropped_come_back_after_migrate(db):
    """Django rebuilds an SQLite table to alter it, which drops its triggers; every migrate
    ends by putting them back."""
    Activity.objects.create(name="Add member to group")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER logs_activity_immutable_update")
    rename_activities()
    post_migrate.send(
        sender=Activity._meta.app_config, app_config=Activity._meta.app_config, using="default"
    )
    with pytest.raises(DatabaseError, match="immutable"):
        rename_activities()
