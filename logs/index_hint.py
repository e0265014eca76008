"""A query's own table read through a named index on SQLite (``INDEXED BY``).

SQLite keeps no statistics unless ``ANALYZE`` is run, and without them it takes every equality
on an indexed column to match about ten rows, and a list of values ten rows per value. A query
for a few values of a column with many (some initiators) under a filter on a column with few
(a category) is therefore read through the category's index: every event of that category is
walked to find the initiators' few. Where the caller knows which index bounds the work (the
column sorts read a list of a column's values, which its (value, date) index answers value by
value: ``logs.sorting``), it names that index.

Statistics would not do instead: ``sqlite_stat1`` holds one average per index, so a rare value
of a column of few values (a failure status) is taken for as common as the others, and pages
filtered by it were planned on the date index (``docs/internals/performance.md``).

PostgreSQL keeps statistics of each value and plans these queries well; the hint is SQLite's
only, and the SQL PostgreSQL receives is unchanged.
"""

from django.db.models.sql.datastructures import BaseTable


class IndexedTable(BaseTable):
    """The base table of a query, read through ``index`` on SQLite."""

    def __init__(self, table_name: str, alias: str, index: str):
        super().__init__(table_name, alias)
        self.index = index

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        if connection.vendor == "sqlite":
            sql = f"{sql} INDEXED BY {connection.ops.quote_name(self.index)}"
        return sql, params

    def relabeled_clone(self, change_map):
        return self.__class__(
            self.table_name, change_map.get(self.table_alias, self.table_alias), self.index
        )

    @property
    def identity(self):
        return (*super().identity, self.index)


def through_index(queryset, index: str):
    """``queryset`` reading its model's table through ``index`` on SQLite (an index of that
    table: SQLite refuses a statement naming another). Querysets made from the result keep
    the hint."""
    hinted = queryset.all()
    query = hinted.query
    # The table's alias; made, as compiling the query would make it, if the query has none.
    alias = query.base_table if query.alias_map else query.get_initial_alias()
    table = query.alias_map[alias]
    query.alias_map[alias] = IndexedTable(table.table_name, table.table_alias, index)
    return hinted
