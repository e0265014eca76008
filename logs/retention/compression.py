"""How a retention archive file is compressed: zstandard (new runs, by default) or gzip.

An archive file is NDJSON, compressed as one stream. Runs record their compression in the
manifest (``"compression"``); a manifest without it (runs written before zstandard was the
default) is gzip, so an unfinished older run goes on in its own format when resumed.

Why zstandard: compressing the records is the largest share of archiving a month, and at level
3 zstandard compresses audit records several times faster than gzip at its fastest level while
making files about half the size (docs/operators/retention.md gives the figures). It is an open
standard (RFC 8878), read by the ``zstd`` tool and by every language's zstandard binding, and
``import_audit_logs`` reads it as it reads gzip. An operator whose regulator's tools read only
gzip sets ``AUDITPORTAL_ARCHIVE_COMPRESSION = "gzip"``.
"""

import gzip
from dataclasses import dataclass

import zstandard
from django.conf import settings

# The level of the ``zstd`` tool's default: the speed of gzip's fastest level several times
# over, and higher levels cost far more time than they save space on this text.
ZSTD_LEVEL = 3
# gzip's fastest: most of its gain on JSON text, several times faster than its default 9.
GZIP_LEVEL = 1


@dataclass(frozen=True)
class ArchiveCompression:
    name: str  # as in the manifest and the setting
    suffix: str  # of the file names
    content_type: str  # of the blobs in a container

    def writer(self, stream):
        """A context manager: a binary file that compresses what is written into ``stream``
        (left open), the stream complete once the block ends."""
        if self.name == "zstd":
            # The checksum lets a damaged file fail to read rather than give other records (the
            # manifest's SHA-256 is checked only where an archive is read through its manifest).
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True)
            return compressor.stream_writer(stream, closefd=False)
        return gzip.GzipFile(
            filename="", mode="wb", fileobj=stream, compresslevel=GZIP_LEVEL, mtime=0
        )


ZSTD = ArchiveCompression("zstd", ".ndjson.zst", "application/zstd")
GZIP = ArchiveCompression("gzip", ".ndjson.gz", "application/gzip")
COMPRESSIONS = {compression.name: compression for compression in (ZSTD, GZIP)}


def configured() -> ArchiveCompression:
    """The compression new runs use (the ``AUDITPORTAL_ARCHIVE_COMPRESSION`` setting, which
    the settings module checks names one of COMPRESSIONS)."""
    return COMPRESSIONS[settings.AUDITPORTAL_ARCHIVE_COMPRESSION]


def of_manifest(manifest: dict) -> ArchiveCompression:
    """The compression a run's files are written with (gzip for a manifest that predates the
    field)."""
    return COMPRESSIONS[manifest.get("compression", GZIP.name)]


def of_file_name(name: str) -> ArchiveCompression:
    """The compression an archive file's name says it has."""
    for compression in COMPRESSIONS.values():
        if name.endswith(compression.suffix):
            return compression
    raise ValueError(f"{name} is not an archive file name (events-NNNN.ndjson.zst or .gz)")


def base_name(name: str) -> str:
    """``events-0001`` for ``events-0001.ndjson.zst`` (or ``.gz``)."""
    return name.removesuffix(of_file_name(name).suffix)
