"""Migration 0035: modified properties are keyed by (target, position). On PostgreSQL the id
column and its index are gone; on SQLite the id stays the table's rowid. Either way a target
holds one property per position, and going back and forth keeps every row."""

import contextlib

import pytest
from django.db import IntegrityError, connection, transaction

from logs.immutability import ImmutableRecordError
from logs.models import ModifiedProperty
from tests.factories import ModifiedPropertyFactory, TargetFactory
from tests.models.support import assert_refused, leaf_nodes, migrate

BEFORE = [("logs", "0034_initiator_id_and_upn_indexes")]
TABLE = "logs_modifiedproperty"


def columns() -> list[str]:
    with connection.cursor() as cursor:
        return [
            column.name for column in connection.introspection.get_table_description(cursor, TABLE)
        ]


def keys() -> dict[str, dict]:
    """The table's unique indexes and primary key, by name."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return {
        name: info for name, info in constraints.items() if info["unique"] or info["primary_key"]
    }


def stored_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT target_id, position, name, old_value, new_value FROM {TABLE}"
            " ORDER BY target_id, position"
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_each_database_keys_a_property_by_target_and_position():
    unique = {tuple(info["columns"]): info for info in keys().values()}
    assert ("target_id", "position") in unique
    if connection.vendor == "postgresql":
        assert "id" not in columns()
        assert unique[("target_id", "position")]["primary_key"]
        assert set(unique) == {("target_id", "position")}
    else:
        # The rowid, which every SQLite table keeps: named, it costs no byte more.
        assert "id" in columns()


@pytest.mark.django_db
def test_a_target_holds_one_property_per_position():
    stored = ModifiedPropertyFactory(position=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModifiedPropertyFactory(target=stored.target, position=0, name="Other")
    assert ModifiedPropertyFactory(target=stored.target, position=1).pk == (stored.target_id, 1)


@pytest.mark.django_db
def test_a_new_property_saved_on_its_own_is_inserted_and_never_changed():
    """Its key is set before it is saved: the save inserts, on both databases, rather than
    trying an UPDATE first (which PostgreSQL's statement trigger refuses)."""
    target = TargetFactory()
    prop = ModifiedProperty(target=target, position=0, name="DisplayName", new_value='["x"]')
    prop.save()
    assert stored_rows() == [(target.pk, 0, "DisplayName", None, '["x"]')]
    with pytest.raises(ImmutableRecordError):
        prop.save()


@pytest.mark.django_db
def test_a_targets_properties_are_read_in_position_order():
    target = TargetFactory()
    for position, name in [(2, "c"), (0, "a"), (1, "b")]:
        ModifiedPropertyFactory(target=target, position=position, name=name)
    assert [prop.name for prop in target.modified_properties.all()] == ["a", "b", "c"]
    found = ModifiedProperty.objects.get(pk=(target.pk, 1))
    assert (found.name, found.old_value, found.new_value) == ("b", '["Old"]', '["New"]')


@contextlib.contextmanager
def at_migration_0034():
    """Back at 0034 for the block, then forward again: the table has its id there, and every
    stored row is the same there and back. Gives the table's keys by their columns."""
    before = stored_rows()
    leaves = leaf_nodes()
    try:
        migrate(BEFORE)
        assert "id" in columns()
        assert stored_rows() == before
        yield {tuple(info["columns"]): info for info in keys().values()}
    finally:
        migrate(leaves)
    assert stored_rows() == before


def three_properties():
    """Two targets' properties, stored out of key order, null and empty kept apart; the
    first target."""
    first, second = TargetFactory(), TargetFactory()
    ModifiedPropertyFactory(target=second, position=0, name="AccountEnabled")
    ModifiedPropertyFactory(target=first, position=0, old_value=None, new_value="")
    ModifiedPropertyFactory(target=first, position=1)
    return first


@pytest.mark.postgres_only
def test_going_back_and_forth_keeps_every_property(transactional_db):
    three_properties()
    with at_migration_0034() as unique:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(DISTINCT id), count(*) FROM {TABLE}")
            assert cursor.fetchone() == (3, 3)
        assert unique[("id",)]["primary_key"]
        assert not unique[("target_id", "position")]["primary_key"]
    assert "id" not in columns()


def test_going_back_on_sqlite_after_a_rebuild_gives_the_table_its_id_again(transactional_db):
    """A later migration's rebuild of the table (from the models: no id, the pair as the
    primary key) does not stop going back: the table is rebuilt with its id, its rows and its
    uniqueness, and the triggers still refuse changes."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite rebuilds tables from the models")
    first = three_properties()
    with connection.schema_editor() as editor:
        editor._remake_table(ModifiedProperty)
    assert "id" not in columns()
    with at_migration_0034() as unique:
        assert unique[("id",)]["primary_key"]
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (target_id, position, name) VALUES (%s, 0, 'x')",
                [first.pk],
            )
        assert_refused(f"UPDATE {TABLE} SET name = 'changed'", f"DELETE FROM {TABLE}")
