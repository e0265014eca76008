"""Hostile bodies pushed to ``POST /api/v1/ingest/`` of a served portal.

One 5 KB body holding a 5,000-digit integer crashed the server process; 100,000 nested lists
took most of a minute and answered 500, as did a date-time with no UTC equivalent. Each is now
a 400 naming the record (its index) and the field, and the server lives on. The portal runs as
a process of its own, so a crash shows as a dead server rather than the end of the test run.
"""

import json

import pytest

from tests.factories import GraphDirectoryAuditFactory
from tests.processes import ProcessDatabase, ServedPortal, ingestion_token
from tests.security.hostile import OVERFLOWING_DATE, SLOT

pytestmark = pytest.mark.django_db(transaction=True)

INGEST_URL = "/api/v1/ingest/"


@pytest.fixture
def ingest_token(django_user_model) -> str:
    return ingestion_token(django_user_model)


@pytest.fixture
def portal(ingest_token, tmp_path):
    database = ProcessDatabase.of_test_database(tmp_path)
    with ServedPortal(database, tmp_path / "portal.log") as served:
        yield served


def push(portal, token: str, body: bytes):
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    status, response_headers, content = portal.post(INGEST_URL, body, headers)
    try:
        return status, response_headers, json.loads(content)
    except ValueError:
        return status, response_headers, content[:2000]  # not a JSON answer: shown as it is


def page_with(raw: str, key: str = "extension") -> bytes:
    """A Graph page of two records, the second holding ``raw`` (JSON text) under ``key``."""
    first, second = GraphDirectoryAuditFactory(), GraphDirectoryAuditFactory()
    second[key] = SLOT
    return json.dumps({"value": [first, second]}).replace(json.dumps(SLOT), raw).encode()


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (page_with("9" * 5000), "extension", "holds a number that cannot be kept exactly"),
        (page_with("-" + "1" * 30), "extension", "holds a number that cannot be kept exactly"),
        (page_with("1e999"), "extension", "holds a number that cannot be kept exactly"),
        (
            page_with("[" * 100_000 + "]" * 100_000),
            "extension[0][0]",
            "nests objects and lists deeper than 64 levels",
        ),
        (
            page_with(json.dumps(OVERFLOWING_DATE), "activityDateTime"),
            "activityDateTime",
            "lies outside the range of dates",
        ),
    ],
    ids=["huge-integer", "beyond-64-bits", "beyond-double", "deep-nesting", "date-overflow"],
)
def test_a_hostile_value_is_a_400_naming_record_and_field(portal, ingest_token, body, field, says):
    status, _, answer = push(portal, ingest_token, body)

    assert status == 400, (status, answer, portal.log()[-2000:])
    [error] = answer["errors"]
    assert error["index"] == 1
    assert error["field"].startswith(field), error
    assert says in error["message"], error
    assert portal.alive()
    assert portal.database.count_events() == 0
    assert (
        portal.database.scalar(
            "SELECT status FROM logs_importbatch WHERE id = %s", [answer["import_batch"]]
        )
        == "failed"
    )
