"""The published Graph examples import with the values read off the raw files by hand."""

import hashlib
import json
from datetime import UTC, datetime

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent, ImportBatch, Initiator

pytestmark = pytest.mark.django_db


@pytest.fixture
def example1(fixtures_dir):
    return fixtures_dir / "graph" / "graph-docs-list-example1.json"


@pytest.fixture
def example2(fixtures_dir):
    return fixtures_dir / "graph" / "graph-docs-list-example2.json"


def test_example1_fields(example1):
    result = import_file(example1)
    assert (result.format, result.read, result.new, result.rejected) == ("graph", 1, 1, 0)
    event = AuditEvent.objects.get()
    assert event.entra_id == "id"
    # 7 fractional digits in the file (.7215374); Python keeps 6, the original keeps all.
    assert event.activity_datetime == datetime(2018, 1, 9, 21, 20, 2, 721537, tzinfo=UTC)
    assert '"2018-01-09T21:20:02.7215374Z"' in event.original
    assert event.service.name == "Core Directory"
    assert event.category.name == "UserManagement"
    assert event.activity.name == "Add member to group"
    assert event.operation_type == ""  # the example has no operationType
    assert event.result == "success"
    assert event.result_reason == "Successfully added member to group"
    assert event.correlation_id == "da159bfb-54fa-4092-8a38-6e1fa7870e30"
    assert event.initiator.kind == Initiator.Kind.USER
    assert event.initiator.user_object_id == "728309ae-1a37-4937-9afe-e35d964db09b"
    assert event.initiator.user_display_name == "Audry Oliver"
    assert event.initiator.user_principal_name == "bob@wingtiptoysonline.com"
    assert event.initiator_ip_address == "127.0.0.1"
    assert event.additional_details == [
        {"key": "Additional Detail Name", "value": "Additional Detail Value"}
    ]


def test_example1_targets_keep_order_and_capitalised_type(example1):
    import_file(example1)
    group, user = AuditEvent.objects.get().targets.all()
    # The file spells the key "Type"; it is read all the same.
    assert (group.position, group.type, group.object_id) == (
        0,
        "Group",
        "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95",
    )
    assert (group.display_name, group.group_type) == ("Example.com", "unifiedGroups")
    [prop] = group.modified_properties.all()
    assert (prop.name, prop.old_value, prop.new_value) == (
        "Action Client Name",
        None,
        "DirectorySync",
    )
    assert (user.position, user.type, user.display_name) == (1, "User", "")
    assert user.user_principal_name == "bob@contoso.com"
    assert user.modified_properties.count() == 0


def test_example2_zero_guid_user_is_the_system(example2):
    import_file(example2)
    event = AuditEvent.objects.get()
    assert event.entra_id == "SSGM_b662f17a-4e4d-4e1c-9248-cdec180024b2_MCDC4_88453290"
    assert event.activity_datetime == datetime(2024, 12, 27, 10, 1, 19, 579674, tzinfo=UTC)
    assert event.service.name == "Self-service Group Management"
    assert event.category.name == "GroupManagement"
    assert event.activity.name == "GroupLifecyclePolicies_Get"
    assert event.operation_type == "Update"
    assert (event.result, event.result_reason) == ("success", "OK")
    assert event.initiator.kind == Initiator.Kind.SYSTEM
    assert event.initiator.name == "System"
    assert event.initiator_ip_address == "10.0.0.0"
    [target] = event.targets.all()
    assert (target.type, target.object_id, target.display_name) == (
        "N/A",
        "00000000-0000-0000-0000-000000000000",
        "",
    )
    assert event.additional_details == []


@pytest.mark.parametrize("name", ["graph-docs-list-example1.json", "graph-docs-list-example2.json"])
def test_stored_original_equals_input_record(fixtures_dir, name):
    path = fixtures_dir / "graph" / name
    import_file(path)
    [record] = json.loads(path.read_text(encoding="utf-8"))["value"]
    assert json.loads(AuditEvent.objects.get().original) == record


def test_importing_again_adds_nothing(example1, example2):
    first = [import_file(example1), import_file(example2)]
    again = [import_file(example1), import_file(example2)]
    assert [r.new for r in first] == [1, 1]
    assert [(r.new, r.duplicate) for r in again] == [(0, 1), (0, 1)]
    assert AuditEvent.objects.count() == 2
    assert ImportBatch.objects.count() == 4


def test_import_batch_records_provenance(example1):
    result = import_file(example1, username="auditor")
    batch = ImportBatch.objects.get()
    assert batch == result.batch
    assert batch.file_name == str(example1)
    assert batch.format == "graph"
    assert batch.sha256 == hashlib.sha256(example1.read_bytes()).hexdigest()
    assert batch.imported_by_name == "auditor"
    assert (batch.records_read, batch.records_new, batch.records_duplicate) == (1, 1, 0)
    assert batch.status == ImportBatch.Status.COMPLETED
    assert AuditEvent.objects.get().import_batch == batch


def test_dry_run_stores_nothing(example1):
    result = import_file(example1, dry_run=True)
    assert (result.read, result.new) == (1, 1)
    assert AuditEvent.objects.count() == 0
    assert ImportBatch.objects.count() == 0
