"""The SQL time a page reports is its queries' time in the same request, and nothing else."""

import time

import pytest
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks import browse
from benchmarks.sql_time import SqlClock, timed_call, timed_get
from tests.factories import AuditEventFactory


@pytest.mark.django_db
def test_every_query_of_a_page_is_counted_and_its_time_is_part_of_the_page():
    AuditEventFactory.create_batch(5)
    client = Client(HTTP_HOST="localhost")
    client.force_login(browse._superuser())
    with CaptureQueriesContext(connection) as captured:
        clock = SqlClock()
        with clock.installed():
            started = time.perf_counter()
            response = client.get(browse.CHANGELIST)
            total = time.perf_counter() - started
    assert response.status_code == 200
    assert clock.queries == len(captured.captured_queries) > 0
    assert 0 < clock.seconds < total


@pytest.mark.django_db
def test_fetching_rows_counts_and_the_cursor_is_left_as_it_was():
    def slow_rows():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchall()

    total, sql, rows = timed_call(slow_rows)
    assert rows == [(1,)] and 0 < sql <= total
    assert not {"fetchone", "fetchmany", "fetchall"} & set(vars(CursorWrapper))


def test_python_work_is_not_counted_as_sql():
    total, sql, _ = timed_call(lambda: time.sleep(0.05))
    assert total >= 50 and sql == 0


@pytest.mark.django_db
def test_timed_get_answers_the_response():
    client = Client(HTTP_HOST="localhost")
    client.force_login(browse._superuser())
    total, sql, response = timed_get(client, browse.EVENTS_API)
    assert response.status_code == 200 and 0 < sql < total
