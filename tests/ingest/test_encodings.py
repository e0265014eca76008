"""Real exports come UTF-8 with or without a BOM, UTF-16, gzip- or zstd-compressed, as a list or
lines."""

import codecs
import gzip
import json

import pytest
import zstandard

from logs.ingest.errors import ImportFileError
from logs.ingest.importer import import_file
from logs.ingest.sources import open_input
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db

UNICODE_NAMES = ["Zoë Ångström", "日本語グループ", "Łukasz Müller"]


@pytest.fixture
def records():
    records = [GraphDirectoryAuditFactory() for _ in UNICODE_NAMES]
    for record, name in zip(records, UNICODE_NAMES, strict=True):
        record["targetResources"][0]["displayName"] = name
    return records


def stored_names():
    return sorted(AuditEvent.objects.values_list("targets__display_name", flat=True).order_by("id"))


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
    ],
)
def test_graph_page_in_each_encoding(tmp_path, records, encoding, bom):
    path = tmp_path / "page.json"
    text = json.dumps({"value": records}, ensure_ascii=False, indent=2)
    path.write_bytes(bom + text.encode(encoding))
    result = import_file(path)
    assert (result.format, result.new, result.errors) == ("graph", 3, [])
    assert stored_names() == sorted(UNICODE_NAMES)


def test_bare_list_and_single_record(tmp_path, records):
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(records[:2]), encoding="utf-8")
    single = tmp_path / "one.json"
    single.write_text(json.dumps(records[2]), encoding="utf-8")
    assert import_file(listed).new == 2
    assert import_file(single).new == 1
    assert AuditEvent.objects.count() == 3


def test_empty_graph_page_is_valid_and_adds_nothing(tmp_path):
    path = tmp_path / "empty-page.json"
    path.write_text('{"@odata.context": "x", "value": []}', encoding="utf-8")
    result = import_file(path)
    assert (result.failed, result.read, result.new) == (False, 0, 0)


def test_gzip_ndjson(tmp_path, records):
    path = tmp_path / "archive.ndjson.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = import_file(path)
    assert (result.format, result.new) == ("ndjson", 3)
    assert stored_names() == sorted(UNICODE_NAMES)


def test_zstd_ndjson_of_several_frames(tmp_path, records):
    """zstandard-compressed NDJSON (retention archives); frames appended one after another
    (as zstd tools append files) read as one text."""
    path = tmp_path / "archive.ndjson.zst"
    lines = [json.dumps(record, ensure_ascii=False).encode() + b"\n" for record in records]
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    path.write_bytes(compressor.compress(lines[0]) + compressor.compress(b"".join(lines[1:])))
    result = import_file(path)
    assert (result.format, result.new) == ("ndjson", 3)
    assert stored_names() == sorted(UNICODE_NAMES)


@pytest.mark.parametrize(
    ("compress", "name"),
    [(gzip.compress, "archive.ndjson.gz"), (zstandard.compress, "archive.ndjson.zst")],
    ids=["gzip", "zstd"],
)
def test_a_compressed_file_cut_short_stores_nothing(tmp_path, compress, name):
    """A file whose first records read but whose end is missing fails whole, with its name."""
    records = [GraphDirectoryAuditFactory() for _ in range(400)]
    data = compress(b"".join(json.dumps(record).encode() + b"\n" for record in records))
    path = tmp_path / name
    path.write_bytes(data[: len(data) * 3 // 4])
    result = import_file(path)
    assert result.failed
    assert str(path) in result.errors[0]
    assert not AuditEvent.objects.exists()


def test_a_file_that_only_begins_like_zstd_is_refused_with_its_name(tmp_path):
    path = tmp_path / "archive.ndjson.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"not a frame" * 10)
    with pytest.raises(ImportFileError, match="is not a readable zstd file"):
        open_input(path)


def test_ndjson_bad_line_is_named(tmp_path, records):
    path = tmp_path / "export.ndjson"
    lines = [json.dumps(record) for record in records]
    lines.insert(1, "")  # blank lines are skipped but still counted
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(path)
    assert result.failed
    assert f"{path}, line 3" in result.errors[0]
    assert "is not valid JSON" in result.errors[0]


def test_ndjson_crlf_lines(tmp_path, records):
    path = tmp_path / "export.ndjson"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\r\n" for r in records))
    assert import_file(path).new == 3


def test_stored_original_keeps_unicode_and_nulls_verbatim(tmp_path, records):
    records[0]["resultReason"] = ""
    records[0]["targetResources"][0]["userPrincipalName"] = None
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"value": records[:1]}, ensure_ascii=False), encoding="utf-8")
    import_file(path)
    assert json.loads(AuditEvent.objects.get().original) == records[0]
    assert "Zoë Ångström" in AuditEvent.objects.get().original
