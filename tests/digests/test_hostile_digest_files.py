"""Whoever can write the digest folder, the key file or an export may put anything there: the
verifiers say what is wrong and fail, never end in a traceback that reports nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from auditportal_verify.__main__ import verify as verify_offline
from tests.digests.support import export_chain
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000 + b"]" * 100_000


def verify_audit_log() -> str:
    with pytest.raises(CommandError) as refused:
        call_command("verify_audit_log", stdout=StringIO(), stderr=StringIO())
    return str(refused.value)


@pytest.mark.parametrize("kind", ["missing", "folder", "not a key"])
def test_a_signing_key_that_cannot_be_read_is_named(signing, settings, kind):
    store_events(1)
    key = signing.tmp / "broken.pem"
    if kind == "folder":
        key.mkdir()
    elif kind == "not a key":
        key.write_text("not a PEM key\n")
    settings.AUDITPORTAL_SIGNING_KEY = str(key)
    assert "AUDITPORTAL_SIGNING_KEY" in verify_audit_log()


def test_a_folder_named_as_a_digest_refuses_the_verification(signing):
    store_events(1)
    (signing.digest_dir / "digest-000000000099.json").mkdir()
    message = verify_audit_log()
    assert message.startswith("REFUSED: digest ")
    assert "digest-000000000099.json cannot be read" in message


def test_a_digest_file_nested_past_the_parser_is_a_finding_of_both_verifiers(signing):
    store_events(1)
    (signing.digest_dir / "digest-000000000099.json").write_bytes(DEEP)
    message = verify_audit_log()
    assert message.startswith("BROKEN:")
    assert "nested too deep to read" in message

    out = StringIO()
    export = export_chain(signing.tmp / "chain.ndjson")
    assert verify_offline(export, signing.digest_dir, [signing.public_key], out=out) != 0
    assert "nested too deep to read" in out.getvalue()


def test_an_export_line_nested_past_the_parser_is_named(signing):
    store_events(1)
    export = export_chain(signing.tmp / "chain.ndjson")
    export.write_bytes(export.read_bytes() + DEEP + b"\n")
    out = StringIO()
    assert verify_offline(export, signing.digest_dir, [signing.public_key], out=out) == 2
    assert f"{export}: line 2: not an export line: nested too deep" in out.getvalue()


def test_a_public_key_path_that_never_ends_is_refused(signing):
    store_events(1)
    with pytest.raises(CommandError, match=r"--public-key: /dev/zero: not a PEM Ed25519 key"):
        call_command("verify_audit_log", "--public-key", "/dev/zero", stdout=StringIO())
