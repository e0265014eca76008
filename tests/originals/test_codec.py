"""The stored form of an original (logs.originals.codec): any text reads back exactly, and
anything that does not read back whole is refused, never read as other text."""

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from logs.originals.codec import (
    MAX_TEXT_BYTES,
    RAW,
    ZSTD,
    Dictionary,
    UnreadableOriginal,
    decode_id,
    encode_id,
    pack,
    unpack,
)
from logs.originals.dictionaries import shipped_data
from logs.originals.training import fixture_originals, train

SHIPPED = Dictionary(1, shipped_data())
RECORD = (
    '{"id":"Directory_0f0c","category":"UserManagement","correlationId":"5d3b1c2e-8f5a-4c2b-9d'
    '1e-7a6b5c4d3e2f","result":"success","resultReason":"","activityDisplayName":"Update user",'
    '"activityDateTime":"2026-11-02T08:14:03.1234567Z","loggedByService":"Core Directory",'
    '"operationType":"Update","initiatedBy":{"user":{"id":"1c2d","displayName":"Zoë Müller",'
    '"userPrincipalName":"zoe@contoso.com","ipAddress":"203.0.113.7"}},"targetResources":[]}'
)


def by_id(*dictionaries):
    found = {dictionary.pk: dictionary for dictionary in dictionaries}

    def dictionary_for(pk):
        if pk not in found:
            raise UnreadableOriginal(f"compression dictionary {pk} is not stored")
        return found[pk]

    return dictionary_for


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_reads_back_exactly(text):
    assert unpack(pack(text, SHIPPED), by_id(SHIPPED)) == text


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=2_000, max_size=20_000))
def test_long_text_reads_back_exactly(text):
    assert unpack(pack(text, SHIPPED), by_id(SHIPPED)) == text


@pytest.mark.parametrize("text", ["", "a", "\x00", "🚀" * 3, "東京\r\n\t\\u0000"])
def test_short_text_is_stored_as_is_with_its_tag(text):
    assert pack(text, SHIPPED) == bytes([RAW]) + text.encode()
    assert unpack(pack(text, SHIPPED), by_id(SHIPPED)) == text


def test_a_record_is_stored_compressed_naming_its_dictionary():
    dictionary = Dictionary(300, shipped_data())
    value = pack(RECORD, dictionary)
    assert value[:3] == bytes([ZSTD]) + encode_id(300)
    assert len(value) < len(RECORD.encode()) / 2
    assert unpack(value, by_id(dictionary)) == RECORD


def test_a_large_record_reads_back_exactly():
    text = RECORD * 5_000  # about 2 MB
    value = pack(text, SHIPPED)
    assert value[0] == ZSTD
    assert unpack(value, by_id(SHIPPED)) == text


def test_the_sample_records_shrink_to_a_fraction_with_the_shipped_dictionary():
    originals = fixture_originals()
    packed = [pack(original.decode(), SHIPPED) for original in originals]
    assert [unpack(value, by_id(SHIPPED)).encode() for value in packed] == originals
    assert sum(map(len, packed)) < sum(map(len, originals)) / 4


def test_a_value_reads_with_the_dictionary_it_names_when_a_newer_one_exists():
    samples = [RECORD.replace("Update", f"Update {n}").encode() for n in range(64)]
    newer = Dictionary(2, train(samples))
    old_value = pack(RECORD, SHIPPED)
    new_value = pack(RECORD, newer)
    assert new_value[1] == 2
    assert unpack(old_value, by_id(SHIPPED, newer)) == RECORD
    assert unpack(new_value, by_id(SHIPPED, newer)) == RECORD


def test_a_frame_read_with_another_dictionary_is_refused():
    other = Dictionary(1, train([f'{{"n":{n},"x":"{"ab" * n}"}}'.encode() for n in range(64)]))
    with pytest.raises(UnreadableOriginal, match="does not decompress with dictionary 1"):
        unpack(pack(RECORD, SHIPPED), by_id(other))


def test_a_missing_dictionary_is_named():
    with pytest.raises(UnreadableOriginal, match="dictionary 7 is not stored"):
        unpack(pack(RECORD, Dictionary(7, shipped_data())), by_id(SHIPPED))


@pytest.mark.parametrize("position", [3, 10, -5, -1])
def test_a_changed_byte_in_a_frame_is_refused(position):
    value = bytearray(pack(RECORD, SHIPPED))
    value[position] ^= 0x01
    with pytest.raises(UnreadableOriginal):
        unpack(bytes(value), by_id(SHIPPED))


def test_bytes_after_the_frame_are_refused():
    with pytest.raises(UnreadableOriginal, match="does not decompress"):
        unpack(pack(RECORD, SHIPPED) + b"\x00", by_id(SHIPPED))


def test_a_cut_frame_is_refused():
    with pytest.raises(UnreadableOriginal):
        unpack(pack(RECORD, SHIPPED)[:-1], by_id(SHIPPED))


def test_a_frame_claiming_more_than_any_original_is_refused_before_decompressing():
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"x" * 1000)
    header = zstandard.get_frame_parameters(frame)
    assert header.content_size == 1000
    huge = Dictionary(1, shipped_data())
    with pytest.raises(UnreadableOriginal, match=f"up to {MAX_TEXT_BYTES} bytes"):
        huge.decompress(_frame_claiming(MAX_TEXT_BYTES + 1))
    assert huge.decompress(frame) == b"x" * 1000


def _frame_claiming(size: int) -> bytes:
    """A frame header stating ``size`` bytes of content (8-byte size field), and one raw block."""
    descriptor = 0b11000000  # frame content size: 8 bytes; single segment off
    window = 0x58
    return (
        b"\x28\xb5\x2f\xfd"
        + bytes([descriptor, window])
        + size.to_bytes(8, "little")
        + b"\x01\x00\x00"
    )


def test_a_frame_that_states_no_size_is_refused():
    compressor = zstandard.ZstdCompressor(write_content_size=False)
    frame = compressor.compress(b"abc")
    with pytest.raises(UnreadableOriginal, match="does not state a size"):
        Dictionary(1, shipped_data()).decompress(frame)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"", "empty"),
        (b"\x02abc", "unknown tag byte 0x02"),
        (b"\xffabc", "unknown tag byte 0xff"),
        (bytes([ZSTD]), "dictionary id is cut short"),
        (bytes([ZSTD, 0x81]), "dictionary id is cut short"),
        (bytes([RAW]) + b"\xff\xfe", "not UTF-8"),
        ("text", "is text, not a packed original"),
    ],
)
def test_values_that_are_no_packed_original_are_refused(value, message):
    with pytest.raises(UnreadableOriginal, match=message):
        unpack(value, by_id(SHIPPED))


def test_a_memoryview_reads_as_bytes():
    assert unpack(memoryview(pack(RECORD, SHIPPED)), by_id(SHIPPED)) == RECORD


def test_text_that_is_not_unicode_is_refused():
    with pytest.raises(ValueError, match="must be Unicode text"):
        pack("half a pair \ud800", SHIPPED)


class WrongFrames(Dictionary):
    """Compresses some other text: a frame that would not read back as what was given."""

    def compress(self, raw: bytes) -> bytes:
        return super().compress(raw.replace(b"success", b"failure"))


def test_a_frame_that_does_not_read_back_is_never_stored():
    dictionary = WrongFrames(1, shipped_data())
    assert pack(RECORD, dictionary) == bytes([RAW]) + RECORD.encode()
    assert unpack(pack(RECORD, dictionary), by_id(dictionary)) == RECORD


class UnreadableFrames(Dictionary):
    def decompress(self, frame: bytes) -> bytes:
        raise zstandard.ZstdError("damaged")


def test_a_frame_that_does_not_decompress_is_never_stored():
    assert pack(RECORD, UnreadableFrames(1, shipped_data()))[0] == RAW


@pytest.mark.parametrize("number", [0, 1, 127, 128, 300, 16_383, 16_384, 2**35, 2**63])
def test_ids_read_back(number):
    encoded = encode_id(number)
    assert decode_id(b"\x09" + encoded + b"rest", 1) == (number, 1 + len(encoded))


def test_id_bytes():
    assert encode_id(0) == b"\x00"
    assert encode_id(127) == b"\x7f"
    assert encode_id(128) == b"\x80\x01"
    assert encode_id(300) == b"\xac\x02"


def test_an_id_longer_than_ten_bytes_is_refused():
    with pytest.raises(UnreadableOriginal, match="cut short"):
        decode_id(b"\x80" * 10 + b"\x01", 0)


def test_negative_ids_are_refused():
    with pytest.raises(ValueError, match="not negative"):
        encode_id(-1)
    with pytest.raises(ValueError, match="positive row id"):
        Dictionary(0, shipped_data())


def test_bytes_that_are_no_trained_dictionary_are_refused():
    with pytest.raises(zstandard.ZstdError):
        Dictionary(1, b"just some bytes, not a dictionary")


def test_each_thread_compresses_with_its_own_compressor():
    import threading

    results = {}

    def work(name):
        results[name] = [unpack(pack(RECORD + str(n), SHIPPED), by_id(SHIPPED)) for n in range(200)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(value == [RECORD + str(n) for n in range(200)] for value in results.values())


def test_training_needs_enough_samples():
    with pytest.raises(ValueError, match="too few"):
        train([RECORD.encode()] * 3)


def test_frames_carry_a_checksum_and_no_zstandard_dictionary_id():
    dictionary = Dictionary(1, shipped_data())  # its own compressor, made here
    frame = pack(RECORD, dictionary)[len(dictionary.prefix) :]
    parameters = zstandard.get_frame_parameters(frame)
    assert parameters.has_checksum
    assert parameters.dict_id == 0
    assert parameters.content_size == len(RECORD.encode())


def test_a_frame_of_no_content_reads_as_nothing():
    assert SHIPPED.decompress(SHIPPED.compress(b"")) == b""


def test_a_frame_claiming_the_largest_size_allowed_is_decompressed():
    # Not refused for its size: it fails only because the block it holds is not that long.
    with pytest.raises(zstandard.ZstdError):
        SHIPPED.decompress(_frame_claiming(MAX_TEXT_BYTES))
