"""Writing N Graph-shaped records to one Graph page file, streamed, for the ingest benchmark.

The factories in ``logs.demo_data`` make about 5,000 records a second, which would spend minutes
on a million-record file before anything is measured. So a pool of factory-made records (real
activity names, targets, failures, Substrate write-backs) is made once, each turned into a
template (``benchmarks.record_template``), and the file is filled from the templates: each
record gets a fresh id, correlation id, date and caller address, and the people, groups and
applications it names are drawn from a tenant of tens of thousands of people, thousands of
groups and hundreds of applications (``benchmarks.population``), with a user agent and new
department or job title of its own. The mix of activities stays that of the demo data; the
values vary as much as a large tenant's, so that a compressor or an index learning across
records is not flattered by repetition a real log does not have.
"""

import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.population import biased, population
from benchmarks.record_template import compile_template
from logs.demo_data import generate_records

POOL_SIZE = 5000
# Part of the data file's name: a file written by an earlier generator is never reused.
GENERATOR_VERSION = 2
# Graph pages are newest first; the generated events spread over the 90 days before this moment.
NEWEST = datetime(2024, 11, 30, tzinfo=UTC)
SPAN = timedelta(days=90)
ODATA_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"
# Callers' addresses: the documentation ranges (RFC 5737, RFC 3849), never a real network's.
IPV4_NETWORKS = ("192.0.2", "198.51.100", "203.0.113")
IPV6_PREFIX = "2001:db8"
IPV6_SHARE = 0.3


def data_file(directory: Path, count: int, seed: int = 1) -> Path:
    """The file of ``count`` records for ``seed`` in ``directory``, written if not there yet."""
    path = Path(directory) / f"graph-{count}-seed{seed}-gen{GENERATOR_VERSION}.json"
    if not path.exists():
        write_records(path, count, seed)
    return path


def write_records(path: Path, count: int, seed: int = 1) -> None:
    """Write ``{"@odata.context": ..., "value": [...]}`` one record at a time.

    The file appears under its name only when complete, so an interrupted run never leaves a
    truncated file behind to be reused.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as stream:
        stream.write(f'{{"@odata.context":"{ODATA_CONTEXT}","value":[\n')
        for number, text in enumerate(iter_record_texts(count, seed)):
            if number:
                stream.write(",\n")
            stream.write(text)
        stream.write("\n]}\n")
    os.replace(partial, path)


def iter_records(count: int, seed: int = 1):
    """Yield ``count`` distinct records as dicts, newest first, repeatable for a given seed."""
    for text in iter_record_texts(count, seed):
        yield json.loads(text)


def iter_record_texts(count: int, seed: int = 1):
    """Yield ``count`` distinct records as compact JSON text, newest first, repeatable."""
    templates = [compile_template(r) for r in generate_records(min(count, POOL_SIZE), seed=seed)]
    tenant = population(seed)
    # Not the pool's generator's sequence: its ids must not come back as events' ids.
    rng = random.Random(f"records-{seed}")
    step = SPAN / max(count, 1)
    for number in range(count):
        # A file no larger than the pool holds each generated record once, so it has every
        # activity the generator made (the benchmarks filter by some); a larger one draws.
        template = templates[number] if count <= len(templates) else rng.choice(templates)
        objects = [biased(tenant.of_kind(kind), rng) for kind in template.kinds]
        correlation_id = _guid(rng)
        moment = NEWEST - step * number - timedelta(microseconds=rng.randrange(10**6))
        event = {
            "id": f"Directory_{correlation_id}_{_guid(rng)[:5].upper()}_{rng.randrange(10**8)}",
            "correlationId": correlation_id,
            "activityDateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randrange(10)}Z",
            "ipAddress": _address(rng),
            "userAgent": biased(tenant.user_agents, rng),
            "department": rng.choice(tenant.departments),
            "jobTitle": rng.choice(tenant.job_titles),
        }
        yield template.fill(objects, event)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _address(rng: random.Random) -> str:
    """A caller's address: people's sign-ins come from changing addresses, some IPv6."""
    if rng.random() < IPV6_SHARE:
        groups = ":".join(f"{rng.getrandbits(16):x}" for _ in range(6))
        return f"{IPV6_PREFIX}:{groups}"
    return f"{rng.choice(IPV4_NETWORKS)}.{rng.randrange(1, 255)}"
