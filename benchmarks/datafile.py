"""Writing N Graph-shaped records to one Graph page file, streamed, for the ingest benchmark.

The factories in ``logs.demo_data`` make about 5,000 records a second, which would spend minutes
on a million-record file before anything is measured. So a pool of factory-made records (real
activity names, actors, targets, failures, Substrate write-backs) is made once, and the file is
filled with copies that each get a fresh id, correlation id, date and caller IP address: every
record is a distinct event, and the mix stays that of the demo data.
"""

import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logs.demo_data import generate_records

POOL_SIZE = 5000
# Graph pages are newest first; the generated events spread over the 90 days before this moment.
NEWEST = datetime(2024, 11, 30, tzinfo=UTC)
SPAN = timedelta(days=90)
ODATA_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"


def data_file(directory: Path, count: int, seed: int = 1) -> Path:
    """The file of ``count`` records for ``seed`` in ``directory``, written if not there yet."""
    path = Path(directory) / f"graph-{count}-seed{seed}.json"
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
        for number, record in enumerate(iter_records(count, seed)):
            if number:
                stream.write(",\n")
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        stream.write("\n]}\n")
    os.replace(partial, path)


def iter_records(count: int, seed: int = 1):
    """Yield ``count`` distinct records, newest first, repeatable for a given seed."""
    pool = list(generate_records(min(count, POOL_SIZE), seed=seed))
    rng = random.Random(seed)
    step = SPAN / max(count, 1)
    for number in range(count):
        # A file no larger than the pool holds each generated record once, so it has every
        # activity the generator made (the benchmarks filter by some); a larger one draws.
        template = pool[number] if count <= len(pool) else pool[rng.randrange(len(pool))]
        correlation_id = _guid(rng)
        moment = NEWEST - step * number - timedelta(microseconds=rng.randrange(10**6))
        record = dict(
            template,
            id=f"Directory_{correlation_id}_{_guid(rng)[:5].upper()}_{rng.randrange(10**8)}",
            correlationId=correlation_id,
            activityDateTime=moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{rng.randrange(10)}Z",
        )
        record["initiatedBy"] = _with_fresh_ip(template["initiatedBy"], rng)
        yield record


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _with_fresh_ip(initiated_by, rng: random.Random):
    """A person's sign-ins come from changing addresses; apps and the system carry none."""
    if not initiated_by or not initiated_by.get("user"):
        return initiated_by
    user = dict(initiated_by["user"], ipAddress=f"203.0.113.{rng.randrange(1, 255)}")
    return dict(initiated_by, user=user)
