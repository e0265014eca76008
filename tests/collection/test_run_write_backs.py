"""Each collected page's Microsoft Substrate Management write-backs are annotated informational
as a file import's are, once each, and nothing else is: the page's own events are looked at
(by the ids it inserted), not the run's earlier ones again."""

import json

import pytest

from logs.annotations import SUBSTRATE_NOTE
from logs.collection.runs import CollectionRun
from logs.ingest.pushed import parse_body
from logs.models import Annotation, AuditEvent, CollectionSource
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db


def page(*records) -> list:
    parsed = parse_body(json.dumps({"value": list(records)}).encode(), max_records=100)
    assert not parsed.errors
    return parsed.records


def keep(locked) -> list[str]:
    return []


def annotated_ids() -> list[str]:
    return sorted(
        Annotation.objects.filter(
            kind=Annotation.Kind.INFORMATIONAL, text=SUBSTRATE_NOTE
        ).values_list("event__entra_id", flat=True)
    )


def test_write_backs_of_every_page_are_annotated_once():
    source = CollectionSource.objects.create(
        name="write-backs", kind="graph", url="https://origin.example/graph/v1.0", token_env="X"
    )
    run = CollectionRun(source, source_format="graph")
    early = GraphDirectoryAuditFactory(substrate=True, operationType="Update")
    late = GraphDirectoryAuditFactory(substrate=True, operationType="Delete")
    ordinary = [GraphDirectoryAuditFactory(operationType="Update") for _ in range(3)]
    assign = GraphDirectoryAuditFactory(substrate=True, operationType="Assign")
    run.store_page(page(ordinary[0], early), keep, where="page 1")
    assert annotated_ids() == [early["id"]]
    # The next page repeats the first page's write-back (Graph's overlap): stored once,
    # annotated once.
    run.store_page(page(early, ordinary[1], late, assign, ordinary[2]), keep, where="page 2")
    assert AuditEvent.objects.count() == 6
    assert annotated_ids() == sorted([early["id"], late["id"]])
    assert (run.result.new, run.result.duplicate) == (6, 1)
