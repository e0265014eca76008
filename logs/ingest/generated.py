"""Storing records that were generated in memory (demo data), through the same checks as a file."""

from django.db import transaction

from logs.annotations import annotate_substrate
from logs.ingest.batches import open_batch, release_claim
from logs.ingest.errors import FieldError
from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.importer import ImportResult, describe_failure, finish_batch
from logs.ingest.json_stream import to_original
from logs.ingest.loader import DEFAULT_BATCH_SIZE, EventLoader
from logs.models import AuditEvent, ImportBatch


def store_generated_records(records, *, label: str, on_progress=None) -> ImportResult:
    """Normalise and store Graph-shaped dicts; one ImportBatch records where they came from."""
    result = ImportResult(path=label, format="graph")
    batch = open_batch(file_name=label, format="graph")
    try:
        _store(records, result, batch, on_progress)
    except BaseException as error:
        result.failed = True
        result.errors.append(f"{label}: {describe_failure(error)}")
        finish_batch(batch, result)
        raise
    finally:
        release_claim(batch)
    return result


def _store(records, result: ImportResult, batch: ImportBatch, on_progress) -> None:
    loader = EventLoader(source_format="graph", import_batch=batch)
    with transaction.atomic(), loader:
        for number, record in enumerate(records, start=1):
            result.read += 1
            try:
                loader.add(
                    normalize_graph_record(
                        record, original=to_original(record), location=f"record {number}"
                    )
                )
            except FieldError as error:
                result.rejected += 1
                result.errors.append(f"record {number}: {error}")
            if on_progress and number % DEFAULT_BATCH_SIZE == 0:
                on_progress(number)
        loader.flush()
        annotate_substrate(AuditEvent.objects.filter(import_batch=batch), source="import")
    result.new, result.duplicate = loader.counts.new, loader.counts.duplicate
    finish_batch(batch, result)
