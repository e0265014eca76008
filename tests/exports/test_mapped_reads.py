"""An export reads a SQLite file without memory mapping, and leaves the setting as it was."""

import sqlite3

from logs.exports import sqlite_reads_copied


class FileConnection:
    """The part of Django's connection the switch uses, on a real database file."""

    vendor = "sqlite"

    def __init__(self, path):
        self.connection = sqlite3.connect(path)
        self.connection.execute("PRAGMA mmap_size = 1048576")

    def ensure_connection(self):
        pass

    def mmap_size(self) -> int:
        return self.connection.execute("PRAGMA mmap_size").fetchone()[0]


def test_mapping_is_off_while_exporting_and_restored_after(tmp_path):
    connection = FileConnection(tmp_path / "portal.sqlite3")
    assert connection.mmap_size() == 1048576
    with sqlite_reads_copied(connection):
        assert connection.mmap_size() == 0
    assert connection.mmap_size() == 1048576


def test_mapping_is_restored_when_a_download_stops_early(tmp_path):
    connection = FileConnection(tmp_path / "portal.sqlite3")
    try:
        with sqlite_reads_copied(connection):
            raise GeneratorExit
    except GeneratorExit:
        pass
    assert connection.mmap_size() == 1048576
