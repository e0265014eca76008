"""Training compression dictionaries on audit records.

A record compresses well only beside others like it: the keys, activity names, services and
GUID shapes every record repeats are what a dictionary holds, so that one record of a kilobyte
or so costs only what is its own. Two sources of samples:

- the sample files in fixtures/ (published records and records written to each format's shape;
  their licences are in fixtures/SOURCES.md): the dictionary shipped with auditportal, rebuilt
  with ``python -m logs.originals.training`` (run with the project's Django settings);
- a database's own stored originals: ``manage.py train_compression_dictionary``, a dictionary
  that knows the directory's own names (its users, groups, applications, tenant).
"""

from pathlib import Path

import zstandard

from logs.originals.codec import LEVEL

# Larger dictionaries gained little on audit records, and each costs its size in memory per
# process and per thread compressing with it (docs/internals/compressed-originals.md).
DICTIONARY_BYTES = 16 * 1024
# Fewer samples than this give zstandard's trainer too little to find what repeats.
MIN_SAMPLES = 16
FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


def train(samples: list[bytes], size: int = DICTIONARY_BYTES) -> bytes:
    """A zstandard dictionary of at most ``size`` bytes trained on ``samples``."""
    if len(samples) < MIN_SAMPLES:
        raise ValueError(
            f"{len(samples)} records are too few to train a dictionary on (at least {MIN_SAMPLES})"
        )
    return zstandard.train_dictionary(size, samples, level=LEVEL).as_bytes()


def fixture_originals(directory: Path = FIXTURES_DIR) -> list[bytes]:
    """The originals the import stores for every record of the sample files, in file order."""
    from logs.ingest.detect import detect
    from logs.ingest.formats import PARSERS
    from logs.ingest.records import AuditRecord
    from logs.ingest.sources import open_input

    originals = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        input_file = open_input(path)
        detected = detect(input_file)
        for item in PARSERS[detected.format](input_file, detected.layout):
            if isinstance(item, AuditRecord):
                originals.append(item.original.encode())
    return originals


if __name__ == "__main__":
    import django

    django.setup()
    from logs.originals.dictionaries import SHIPPED_FILE

    samples = fixture_originals()
    SHIPPED_FILE.write_bytes(train(samples))
    print(f"{SHIPPED_FILE}: trained on {len(samples)} records")
