"""A Graph page reads its events by id and, in month partitions, by the dates its keys were
read with: by id alone PostgreSQL looked the page's ids up in every month's partition."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.partitions import partitioned
from tests.factories import AuditEventFactory
from tests.graph.support import V1_LIST

pytestmark = pytest.mark.django_db


def test_a_page_reads_its_events_in_their_months_only(graph):
    start = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    # Two months apart, so that the page spans partitions.
    events = [AuditEventFactory(activity_datetime=start + timedelta(days=31 * n)) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        response = graph.get(V1_LIST, {"$top": "2", "$orderby": "activityDateTime asc"})
    assert [record["id"] for record in response.json()["value"]] == [
        event.entra_id for event in events[:2]
    ]
    [read] = [q["sql"] for q in queries.captured_queries if '"original"' in q["sql"]]
    if partitioned(connection):
        assert '"activity_datetime" = ANY(' in read
        assert "2026-09-30 23:00:00.000000+00" in read
    else:
        assert '"activity_datetime"' not in read.split("WHERE", 1)[1]
