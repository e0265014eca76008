"""What a $filter selects, checked against a reference: generated filters of the supported
forms (hypothesis), with values taken from the stored events in other letter cases, as
prefixes and as date boundaries, must serve exactly the events a plain Python reading of
Graph's semantics selects from the served records themselves.

Names change case in ASCII letters only: SQLite folds no other letters' case (docs/api/rest.md).
"""

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logs.ingest.importer import import_file
from tests.graph.support import V1_LIST, served_ids
from tests.support import FIXTURES_DIR, SIX_EVENTS_FILE

pytestmark = pytest.mark.django_db

# (Graph property path, how the reference reads it from a served record, compares as a name)
STRING_FORMS = [
    ("activityDisplayName", lambda r: [r["activityDisplayName"]], True),
    ("category", lambda r: [r["category"]], True),
    ("loggedByService", lambda r: [r["loggedByService"]], True),
    ("correlationId", lambda r: [r["correlationId"]], False),
    ("id", lambda r: [r["id"]], False),
    ("initiatedBy/user/id", lambda r: [_user(r).get("id")], False),
    ("initiatedBy/user/displayName", lambda r: [_user(r).get("displayName")], True),
    ("initiatedBy/user/userPrincipalName", lambda r: [_user(r).get("userPrincipalName")], True),
    ("initiatedBy/app/appId", lambda r: [_app(r).get("appId")], False),
    ("initiatedBy/app/displayName", lambda r: [_app(r).get("displayName")], True),
    ("t/id", lambda r: [t["id"] for t in r["targetResources"]], False),
    ("t/displayName", lambda r: [t["displayName"] for t in r["targetResources"]], True),
]
STARTSWITH = {"activityDisplayName", "initiatedBy/user/userPrincipalName", "t/displayName"}
DATE_OPERATORS = {
    "eq": lambda a, b: a == b,
    "ge": lambda a, b: a >= b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
}


def _user(record) -> dict:
    return (record["initiatedBy"] or {}).get("user") or {}


def _app(record) -> dict:
    return (record["initiatedBy"] or {}).get("app") or {}


def _moment(text: str) -> datetime:
    """A served date as the archive compares it: to the microsecond."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")


def _ascii_case(text: str, flips: list[bool]) -> str:
    return "".join(
        (c.swapcase() if c.isascii() and flip else c)
        for c, flip in zip(text, flips + [False] * len(text), strict=False)
    )


@pytest.fixture
def records(db, graph) -> list[dict]:
    assert import_file(SIX_EVENTS_FILE).ok
    for name in ["graph-docs-list-example1.json", "graph-beta-docs-list-example1.json"]:
        assert import_file(FIXTURES_DIR / "graph" / name).ok
    return graph.get(V1_LIST).json()["value"]


@st.composite
def clauses(draw, records: list[dict]):
    """(the clause's $filter text, the reference predicate on a served record)"""
    record = draw(st.sampled_from(records))
    if draw(st.integers(0, 3)) == 0:
        operator = draw(st.sampled_from(list(DATE_OPERATORS)))
        text = record["activityDateTime"]
        moment = _moment(text)
        compare = DATE_OPERATORS[operator]
        return (
            f"activityDateTime {operator} {text}",
            lambda r: compare(_moment(r["activityDateTime"]), moment),
        )
    path, read, is_name = draw(st.sampled_from(STRING_FORMS))
    values = [value for value in read(record) if value]
    if not values:
        values = ["no-such-value"]
    value = draw(st.sampled_from(values))
    prefix = path in STARTSWITH and draw(st.booleans())
    if prefix:
        value = value[: draw(st.integers(1, len(value)))]
    if is_name:
        value = _ascii_case(value, draw(st.lists(st.booleans(), max_size=len(value))))
    quoted = "'" + value.replace("'", "''") + "'"
    folded = str.lower if is_name else str

    def matches(candidate) -> bool:
        if candidate is None:
            return False
        if prefix:
            return folded(candidate).startswith(folded(value))
        return folded(candidate) == folded(value)

    condition = f"startswith({path}, {quoted})" if prefix else f"{path} eq {quoted}"
    if path.startswith("t/"):
        condition = f"targetResources/any(t: {condition})"
    return condition, lambda r: any(matches(candidate) for candidate in read(r))


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_filter_serves_exactly_what_graphs_semantics_select(graph, records, data):
    chosen = data.draw(st.lists(clauses(records), min_size=1, max_size=3))
    graph_filter = " and ".join(text for text, _ in chosen)
    expected = [r["id"] for r in records if all(predicate(r) for _, predicate in chosen)]
    assert served_ids(graph.get(V1_LIST, {"$filter": graph_filter})) == expected, graph_filter
