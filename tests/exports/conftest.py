"""Export test setup: writing an export to a file; the helpers are in tests/exports/support.py."""

import pytest


@pytest.fixture
def write_export(tmp_path):
    """Write an Export to a file the way the command does, and return the path."""

    def write(export, name: str):
        path = tmp_path / name
        with open(path, "w", encoding="utf-8", newline="") as stream:
            for text in export:
                stream.write(text)
        return path

    return write
