"""import_audit_logs refuses a path it cannot read, saying which one and why."""

import os

import pytest
from django.core.management import CommandError, call_command

from logs.models import AuditEvent

pytestmark = pytest.mark.django_db


def import_error(path, capsys) -> str:
    with pytest.raises(CommandError) as raised:
        call_command("import_audit_logs", str(path))
    assert not AuditEvent.objects.exists()
    return f"{raised.value}\n{capsys.readouterr().err}"


def test_a_path_that_does_not_exist(tmp_path, capsys):
    path = tmp_path / "missing.json"
    message = import_error(path, capsys)
    assert str(path) in str(message.splitlines()[0])
    assert f"{path}: no such file" in message


def test_a_directory(tmp_path, capsys):
    message = import_error(tmp_path, capsys)
    assert str(tmp_path) in message.splitlines()[0]
    assert "is a directory, not a file" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_file_without_read_permission(tmp_path, capsys):
    path = tmp_path / "locked.json"
    path.write_text('{"value": []}')
    path.chmod(0)
    try:
        message = import_error(path, capsys)
    finally:
        path.chmod(0o600)
    assert str(path) in message.splitlines()[0]
    assert "cannot be read (Permission denied)" in message
