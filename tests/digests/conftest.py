"""Signed digests on: a key pair and a digest folder of the test's own. The helpers are in
tests/digests/support.py."""

import pytest

from logs.digests.keys import create_key_files
from tests.digests.support import Signing


@pytest.fixture
def signing(tmp_path, settings) -> Signing:
    key = tmp_path / "signing.pem"
    public, _ = create_key_files(key)
    settings.AUDITPORTAL_SIGNING_KEY = str(key)
    settings.AUDITPORTAL_DIGEST_DIR = str(tmp_path / "digests")
    settings.AUDITPORTAL_DIGEST_URL = ""
    return Signing(key, public, tmp_path / "digests", tmp_path)
