"""A page's time beside the time its SQL took in the same request: the raw limit of a page.

The browse, graph and reports metrics time each request through Django's test client. While a
request runs, every query it sends is timed where it meets the database: the statement's
execution (``connection.execute_wrapper``) and the fetching of its rows. Fetching counts
because SQLite computes rows as they are fetched (``execute`` only steps to the first one) and
psycopg converts values when they are fetched. What remains of the page's time is Python: the
view, the ORM building queries and instances, templates, serializers, middleware.
"""

import time
from contextlib import contextmanager

from django.db import connection
from django.db.backends.utils import CursorWrapper

FETCHES = ("fetchone", "fetchmany", "fetchall")


class SqlClock:
    """Seconds spent in the database connection's statements and fetches while installed."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def _execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1

    @contextmanager
    def installed(self):
        """Time the default connection's queries, and every cursor's fetches, in this block.

        The fetches are methods CursorWrapper forwards to the driver's cursor through
        ``__getattr__``; defining them on the class for the block (and removing them after)
        times them without changing what they return.
        """
        clock = self

        def timed(name):
            def fetch(self, *args):
                started = time.perf_counter()
                try:
                    return getattr(self.cursor, name)(*args)
                finally:
                    clock.seconds += time.perf_counter() - started

            return fetch

        if any(name in vars(CursorWrapper) for name in FETCHES):
            raise RuntimeError("CursorWrapper defines its fetches itself: time them another way")
        for name in FETCHES:
            setattr(CursorWrapper, name, timed(name))
        try:
            with connection.execute_wrapper(self._execute):
                yield self
        finally:
            for name in FETCHES:
                delattr(CursorWrapper, name)


def timed_call(function) -> tuple[float, float, object]:
    """(total ms, SQL ms, result) of ``function()``, its SQL timed in the same call."""
    clock = SqlClock()
    with clock.installed():
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
    return elapsed * 1000, clock.seconds * 1000, result


def timed_get(client, url: str) -> tuple[float, float, object]:
    """(total ms, SQL ms, response) of one GET through ``client``."""
    return timed_call(lambda: client.get(url))
