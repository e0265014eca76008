"""The loader stores batches in a pipeline on a second thread; errors there surface in the
importing thread and nothing of the transaction survives them."""

import pytest
from django.db import transaction

from logs.ingest import bulk_insert, loader
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.importer import import_file
from logs.ingest.json_stream import to_original
from logs.integrity import verify_chain
from logs.models import AuditEvent, ImportBatch, Target
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
    assert_import_fails_storing_nothing(tmp_path, events=9, message="disk full")


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


def test_a_record_repeated_in_the_next_batch_counts_as_a_duplicate(tmp_path):
    # Batch N+1 is checked before batch N is inserted: the check must see N all the same.
    records = [GraphDirectoryAuditFactory() for _ in range(7)]
    a, b, c, d, e, f, g = records
    path = write_json(tmp_path / "page.json", graph_page(a, b, c, a, d, e, b, f, g, g))
    result = import_file(path, batch_size=3)
    assert (result.new, result.duplicate, result.errors) == (7, 3, [])
    assert sorted(AuditEvent.objects.values_list("entra_id", flat=True)) == sorted(
        record["id"] for record in records
    )


def test_ids_and_chain_positions_run_on_across_batches():
    records = [normalized(GraphDirectoryAuditFactory(), number) for number in range(11)]
    with transaction.atomic(), loader.EventLoader(source_format="graph", batch_size=4) as load:
        for record in records:
            load.add(record)
        load.flush()
    stored = list(AuditEvent.objects.order_by("chain_seq").values_list("id", "entra_id"))
    assert [entra_id for _, entra_id in stored] == [record.entra_id for record in records]
    ids = [pk for pk, _ in stored]
    assert ids == sorted(ids) and len(set(ids)) == 11
    assert load.new_event_id_range == (ids[0], ids[-1])
    assert verify_chain().ok


def test_the_pipeline_needs_the_callers_transaction():
    with (
        pytest.raises(RuntimeError, match=r"transaction\.atomic"),
        loader.EventLoader(source_format="graph"),
    ):
        pass


def test_a_failed_check_is_raised_in_the_caller_and_rolls_back(tmp_path, monkeypatch):
    real_check = loader._stored_content_hashes
    calls = []

    def failing_on_second_batch(entra_ids):
        calls.append(entra_ids)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real_check(entra_ids)

    monkeypatch.setattr(loader, "_stored_content_hashes", failing_on_second_batch)
    assert_import_fails_storing_nothing(tmp_path, events=6, message="connection lost")


def assert_import_fails_storing_nothing(tmp_path, *, events: int, message: str):
    """Import ``events`` records in batches of 2: the error surfaces in the result, the batch
    is closed as failed, and nothing is kept."""
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(events)])
    )
    result = import_file(path, batch_size=2)
    assert result.failed
    assert result.errors == [f"{path}: import failed: RuntimeError: {message}"]
    assert result.batch.status == ImportBatch.Status.FAILED
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert AuditEvent.objects.count() == 0
    assert Target.objects.count() == 0


def normalized(record: dict, number: int):
    return normalize_graph_record(
        record, original=to_original(record), location=f"record {number + 1}"
    )
