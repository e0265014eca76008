"""The chain export's rows hold exactly what each link hashes: every chained field, then the
normalisation notes when there are any, and nothing the walk reads besides (the details
list, the keys of the shared values). Recomputing every link from them gives the stored link."""

import pytest

from auditportal_verify.chain import CHAIN_FIELDS, chain_link
from logs.digests.rows import chain_rows
from logs.hash_chain import GENESIS
from logs.ingest.generated import store_generated_records
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db


def test_every_link_recomputes_from_the_rows_of_the_chain_export():
    records = [
        GraphDirectoryAuditFactory(additionalDetails=[{"key": "User-Agent", "value": "curl"}]),
        GraphDirectoryAuditFactory(additionalDetails=[], userAgent="Mozilla/5.0"),
        # A record with a misfit, stored with a normalisation note.
        GraphDirectoryAuditFactory(operationType=["Update"]),
    ]
    assert store_generated_records(records, label="chain rows").new == 3
    with_notes = AuditEvent.objects.exclude(normalisation_notes="").count()
    assert with_notes == 1

    previous = GENESIS
    lengths = []
    for seq, pk, link, fields in chain_rows():
        assert chain_link(previous, seq, fields) == link, pk
        lengths.append(len(fields))
        previous = link
    assert sorted(lengths) == [len(CHAIN_FIELDS)] * 2 + [len(CHAIN_FIELDS) + 1]
