"""Digests are written after every change to the chain, inside the change's transaction."""

import itertools
import json
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import transaction

from auditportal_verify.digests import (
    NO_PREVIOUS,
    check_digests,
    fingerprint,
    load_public_key,
    parse_digest,
    payload_hash,
)
from logs.digests import DigestError
from logs.models import AuditEvent, ChainCheckpoint, ChainDigest, ImportBatch
from logs.retention.purge import purge_batch
from tests.digests.support import run_verify
from tests.factories import AuditEventFactory
from tests.retention.support import store_events
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

GRAPH_PAGE = FIXTURES_DIR / "graph" / "graph-docs-list-example1.json"


def import_file(path, *arguments) -> str:
    out = StringIO()
    call_command("import_audit_logs", str(path), *arguments, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_import_writes_one_signed_digest_in_the_database_and_the_folder(signing):
    import_file(GRAPH_PAGE)
    count = AuditEvent.objects.count()
    assert count > 0
    (row,) = ChainDigest.objects.all()
    (path,) = signing.digest_files()
    assert path.name == "digest-000000000001.json"
    digest = parse_digest(path.read_bytes(), str(path))
    assert digest.payload == json.loads(row.payload)
    assert digest.signature == bytes(row.signature)
    head = AuditEvent.objects.get(chain_seq=count)
    assert digest.payload["first_seq"] == 1
    assert digest.payload["last_seq"] == digest.payload["events"] == count
    assert digest.payload["last_link"] == bytes(head.chain_link).hex()
    assert digest.payload["previous_digest"] == NO_PREVIOUS
    public = load_public_key(signing.public_key)
    assert digest.key == fingerprint(public)
    assert check_digests([digest], [public]).findings == []


def test_each_later_change_names_the_digest_before_it(signing):
    store_events(1, 2)
    AuditEventFactory()  # a single save is a transaction of its own
    store_events(3)
    digests = [parse_digest(path.read_bytes(), str(path)) for path in signing.digest_files()]
    assert [(d.first_seq, d.last_seq) for d in digests] == [(1, 2), (3, 3), (4, 4)]
    for previous, digest in itertools.pairwise(digests):
        assert digest.payload["previous_digest"] == payload_hash(previous.payload)
    assert check_digests(digests, [load_public_key(signing.public_key)]).findings == []


def test_an_import_of_nothing_new_writes_no_digest(signing):
    import_file(GRAPH_PAGE)
    import_file(GRAPH_PAGE)
    assert ChainDigest.objects.count() == 1
    assert len(signing.digest_files()) == 1


def test_a_dry_run_writes_no_digest(signing):
    import_file(GRAPH_PAGE, "--dry-run")
    assert not AuditEvent.objects.exists()
    assert not ChainDigest.objects.exists()
    assert signing.digest_files() == []


@pytest.fixture
def push(django_user_model):
    from django.contrib.auth.models import Group
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from logs.roles import INGESTION_SERVICE

    user = django_user_model.objects.create_user("entra-export-job")
    user.groups.add(Group.objects.get(name=INGESTION_SERVICE))
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return lambda: client.generic(
        "POST", "/api/v1/ingest/", GRAPH_PAGE.read_bytes(), content_type="application/json"
    )


def test_a_pushed_page_writes_a_digest(signing, push):
    response = push()
    assert response.status_code == 201, response.content
    (row,) = ChainDigest.objects.all()
    assert row.last_seq == AuditEvent.objects.count()


def test_a_push_whose_digest_cannot_be_written_is_a_503_storing_nothing(signing, settings, push):
    blocker = signing.tmp / "not-a-folder"
    blocker.write_text("")
    settings.AUDITPORTAL_DIGEST_DIR = str(blocker / "digests")
    response = push()
    assert response.status_code == 503
    assert "signed digest" in response.json()["detail"]
    assert "Retry-After" in response
    assert not AuditEvent.objects.exists()
    assert not ChainDigest.objects.exists()


def test_a_retention_batch_writes_a_digest_listing_its_checkpoint(signing):
    store_events(1, 2, 3)
    oldest = AuditEvent.objects.get(chain_seq=1)
    purge_batch([oldest.pk], "run-1")
    checkpoint = ChainCheckpoint.objects.get()
    digest = ChainDigest.objects.order_by("number").last()
    payload = json.loads(digest.payload)
    assert (payload["first_seq"], payload["last_seq"], payload["events"]) == (4, 3, 0)
    assert payload["checkpoints"] == [
        {
            "id": checkpoint.pk,
            "run": "run-1",
            "link": bytes(checkpoint.link).hex(),
            "ranges": [[1, 1, bytes(oldest.chain_link).hex()]],
        }
    ]
    ok, output = run_verify()
    assert ok, output
    assert "positions 1\u20133, 0 gaps, 2 events" in output


def test_a_digest_that_cannot_be_written_outside_fails_the_import(signing, settings):
    blocker = signing.tmp / "not-a-folder"
    blocker.write_text("")
    settings.AUDITPORTAL_DIGEST_DIR = str(blocker / "digests")
    with pytest.raises(DigestError, match="cannot write digest"):
        store_events(1, 2)
    assert not AuditEvent.objects.exists()
    assert not ChainDigest.objects.exists()


def test_a_different_file_under_the_next_number_is_never_replaced(signing):
    signing.digest_dir.mkdir()
    stale = signing.digest_dir / "digest-000000000001.json"
    stale.write_text('{"a digest": "written by a transaction that did not commit"}\n')
    with pytest.raises(DigestError, match="already exists and differs"):
        store_events(1)
    assert not AuditEvent.objects.exists()
    assert stale.read_text().startswith('{"a digest"')


def test_an_import_whose_digest_cannot_be_written_fails_saying_why(signing, settings):
    blocker = signing.tmp / "not-a-folder"
    blocker.write_text("")
    settings.AUDITPORTAL_DIGEST_DIR = str(blocker / "digests")
    err = StringIO()
    with pytest.raises(CommandError, match="1 file\\(s\\) failed"):
        call_command("import_audit_logs", str(GRAPH_PAGE), stdout=StringIO(), stderr=err)
    assert "cannot write digest" in err.getvalue()
    assert not AuditEvent.objects.exists()


def test_a_key_without_an_outside_location_is_refused(signing, settings):
    settings.AUDITPORTAL_DIGEST_DIR = ""
    with pytest.raises(DigestError, match="neither AUDITPORTAL_DIGEST_DIR"):
        store_events(1)
    assert not AuditEvent.objects.exists()


def test_a_key_file_that_is_not_a_key_is_refused_naming_it(signing, settings):
    bad = signing.tmp / "bad.pem"
    bad.write_text("not a key\n")
    settings.AUDITPORTAL_SIGNING_KEY = str(bad)
    with pytest.raises(DigestError, match=r"bad\.pem is not an unencrypted PEM private key"):
        store_events(1)
    assert not AuditEvent.objects.exists()


def test_without_a_key_nothing_is_signed_and_verify_says_so(settings, tmp_path):
    settings.AUDITPORTAL_DIGEST_DIR = str(tmp_path / "digests")
    store_events(1, 2)
    assert not ChainDigest.objects.exists()
    assert not (tmp_path / "digests").exists()
    ok, output = run_verify()
    assert ok, output
    assert "Tamper evidence is off" in output


def test_events_stored_before_the_key_are_sealed_by_the_command(settings, tmp_path, signing):
    settings.AUDITPORTAL_SIGNING_KEY = ""
    store_events(1, 2)
    settings.AUDITPORTAL_SIGNING_KEY = str(signing.key)
    ok, output = run_verify()
    assert not ok
    assert "unsigned: there are stored events but no signed digest" in output
    out = StringIO()
    call_command("seal_audit_log", stdout=out)
    assert "Digest #1: positions 1..2." in out.getvalue()
    ok, output = run_verify()
    assert ok, output


def test_the_admin_warns_while_tamper_evidence_is_off(admin_client, settings, tmp_path):
    settings.AUDITPORTAL_SIGNING_KEY = ""
    page = admin_client.get("/admin/").content.decode()
    assert "Tamper evidence is off" in page
    settings.AUDITPORTAL_SIGNING_KEY = str(tmp_path / "signing.pem")
    page = admin_client.get("/admin/").content.decode()
    assert "Tamper evidence is off" not in page


def test_create_signing_key_writes_a_private_file_and_never_overwrites(tmp_path):
    path = tmp_path / "signing.pem"
    out = StringIO()
    call_command("create_signing_key", str(path), stdout=out)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = load_public_key(tmp_path / "signing.pem.pub")
    assert f"Fingerprint: {fingerprint(public)}" in out.getvalue()
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    before = path.read_bytes()
    with pytest.raises(CommandError, match="exists: a key is never overwritten"):
        call_command("create_signing_key", str(path), stdout=StringIO())
    assert path.read_bytes() == before


def test_a_public_half_already_there_leaves_no_private_key_behind(tmp_path):
    path = tmp_path / "signing.pem"
    (tmp_path / "signing.pem.pub").write_text("someone else's\n")
    with pytest.raises(CommandError, match=r"signing.pem.pub exists"):
        call_command("create_signing_key", str(path), stdout=StringIO())
    assert not path.exists()
    assert (tmp_path / "signing.pem.pub").read_text() == "someone else's\n"
    # Once the stray file is moved away, the same command makes the pair.
    (tmp_path / "signing.pem.pub").unlink()
    call_command("create_signing_key", str(path), stdout=StringIO())
    assert path.exists() and (tmp_path / "signing.pem.pub").exists()


@pytest.mark.parametrize("file", ["", ".", "/", ".."])
def test_a_path_naming_no_file_is_refused(file):
    with pytest.raises(CommandError, match="names no file"):
        call_command("create_signing_key", file, stdout=StringIO())


def test_import_batches_are_unaffected_by_digests(signing):
    import_file(GRAPH_PAGE)
    assert ImportBatch.objects.get().status == ImportBatch.Status.COMPLETED


def test_a_file_written_for_a_transaction_that_rolled_back_is_replaced_by_the_next(signing):
    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        store_events(1)
        # Something later in the same transaction fails, after the digest was written.
        raise Undone
    (stale,) = signing.digest_files()
    stale_bytes = stale.read_bytes()
    assert not ChainDigest.objects.exists()
    store_events(2, 3)
    (path,) = signing.digest_files()
    digest = parse_digest(path.read_bytes(), str(path))
    assert (digest.first_seq, digest.last_seq) == (1, 2)
    assert path.read_bytes() != stale_bytes
    ok, output = run_verify()
    assert ok, output
