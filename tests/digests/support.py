"""Signed-digest test helpers: the tampering, both verifiers run, and what they print."""

import json
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction

from auditportal_verify.__main__ import verify as verify_offline
from logs.digests.keys import create_key_files
from tests.tampering import switch_off_immutability_triggers

DIGEST_TRIGGER_TABLES = ["logs_auditevent", "logs_target", "logs_modifiedproperty"]


@dataclass
class Signing:
    key: Path
    public_key: Path
    digest_dir: Path
    tmp: Path

    def digest_files(self) -> list[Path]:
        return sorted(self.digest_dir.glob("digest-*.json"))

    def digests(self) -> list[dict]:
        return [json.loads(path.read_text()) for path in self.digest_files()]


def other_public_key(tmp_path) -> Path:
    _, _ = create_key_files(tmp_path / "other.pem")
    return tmp_path / "other.pem.pub"


def raw(sql: str, parameters=()) -> None:
    """SQL as someone with write access to the database runs it: with the immutability
    triggers switched off first (the test's transaction puts them back)."""
    with transaction.atomic():
        switch_off_immutability_triggers()
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)


def run_verify(*arguments) -> tuple[bool, str]:
    """verify_audit_log's verdict and everything it printed."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", *arguments, stdout=out, stderr=err)
    except Exception as error:  # CommandError
        return False, out.getvalue() + err.getvalue() + str(error)
    return True, out.getvalue() + err.getvalue()


def export_chain(path: Path) -> Path:
    call_command("export_audit_logs", "--format", "chain", "--output", str(path), stdout=StringIO())
    return path


def run_offline(signing: Signing, public_key: Path | None = None) -> tuple[int, str]:
    export = export_chain(signing.tmp / "chain.ndjson")
    out = StringIO()
    code = verify_offline(export, signing.digest_dir, [public_key or signing.public_key], out=out)
    return code, out.getvalue()


def finding_lines(text: str) -> set[str]:
    """The findings both verifiers print the same way: "kind: message" lines."""
    kinds = ("missing:", "rewritten:", "gap:", "signature:", "unsigned:", "order:", "inserted:")
    return {line for line in text.splitlines() if line.startswith(kinds)}
