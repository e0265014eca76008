"""Parsing a large file in a second process while this one stores what it has parsed.

Parsing and checking a record costs about as much as storing it, and both hold Python's GIL, so
threads cannot share that work; a child process can. The child opens the file itself, runs the
same parser the serial path uses, and sends records back in chunks, flattened to plain tuples
(which pickle in C, unlike dataclasses with slots), with each record's fingerprints
(logs.ingest.fingerprints) computed there rather than in the parent, and its original packed
there (logs.originals.codec) with the dictionary the parent gives it, the newest stored when
the import starts: the loader stores that packed form if its batch packs with the same
dictionary, and packs the original again otherwise. The parent rebuilds the
records and yields what the serial parser would have yielded (with the fingerprints filled
in), in the same order: records, RecordErrors, and at the end, if the file is damaged, the
same ImportFileError.

The child is a fresh interpreter (``python -m logs.ingest.parallel``) that shares no database
connection with the parent and never imports Django models; messages are length-prefixed
pickles on a pipe of their own, not its standard output, where anything else the interpreter
or a tool around it writes would corrupt them.
"""

import contextlib
import fcntl
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from datetime import datetime

from logs.ingest.activity_dates import activity_date_bounds, fix_bounds
from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.fingerprints import content_hash, match_key
from logs.ingest.notes import is_strict, strictness
from logs.ingest.records import (
    AuditRecord,
    InitiatorRecord,
    ModifiedPropertyRecord,
    TargetRecord,
)
from logs.originals.codec import Dictionary, pack

# Below this size the child's start-up (a fraction of a second) costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Records per message, and messages read ahead of the records being stored: a few megabytes
# of pickled records waiting at most, little memory on top of the batches (benchmark metric
# ``ingest peak RSS``).
CHUNK_RECORDS = 1000
QUEUED_CHUNKS = 3
# The parsing process yields the processor to the storing threads (see the end of the module).
CHILD_NICENESS = 5

_RECORD, _REJECT, _FILE_ERROR, _CRASH = range(4)


class ParallelParse:
    """Iterate to get the parsed items; ``bytes_consumed()`` reports the child's progress."""

    def __init__(self, input_file, format_name: str, layout: str, dictionary=None):
        self.input_file = input_file
        self.format_name = format_name
        self.layout = layout
        self.dictionary = dictionary  # a logs.originals.codec.Dictionary, or None: no packing
        self._position = 0

    def bytes_consumed(self) -> int:
        return self._position

    def __iter__(self):
        command = [sys.executable, "-m", "logs.ingest.parallel"]
        # The child has no settings: it judges activity dates by this process's bounds.
        bounds = [moment.isoformat() for moment in activity_date_bounds()]
        strict = ["strict"] if is_strict() else []
        receiving, sending = os.pipe()
        try:
            if sending <= 2:
                # A process started with its standard streams closed gets them from os.pipe(),
                # and the child would write its messages where its output goes.
                moved = fcntl.fcntl(sending, fcntl.F_DUPFD_CLOEXEC, 3)
                os.close(sending)
                sending = moved
            # The dictionary, if any, is the child's standard input: a file of its own, read
            # once at start, whatever its size.
            with tempfile.TemporaryFile() as dictionary_file:
                if self.dictionary is not None:
                    dictionary_file.write(_HEADER.pack(self.dictionary.pk) + self.dictionary.data)
                    dictionary_file.seek(0)
                child = subprocess.Popen(
                    [
                        *command,
                        str(sending),
                        str(self.input_file.path),
                        self.format_name,
                        self.layout,
                        *bounds,
                        *strict,
                    ],
                    stdin=dictionary_file,
                    pass_fds=[sending],
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                )
        except BaseException:
            os.close(receiving)
            raise
        finally:
            # The child holds its own copy: the pipe ends when the child does.
            os.close(sending)
        initiators: list[InitiatorRecord] = []  # numbered as the child sends them
        packed_by = self.dictionary.identity if self.dictionary is not None else None
        stream = reader = None
        try:
            stream = os.fdopen(receiving, "rb")
            # A thread moves the child's messages out of the pipe as they come: the pipe holds
            # 64 KiB, so without it the child would wait for this process to want each chunk,
            # then this process for the child to parse it.
            messages = queue.Queue(maxsize=QUEUED_CHUNKS)
            reader = threading.Thread(target=_read_messages, args=(stream, messages), daemon=True)
            reader.start()
            while True:
                message = messages.get()
                if message is _ENDED:
                    raise RuntimeError(
                        f"the parsing process for {self.input_file.name} ended unexpectedly"
                    )
                position, items = pickle.loads(message)
                self._position = position
                if items is None:
                    return
                for item in items:
                    kind = item[0]
                    if kind == _RECORD:
                        yield _record(item[1], initiators, packed_by)
                    elif kind == _REJECT:
                        yield RecordError(*item[1:])
                    elif kind == _FILE_ERROR:
                        raise ImportFileError(*item[1:])
                    else:
                        raise RuntimeError(f"parsing {self.input_file.name} failed:\n{item[1]}")
        finally:
            if child.poll() is None:
                child.kill()  # the import stopped early: nothing more is wanted
            while reader is not None and reader.is_alive():  # it may wait for room in the queue
                with contextlib.suppress(queue.Empty):
                    messages.get(timeout=0.05)
            if stream is None:
                os.close(receiving)
            else:
                stream.close()
            child.wait()


_HEADER = struct.Struct("<Q")


_ENDED = object()


def _read_messages(stream, messages: queue.Queue) -> None:
    """Put each message's pickled bytes into ``messages``, then _ENDED when the pipe closes
    (or reading it fails: the records' reader must never wait for a message that cannot come)."""
    try:
        while True:
            header = stream.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            (size,) = _HEADER.unpack(header)
            payload = stream.read(size)
            if len(payload) < size:
                break
            messages.put(payload)
    except (OSError, ValueError):
        pass  # a broken or closed pipe ends the messages as its end does
    finally:
        messages.put(_ENDED)


def _parse_in_child(sender, dictionary, path: str, format_name: str, layout: str) -> None:
    from logs.ingest.formats import PARSERS
    from logs.ingest.sources import open_input

    chunk = []
    flattener = _Flattener(dictionary)
    input_file = None
    try:
        input_file = open_input(path)
        for item in PARSERS[format_name](input_file, layout):
            if isinstance(item, RecordError):
                chunk.append(
                    (_REJECT, item.path, item.location, item.field, item.message, item.raw)
                )
            else:
                chunk.append((_RECORD, flattener.flatten(item)))
            if len(chunk) >= CHUNK_RECORDS:
                _send(sender, input_file.bytes_consumed(), chunk)
                chunk = []
    except ImportFileError as error:
        chunk.append((_FILE_ERROR, error.path, error.message, error.location, error.field))
    except Exception:
        chunk.append((_CRASH, traceback.format_exc()))
    _send(sender, input_file.size if input_file else 0, chunk)
    _send(sender, input_file.size if input_file else 0, None)
    sender.flush()


def _send(sender, position: int, items) -> None:
    payload = pickle.dumps((position, items), protocol=pickle.HIGHEST_PROTOCOL)
    sender.write(_HEADER.pack(len(payload)))
    sender.write(payload)


class _Flattener:
    """Turns records into plain tuples for the pipe, each repeated value sent as few times as
    the parent needs to rebuild it.

    An actor is sent whole once, then as its number (the parent numbers actors in the same
    order); short values that real logs repeat (service, category, activity, result, target
    type, property name) are made one object, so that pickle writes each once per chunk and
    the parent unpickles a reference instead of a new string. Both cut pickling and
    unpickling to a fraction: the parent's share is time taken from storing.
    """

    # A file of endlessly different values must not grow the child without bound.
    MAX_SHARED_VALUES = 10_000

    def __init__(self, dictionary=None):
        self._values: dict[str, str] = {}
        self._initiators: dict[tuple, int] = {}
        self._dictionary = dictionary

    def shared(self, value: str) -> str:
        known = self._values.get(value)
        if known is not None:
            return known
        if len(self._values) < self.MAX_SHARED_VALUES:
            self._values[value] = value
        return value

    def initiator(self, initiator: InitiatorRecord | None):
        """None, the number of an actor already sent, or a new actor's fields."""
        if initiator is None:
            return None
        fields = tuple(getattr(initiator, name) for name in _INITIATOR_FIELDS)
        number = self._initiators.get(fields)
        if number is not None:
            return number
        self._initiators[fields] = len(self._initiators)
        return fields

    def flatten(self, record: AuditRecord) -> tuple:
        shared = self.shared
        return (
            record.entra_id,
            record.activity_datetime,
            shared(record.service),
            shared(record.category),
            shared(record.activity),
            shared(record.operation_type),
            shared(record.result),
            record.result_reason,
            record.correlation_id,
            self.initiator(record.initiator),
            record.initiator_ip_address,
            shared(record.initiator_user_agent),
            record.additional_details,
            tuple(
                (
                    shared(target.type),
                    target.object_id,
                    target.display_name,
                    target.user_principal_name,
                    shared(target.group_type),
                    tuple(
                        (shared(prop.name), prop.old_value, prop.new_value)
                        for prop in target.modified_properties
                    ),
                )
                for target in record.targets
            ),
            record.original,
            record.location,
            record.notes,
            # Both fingerprints are the loader's to check, but are computed here, in the
            # parsing process: in the importing one they would hold the GIL that storing needs.
            content_hash(record),
            match_key(record),
            self.packed(record.original),
        )

    def packed(self, original: str) -> bytes | None:
        """The original's stored form, packed here rather than in the importing process (where
        it would hold the GIL that storing needs); None where the loader must pack it itself,
        to fail there as the serial path fails."""
        if self._dictionary is None:
            return None
        try:
            return pack(original, self._dictionary)
        except ValueError:
            return None


def _record(flat: tuple, initiators: list[InitiatorRecord], packed_by) -> AuditRecord:
    initiator = flat[9]
    if type(initiator) is int:
        # One object per actor (real logs repeat a few hundred) also keeps lookups cheap.
        initiator = initiators[initiator]
    elif initiator is not None:
        initiators.append(InitiatorRecord(*initiator))
        initiator = initiators[-1]
    return AuditRecord(
        entra_id=flat[0],
        activity_datetime=flat[1],
        service=flat[2],
        category=flat[3],
        activity=flat[4],
        operation_type=flat[5],
        result=flat[6],
        result_reason=flat[7],
        correlation_id=flat[8],
        initiator=initiator,
        initiator_ip_address=flat[10],
        initiator_user_agent=flat[11],
        additional_details=flat[12],
        targets=[
            TargetRecord(
                type=target[0],
                object_id=target[1],
                display_name=target[2],
                user_principal_name=target[3],
                group_type=target[4],
                modified_properties=[ModifiedPropertyRecord(*prop) for prop in target[5]],
            )
            for target in flat[13]
        ],
        original=flat[14],
        location=flat[15],
        notes=flat[16],
        content_hash=flat[17],
        match_key=flat[18],
        packed_original=flat[19],
        packed_by=packed_by if flat[19] is not None else None,
    )


_INITIATOR_FIELDS = tuple(InitiatorRecord.__dataclass_fields__)


if __name__ == "__main__":
    # Parsing runs ahead of storing, which is what the import waits for: when both want a
    # core, storing goes first (benchmark metric ``ingest``).
    os.nice(CHILD_NICENESS)
    # Ctrl-C reaches the whole process group: the parent handles it, and ends this process.
    # And should the parent stop reading (or end), this process ends quietly, not with a
    # traceback on the terminal they share.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    fix_bounds(*(datetime.fromisoformat(moment) for moment in sys.argv[5:7]))
    given = sys.stdin.buffer.read()
    dictionary = Dictionary(_HEADER.unpack_from(given)[0], given[_HEADER.size :]) if given else None
    with strictness(sys.argv[7:8] == ["strict"]), os.fdopen(int(sys.argv[1]), "wb") as sender:
        _parse_in_child(sender, dictionary, *sys.argv[2:5])
