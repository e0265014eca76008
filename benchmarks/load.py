"""Throughput under concurrent clients, as a deployment serves it (run by ``benchmarks.worker``).

gunicorn with the worker count the deployment guide gives (two per core: 4) serves the
populated database on a loopback port; 1, 4 and 16 clients, each a thread sending one request
after the other with the session of a signed-in superuser, ask for a fixed time each for the
changelist's views (default, a filter, a sort, a search) and, separately, for the API's pages
(first page, a filtered page, a sorted page). Each mix and client count gives its throughput
(answered requests per second), the median and 95th percentile of the answer times, and the
number of errors (any answer but 200, or a failed connection). The clients run in this
process, beside the server, on the same cores: every figure includes what they cost.

``BENCHMARK_LOAD_SECONDS`` sets the time per client count (default 10 s).
"""

import http.client
import os
import statistics
import threading
import time

from django.conf import settings
from django.test import Client

from benchmarks.browse import _superuser, pages
from benchmarks.served import HOST, Gunicorn
from logs.models import AuditEvent

WORKERS = 4
CLIENTS = (1, 4, 16)
MIXES = {
    "changelist": [
        "changelist default",
        "changelist category",
        "changelist sort initiator",
        "changelist search",
    ],
    "api": ["api first page", "api filtered", "api sorted by initiator"],
}


def load_figures(path: str) -> dict:
    """Throughput, p50, p95 and errors per mix and client count; ``path`` is unused."""
    seconds = float(os.environ.get("BENCHMARK_LOAD_SECONDS", "10"))
    urls = dict(pages())
    cookie = f"{settings.SESSION_COOKIE_NAME}={_session_key()}"
    rows, units = {}, {}
    with Gunicorn(workers=WORKERS) as port:
        for mix, names in MIXES.items():
            mix_urls = [urls[name] for name in names]
            # Every worker process warms its caches (and opens its connection) on every page.
            for url in mix_urls * WORKERS:
                _get(port, url, cookie)
            for clients in CLIENTS:
                result = _drive(port, mix_urls, cookie, clients, seconds)
                label = f"load {mix}, {clients} client{'s' if clients > 1 else ''}"
                rows[label] = result["throughput"]
                units[label] = "req/s"
                for key in ("p50", "p95"):
                    rows[f"{label} {key}"] = result[key]
                    units[f"{label} {key}"] = "ms"
                rows[f"{label} errors"] = result["errors"]
                units[f"{label} errors"] = "errors"
    return {"rows": rows, "units": units, "events": AuditEvent.objects.count()}


def _session_key() -> str:
    client = Client()
    client.force_login(_superuser())
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _drive(port: int, urls: list[str], cookie: str, clients: int, seconds: float) -> dict:
    """``clients`` threads asking in turn for ``urls`` until ``seconds`` have passed."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        position = number  # clients start on different pages
        while time.perf_counter() < deadline:
            url = urls[position % len(urls)]
            position += 1
            started = time.perf_counter()
            if _get(port, url, cookie):
                latencies[number].append((time.perf_counter() - started) * 1000)
            else:
                errors[number] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    answered = sorted(time_ for per_client in latencies for time_ in per_client)
    if not answered:
        raise RuntimeError(f"no request answered with {clients} clients ({sum(errors)} errors)")
    return {
        "throughput": len(answered) / elapsed,
        "p50": statistics.median(answered),
        "p95": answered[min(len(answered) - 1, int(len(answered) * 0.95))],
        "errors": sum(errors),
    }


def _get(port: int, url: str, cookie: str) -> bool:
    """True when ``url`` answered 200 with its whole body read."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request("GET", url, headers={"Cookie": cookie, "Host": HOST})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()
