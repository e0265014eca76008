"""An import collects garbage less often, and leaves the collector as it found it."""

import gc
import json

import pytest

from logs.ingest import loader as loader_module
from logs.ingest.garbage_collection import IMPORT_THRESHOLDS
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db


def _graph_file(path, *records):
    path.write_text(json.dumps({"value": list(records)}), encoding="utf-8")
    return path


def _collector_state():
    return gc.get_threshold(), gc.get_freeze_count()


@pytest.fixture
def collector_seen_while_storing(monkeypatch):
    """What the collector looked like each time the import stored a record."""
    seen = []
    add = loader_module.EventLoader.add

    def add_noting_the_collector(self, record):
        seen.append(_collector_state())
        return add(self, record)

    monkeypatch.setattr(loader_module.EventLoader, "add", add_noting_the_collector)
    return seen


def test_an_import_collects_less_often_and_restores_the_collector(
    tmp_path, collector_seen_while_storing
):
    before = _collector_state()
    path = _graph_file(tmp_path / "page.json", GraphDirectoryAuditFactory())

    assert import_file(path).new == 1

    threshold, frozen = collector_seen_while_storing[0]
    assert threshold == IMPORT_THRESHOLDS
    assert frozen > 0  # what existed before the import is set aside
    assert _collector_state() == before
    assert AuditEvent.objects.count() == 1


def test_a_failed_import_restores_the_collector_too(tmp_path, collector_seen_while_storing):
    before = _collector_state()
    good = GraphDirectoryAuditFactory()
    bad = {**GraphDirectoryAuditFactory(), "activityDateTime": "not a date"}
    path = _graph_file(tmp_path / "bad.json", good, bad)

    assert import_file(path).failed

    assert collector_seen_while_storing  # the first record got as far as the loader
    assert _collector_state() == before
    assert not AuditEvent.objects.exists()
