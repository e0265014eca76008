"""Event ids as the archive manifest lists them and as SQL selects them."""

import json

from django.db import connection


def id_ranges(ids) -> list[list[int]]:
    """Sorted ids as ``[first, last]`` runs: the manifest stays small when ids are dense."""
    ranges: list[list[int]] = []
    for pk in sorted(ids):
        if ranges and ranges[-1][1] == pk - 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


def ids_of(ranges) -> list[int]:
    return [pk for first, last in ranges for pk in range(first, last + 1)]


# Up to this many runs of consecutive ids, a batch is selected by id ranges.
MAX_RANGES = 64


def id_condition(column: str, ids: list[int]) -> tuple[str, list]:
    """SQL selecting exactly ``ids`` in ``column``, and its parameters.

    Expired events are usually runs of consecutive ids (logs are imported in date order), and
    so are their targets' events: a few ``BETWEEN`` ranges let each table's index find the rows
    in order, where a list of 25,000 ids made PostgreSQL scan the targets and modified
    properties whole. Each range holds listed ids only, so the rows are exactly the same.
    """
    ranges = id_ranges(ids)
    if len(ranges) <= MAX_RANGES:
        condition = " OR ".join([f"{column} BETWEEN %s AND %s"] * len(ranges))
        return f"({condition})", [bound for run in ranges for bound in run]
    if connection.vendor == "postgresql":
        # As one text literal: the driver adapts a list of ints one element at a time.
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(map(str, ids)) + "}"]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]
