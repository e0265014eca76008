"""``annotate_substrate``: annotates stored write-backs once, prints counts, dry run writes
nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from logs.activity_catalogue import SUBSTRATE_APP_ID, SUBSTRATE_DISPLAY_NAME
from logs.models import AccessRecord, Annotation, Initiator
from tests.factories import AuditEventFactory, InitiatorFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("annotate_substrate", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stored_write_backs():
    # Stored before the rule existed (no annotation), as data imported by an older version.
    substrate = InitiatorFactory(
        kind=Initiator.Kind.APP, app_id=SUBSTRATE_APP_ID, app_display_name=SUBSTRATE_DISPLAY_NAME
    )
    for operation in ["Update", "Add", "Assign"]:
        AuditEventFactory(initiator=substrate, operation_type=operation)


def test_dry_run_counts_and_writes_nothing(stored_write_backs):
    assert "2 Substrate write-backs found, 0 already annotated, 2 would be annotated" in run(
        "--dry-run"
    )
    assert not Annotation.objects.exists()
    assert not AccessRecord.objects.exists()


def test_annotates_once_and_records_the_run(stored_write_backs):
    assert "2 Substrate write-backs found, 0 already annotated, 2 annotated now" in run()
    assert "2 Substrate write-backs found, 2 already annotated, 0 annotated now" in run()
    assert Annotation.objects.filter(source="annotate_substrate").count() == 2
    second, first = AccessRecord.objects.filter(action="annotate")
    assert (first.row_count, second.row_count) == (2, 0)
    assert second.detail == {
        "command": "annotate_substrate",
        "matched": 2,
        "already": 2,
        "annotated": 0,
    }
