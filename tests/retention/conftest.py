"""Retention test setup: an archive folder of the test's own; the helpers are in
tests/retention/support.py."""

import pytest


@pytest.fixture
def archive_dir(tmp_path):
    return tmp_path / "archive"
