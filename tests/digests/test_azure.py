"""Digests in an Azure Storage container, against Azurite."""

import pytest

from logs.digests import DigestError
from logs.models import AuditEvent, ChainDigest
from tests.azurite import KEY
from tests.digests.support import run_verify
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def container_digests(signing, settings, azurite, blob_container, monkeypatch):
    monkeypatch.setenv("AUDITPORTAL_DIGEST_CREDENTIAL", KEY)
    settings.AUDITPORTAL_DIGEST_URL = azurite.url(blob_container, "audit/digests")
    return azurite.service().get_container_client(blob_container)


def blobs(container) -> dict[str, bytes]:
    return {
        blob.name: container.download_blob(blob.name).readall() for blob in container.list_blobs()
    }


def test_each_digest_goes_to_the_folder_and_the_container_alike(signing, container_digests):
    store_events(1, 2)
    store_events(3)
    stored = blobs(container_digests)
    assert sorted(stored) == [
        "audit/digests/digest-000000000001.json",
        "audit/digests/digest-000000000002.json",
    ]
    for path in signing.digest_files():
        assert stored[f"audit/digests/{path.name}"] == path.read_bytes()
    ok, output = run_verify()
    assert ok, output


def test_a_digest_deleted_from_the_container_is_found(signing, settings, container_digests):
    settings.AUDITPORTAL_DIGEST_DIR = ""  # the container is the only outside copy
    store_events(1, 2)
    store_events(3)
    store_events(4)
    container_digests.delete_blob("audit/digests/digest-000000000002.json")
    ok, output = run_verify()
    assert not ok
    assert "difference: digest #2 is in the database but not in http://127.0.0.1:" in output
    assert "gap: digest #2 missing before digest #3" in output


def test_a_container_that_cannot_be_written_fails_the_import(
    signing, settings, azurite, monkeypatch
):
    monkeypatch.setenv("AUDITPORTAL_DIGEST_CREDENTIAL", KEY)
    settings.AUDITPORTAL_DIGEST_URL = azurite.url("no-such-container", "digests")
    with pytest.raises(DigestError, match=r"cannot write digest http://127\.0\.0\.1:"):
        store_events(1)
    assert not AuditEvent.objects.exists()
    assert not ChainDigest.objects.exists()
    assert signing.digest_files() == []


def test_a_missing_credential_is_named(signing, settings, azurite, monkeypatch):
    monkeypatch.delenv("AUDITPORTAL_DIGEST_CREDENTIAL", raising=False)
    settings.AUDITPORTAL_DIGEST_URL = azurite.url("any-container", "digests")
    with pytest.raises(DigestError, match="AUDITPORTAL_DIGEST_CREDENTIAL is not set"):
        store_events(1)
    assert not AuditEvent.objects.exists()
