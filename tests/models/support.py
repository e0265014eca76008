"""What the migration tests share: moving the schema, and checking that the triggers refuse."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from logs.originals import dictionaries


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # Going back past 0027 and forward again stores the shipped dictionary anew.
    dictionaries.forget()


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def assert_refused(*statements: str) -> None:
    """Each statement is refused by the immutability triggers."""
    for statement in statements:
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


def import_every_fixture() -> None:
    """Import every fixture file: each input format, as the sample data holds it."""
    from logs.ingest.importer import import_file
    from tests.support import FIXTURES_DIR

    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in {".json", ".csv"}:
            assert import_file(path).ok


def read_before(before, read):
    """Migrate back to ``before``, ``read()`` there, and forward to the latest migration again
    (also when reading fails); what was read."""
    leaves = leaf_nodes()
    try:
        migrate(before)
        return read()
    finally:
        migrate(leaves)
