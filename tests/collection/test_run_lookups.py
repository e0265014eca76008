"""A run carries the lookup rows its committed pages found or created (services, categories,
activities, initiators, target names) from page to page; what a page rolled back created is
not carried (its rows are gone), so the next page creates them again."""

import json

import pytest

from logs.collection.runs import CollectionRun
from logs.ingest.pushed import parse_body
from logs.models import AuditEvent, CollectionSource
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db

SERVICE = "Service first seen in a page rolled back"


class PositionRefused(Exception):
    """Raised by a page's ``advance``: its transaction rolls back after the records were
    written, lookups included."""


def page(*records) -> list:
    parsed = parse_body(json.dumps({"value": list(records)}).encode(), max_records=100)
    assert not parsed.errors
    return parsed.records


def refuse(locked) -> list[str]:
    raise PositionRefused


def keep(locked) -> list[str]:
    return []


def test_a_page_rolled_back_leaves_nothing_in_the_runs_lookups():
    source = CollectionSource.objects.create(
        name="lookups", kind="graph", url="https://origin.example/graph/v1.0", token_env="X"
    )
    run = CollectionRun(source, source_format="graph")
    first = GraphDirectoryAuditFactory(loggedByService=SERVICE)
    with pytest.raises(PositionRefused):
        run.store_page(page(first), refuse, where="page 1")
    assert not AuditEvent.objects.exists()
    second = GraphDirectoryAuditFactory(loggedByService=SERVICE)
    run.store_page(page(second), keep, where="page 2")
    stored = AuditEvent.objects.select_related("service").get()
    assert (stored.entra_id, stored.service.name) == (second["id"], SERVICE)


def test_lookups_found_by_one_page_serve_the_next():
    """Records of a second page naming the first page's service, initiator and targets are
    stored with the very rows the first page created: none is created twice."""
    source = CollectionSource.objects.create(
        name="lookups", kind="graph", url="https://origin.example/graph/v1.0", token_env="X"
    )
    run = CollectionRun(source, source_format="graph")
    first = GraphDirectoryAuditFactory(loggedByService=SERVICE)
    second = {
        **GraphDirectoryAuditFactory(loggedByService=SERVICE),
        "initiatedBy": first["initiatedBy"],
    }
    second["targetResources"] = first["targetResources"]
    run.store_page(page(first), keep, where="page 1")
    run.store_page(page(second), keep, where="page 2")
    events = {event.entra_id: event for event in AuditEvent.objects.all()}
    one, two = events[first["id"]], events[second["id"]]
    assert (one.service_id, one.initiator_id) == (two.service_id, two.initiator_id)
    assert [t.display_name for t in two.targets.all()] == [
        t.display_name for t in one.targets.all()
    ]
