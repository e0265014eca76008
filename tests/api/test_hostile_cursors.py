"""Whatever a cursor holds, every paged list of the API answers its page or refuses the cursor
with 400: the event list in each of its orderings (the date's and the column sorts') and the
lookup lists. A cursor is the client's text; it reached the database as a key, so a NUL
(PostgreSQL refuses it), a date with no UTC equivalent (SQLite's adapter overflowed) or JSON
nested past the parser's depth each ended in a 500 on some list."""

import base64
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logs.filters import ORDERINGS
from tests.support import DATES_AT_ANY_OFFSET, EVENTS_URL

pytestmark = pytest.mark.django_db

LISTS = [
    *((EVENTS_URL, ordering) for ordering in ORDERINGS),
    ("/api/v1/services/", None),
    ("/api/v1/categories/", None),
    ("/api/v1/activities/", None),
    ("/api/v1/initiators/", None),
]
DATES = DATES_AT_ANY_OFFSET.map(datetime.isoformat)
KEY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.text(max_size=5).map(lambda text: f"{text}\x00"),
    DATES,
)
PAYLOADS = st.fixed_dictionaries(
    {"p": st.lists(KEY_VALUES, max_size=4)},
    optional={"r": st.one_of(st.integers(-1, 2), st.text(max_size=2))},
).map(json.dumps)


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(("url", "ordering"), LISTS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(payload="[" * 1000 + "]" * 1000)
@example(payload=json.dumps({"p": ["\x00", 1]}))
@example(payload=json.dumps({"p": ["\x00", "2024-11-01T00:00:00Z", 1]}))
@example(payload=json.dumps({"p": [1, "0001-01-01T00:00:00+05:00", 1]}))
@example(payload=json.dumps({"p": ["0001-01-01T00:00:00+05:00", 1], "r": 0}))
@example(payload=json.dumps({"p": ["9999-12-31T23:59:59-05:00", 1]}))
@given(payload=PAYLOADS)
def test_any_cursor_is_a_page_or_a_400(api, six_events, url, ordering, payload):
    query = {"cursor": encoded(payload), **({"ordering": ordering} if ordering else {})}
    response = api.get(url, query)
    assert response.status_code in (200, 400), (query, response.content[:300])
    if response.status_code == 400:
        assert list(response.json()) == ["cursor"]
