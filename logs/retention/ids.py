"""Event ids as the archive manifest lists them and as SQL selects them."""

import json
from itertools import pairwise

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
# Beyond, a batch whose span has at most one hole for this many listed ids is selected as the
# span less its holes.
HOLES_PER_LISTED = 4


def id_condition(column: str, ids: list[int]) -> tuple[str, list]:
    """SQL selecting exactly ``ids`` in ``column``, and its parameters.

    Expired events are usually runs of consecutive ids (logs are imported in date order), and
    so are their targets' events: a few ``BETWEEN`` ranges let each table's index find the rows
    in order, where a list of 25,000 ids made PostgreSQL scan the targets and modified
    properties whole. Each range holds listed ids only, so the rows are exactly the same.

    Ids with many small holes (the events a legal hold keeps, spread through a part) are still
    one span read in index order: ``BETWEEN`` first and last, less the holes, the integers of
    the span that are not listed; exactly the listed ids again. As a list, 50,000 such ids
    took PostgreSQL twice as long to purge.
    """
    ranges = id_ranges(ids)
    if len(ranges) <= MAX_RANGES:
        condition = " OR ".join([f"{column} BETWEEN %s AND %s"] * len(ranges))
        return f"({condition})", [bound for run in ranges for bound in run]
    first, last = ranges[0][0], ranges[-1][1]
    listed = sum(end - start + 1 for start, end in ranges)
    if (last - first + 1 - listed) * HOLES_PER_LISTED <= listed:
        holes = [pk for (_, end), (start, _) in pairwise(ranges) for pk in range(end + 1, start)]
        span = f"{column} BETWEEN %s AND %s"
        if connection.vendor == "postgresql":
            return f"({span} AND {column} <> ALL(%s::bigint[]))", [first, last, _array(holes)]
        return (
            f"({span} AND {column} NOT IN (SELECT value FROM json_each(%s)))",
            [first, last, json.dumps(holes)],
        )
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [_array(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def _array(ids) -> str:
    # As one text literal: the driver adapts a list of ints one element at a time.
    return "{" + ",".join(map(str, ids)) + "}"
