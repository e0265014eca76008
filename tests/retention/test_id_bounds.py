"""The bounds at which a purge batch changes how it names its ids (``logs.retention.ids``): up
to 64 runs of consecutive ids, ranges; beyond, one span less its holes while there is at most
one hole for every four listed ids; else a list. Whatever the form, exactly the listed ids.

The bounds are written out here, not read from the module, so that a bound quietly moved there
fails this test.
"""

import pytest
from django.db import connection

from logs.retention.ids import id_condition

RANGES_AT_MOST = 64
LISTED_PER_HOLE = 4


def selected(ids: list[int]) -> list[int]:
    """The integers 1..(last + 5) that the condition on ``ids`` selects, by the database."""
    condition, parameters = id_condition("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE numbers(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM numbers "
            f"WHERE id < %s) SELECT id FROM numbers WHERE {condition} ORDER BY id",
            [max(ids) + 5, *parameters],
        )
        return [row[0] for row in cursor.fetchall()]


def runs_of(lengths: list[int]) -> list[int]:
    """Runs of consecutive ids of these lengths, one id left out between runs."""
    ids, next_id = [], 3
    for length in lengths:
        ids += range(next_id, next_id + length)
        next_id += length + 1
    return ids


def form(ids: list[int]) -> str:
    condition, parameters = id_condition("id", ids)
    if "BETWEEN" not in condition:
        return "list"
    if condition.count("BETWEEN") == 1 and len(parameters) == 3:
        return "span less holes"
    assert condition.count("BETWEEN") == len(parameters) / 2
    return f"{condition.count('BETWEEN')} ranges"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("runs", "expected"),
    [(RANGES_AT_MOST, f"{RANGES_AT_MOST} ranges"), (RANGES_AT_MOST + 1, "list")],
)
def test_ranges_up_to_the_bound_then_a_list(runs, expected):
    ids = runs_of([1] * runs)  # one hole for every listed id: far too many for a span
    assert form(ids) == expected
    assert selected(ids) == ids


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        (LISTED_PER_HOLE * RANGES_AT_MOST, "span less holes"),  # 64 holes, 256 listed
        (LISTED_PER_HOLE * RANGES_AT_MOST - 1, "list"),  # 64 holes, 255 listed
    ],
)
def test_a_span_while_holes_are_at_most_a_quarter_of_the_listed(listed, expected):
    runs = RANGES_AT_MOST + 1  # beyond ranges, with 64 holes between the runs
    lengths = [listed // runs + (number < listed % runs) for number in range(runs)]
    ids = runs_of(lengths)
    assert len(ids) == listed

    assert form(ids) == expected
    assert selected(ids) == ids
