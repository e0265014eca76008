"""Parsing a large file in a second process while this one stores what it has parsed.

Parsing and checking a record costs about as much as storing it, and both hold Python's GIL, so
threads cannot share that work; a child process can. The child opens the file itself, runs the
same parser the serial path uses, and sends records back in chunks, flattened to plain tuples
(which pickle in C, unlike dataclasses with slots). The parent rebuilds the records and yields
exactly what the serial parser would have yielded, in the same order: records, RecordErrors,
and at the end, if the file is damaged, the same ImportFileError.

The child is a fresh interpreter (``python -m logs.ingest.parallel``) that shares no database
connection with the parent and never imports Django models; messages are length-prefixed
pickles on its standard output.
"""

import os
import pickle
import struct
import subprocess
import sys
import traceback

from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.records import (
    AuditRecord,
    InitiatorRecord,
    ModifiedPropertyRecord,
    TargetRecord,
)

# Below this size the child's start-up (a fraction of a second) costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
CHUNK_RECORDS = 2000

_RECORD, _REJECT, _FILE_ERROR, _CRASH = range(4)


class ParallelParse:
    """Iterate to get the parsed items; ``bytes_consumed()`` reports the child's progress."""

    def __init__(self, input_file, format_name: str, layout: str):
        self.input_file = input_file
        self.format_name = format_name
        self.layout = layout
        self._position = 0

    def bytes_consumed(self) -> int:
        return self._position

    def __iter__(self):
        command = [sys.executable, "-m", "logs.ingest.parallel"]
        child = subprocess.Popen(
            [*command, str(self.input_file.path), self.format_name, self.layout],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        initiators: dict[tuple, InitiatorRecord] = {}
        try:
            while True:
                position, items = _receive(child.stdout, self.input_file.name)
                self._position = position
                if items is None:
                    return
                for item in items:
                    kind = item[0]
                    if kind == _RECORD:
                        yield _record(item[1], initiators)
                    elif kind == _REJECT:
                        yield RecordError(*item[1:])
                    elif kind == _FILE_ERROR:
                        raise ImportFileError(*item[1:])
                    else:
                        raise RuntimeError(f"parsing {self.input_file.name} failed:\n{item[1]}")
        finally:
            if child.poll() is None:
                child.kill()  # the import stopped early: nothing more is wanted
            child.stdout.close()
            child.wait()


_HEADER = struct.Struct("<Q")


def _receive(stream, name: str):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise RuntimeError(f"the parsing process for {name} ended unexpectedly")
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _parse_in_child(sender, path: str, format_name: str, layout: str) -> None:
    from logs.ingest.formats import PARSERS
    from logs.ingest.sources import open_input

    chunk = []
    input_file = None
    try:
        input_file = open_input(path)
        for item in PARSERS[format_name](input_file, layout):
            if isinstance(item, RecordError):
                chunk.append(
                    (_REJECT, item.path, item.location, item.field, item.message, item.raw)
                )
            else:
                chunk.append((_RECORD, _flatten(item)))
            if len(chunk) >= CHUNK_RECORDS:
                _send(sender, input_file.bytes_consumed(), chunk)
                chunk = []
    except ImportFileError as error:
        chunk.append((_FILE_ERROR, error.path, error.message, error.location))
    except Exception:
        chunk.append((_CRASH, traceback.format_exc()))
    _send(sender, input_file.size if input_file else 0, chunk)
    _send(sender, input_file.size if input_file else 0, None)
    sender.flush()


def _send(sender, position: int, items) -> None:
    payload = pickle.dumps((position, items), protocol=pickle.HIGHEST_PROTOCOL)
    sender.write(_HEADER.pack(len(payload)))
    sender.write(payload)


def _flatten(record: AuditRecord) -> tuple:
    initiator = record.initiator
    return (
        record.entra_id,
        record.activity_datetime,
        record.service,
        record.category,
        record.activity,
        record.operation_type,
        record.result,
        record.result_reason,
        record.correlation_id,
        None
        if initiator is None
        else tuple(getattr(initiator, name) for name in _INITIATOR_FIELDS),
        record.initiator_ip_address,
        record.initiator_user_agent,
        record.additional_details,
        tuple(
            (
                target.type,
                target.object_id,
                target.display_name,
                target.user_principal_name,
                target.group_type,
                tuple(
                    (prop.name, prop.old_value, prop.new_value)
                    for prop in target.modified_properties
                ),
            )
            for target in record.targets
        ),
        record.original,
        record.location,
    )


def _record(flat: tuple, initiators: dict) -> AuditRecord:
    initiator = flat[9]
    if initiator is not None:
        # Real logs repeat a few hundred actors: one object each keeps lookups cheap.
        record = initiators.get(initiator)
        if record is None:
            record = initiators[initiator] = InitiatorRecord(*initiator)
        initiator = record
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
    )


_INITIATOR_FIELDS = tuple(InitiatorRecord.__dataclass_fields__)


if __name__ == "__main__":
    _parse_in_child(sys.stdout.buffer, *sys.argv[1:4])
