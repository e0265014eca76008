"""The whole-month retention benchmark runs end to end on a tiny database (no timings are
asserted): both of its measures purge every month before the newest event's, and only that."""

import pytest

from benchmarks import retention
from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent

EVENTS = 300


@pytest.fixture
def data_file(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    return path


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "measure", [retention.whole_months_rate, retention.whole_months_rate_event_by_event]
)
def test_every_month_before_the_newest_event_s_is_purged(data_file, measure):
    newest_month = retention._newest_month_start()
    older = AuditEvent.objects.filter(activity_datetime__lt=newest_month).count()
    assert 0 < older < EVENTS

    figures = measure(str(data_file))

    assert figures["purged"] == older
    assert figures["rate"] > 0
    assert not AuditEvent.objects.filter(activity_datetime__lt=newest_month).exists()
    assert AuditEvent.objects.count() == EVENTS - older
    assert verify_chain().ok
