"""The loader writes batches on a second thread; errors there surface in the importing thread
and nothing of the transaction survives them."""

import pytest
from django.db import transaction

from logs.ingest import bulk_insert, loader
from logs.ingest.importer import import_file
from logs.models import AuditEvent, Target
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_bad_input import graph_page, write_json

pytestmark = pytest.mark.django_db(transaction=True)


def test_writer_error_is_raised_in_the_caller_and_rolls_back(tmp_path, monkeypatch):
    real_insert = loader.insert_rows
    calls = []

    def failing_on_third_batch(model, columns, rows):
        if model is AuditEvent:
            calls.append(len(rows))
            if len(calls) == 3:
                raise RuntimeError("disk full")
        return real_insert(model, columns, rows)

    monkeypatch.setattr(loader, "insert_rows", failing_on_third_batch)
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(9)])
    )
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(path, batch_size=2)
    assert AuditEvent.objects.count() == 0
    assert Target.objects.count() == 0


def test_background_writer_waits_before_the_transaction_ends(tmp_path):
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(25)])
    )
    result = import_file(path, batch_size=4)
    assert (result.new, result.errors) == (25, [])
    assert AuditEvent.objects.count() == 25
    # Every event's targets are there: no batch was cut short by the commit.
    assert Target.objects.values("event").distinct().count() == 25


def test_jobs_run_in_the_callers_transaction():
    writer = bulk_insert.BackgroundWriter()
    seen = []
    with transaction.atomic():
        writer.submit(lambda: seen.append(transaction.get_connection().in_atomic_block))
        writer.close()
    assert seen == [True]


def test_a_job_error_is_raised_by_wait():
    writer = bulk_insert.BackgroundWriter()

    def fail():
        raise ValueError("boom")

    writer.submit(fail)
    with pytest.raises(ValueError, match="boom"):
        writer.wait()
    writer.close()
