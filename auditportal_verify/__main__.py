"""``python -m auditportal_verify EXPORT DIGEST_DIR --public-key KEY``: see the package."""

import argparse
import json
import sys

from auditportal_verify.chain import CHAIN_FIELDS, NOTES_FIELD, ChainCheck, hashed_fields
from auditportal_verify.digests import (
    DigestFormatError,
    check_digests,
    load_public_key,
    read_directory,
)


class ExportFormatError(ValueError):
    pass


def read_export(path):
    """``(seq, event id, link, fields)`` for each line of a chain export, in file order."""
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{path}: line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ExportFormatError(f"{where}: not JSON: {error}") from None
            except RecursionError:
                raise ExportFormatError(f"{where}: not an export line: nested too deep") from None
            if not isinstance(row, dict):
                raise ExportFormatError(f"{where}: not a JSON object")
            expected = ("chain_seq", "chain_link", *CHAIN_FIELDS)
            missing = [name for name in expected if name not in row]
            if missing:
                raise ExportFormatError(
                    f"{where}: field {missing[0]!r} missing (export with --format chain)"
                )
            seq = row["chain_seq"]
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                raise ExportFormatError(f"{where}: field 'chain_seq': not a positive integer")
            try:
                link = bytes.fromhex(row["chain_link"])
            except (TypeError, ValueError):
                link = b""
            if len(link) != 32:
                raise ExportFormatError(f"{where}: field 'chain_link': not 64 hex digits")
            notes = row.get(NOTES_FIELD, "")
            if not isinstance(notes, str):
                raise ExportFormatError(f"{where}: field {NOTES_FIELD!r}: not text")
            fields = hashed_fields((row[name] for name in CHAIN_FIELDS), notes)
            yield seq, row.get("event_id"), link, fields


def verify(export, digest_dir, public_key_paths, out=sys.stdout) -> int:
    """Print what the export and digests prove, or each finding; 0 when all holds."""
    try:
        keys = [load_public_key(path) for path in public_key_paths]
        digests = read_directory(digest_dir)
    except (OSError, ValueError, DigestFormatError) as error:
        print(f"error: {error}", file=out)
        return 2
    if not digests:
        print(f"refused: no digest files in {digest_dir}", file=out)
        return 1
    checked = check_digests(digests, keys)
    if checked.refused:
        for finding in checked.findings[:3]:
            print(finding, file=out)
        print(
            f"refused: none of the {len(digests)} digests is signed by the given key(s): "
            "wrong public key, or the digests were forged",
            file=out,
        )
        return 1
    chain = ChainCheck(checked.valid)
    try:
        for seq, event_id, link, fields in read_export(export):
            chain.feed(seq, event_id, link, fields)
    except (OSError, UnicodeDecodeError, ExportFormatError) as error:
        print(f"error: {error}", file=out)
        return 2
    findings = checked.findings + chain.finish()
    for finding in findings:
        print(finding, file=out)
    newest = checked.newest
    summary = (
        f"positions 1\u2013{chain.highest:,}, {chain.gaps} gaps, {chain.events:,} events, "
        f"signed by key {', '.join(sorted(checked.keys))}, newest digest {newest.created} "
        f"(#{newest.number})"
    )
    if findings:
        print(f"FAILED ({len(findings)} findings); read: {summary}", file=out)
        return 1
    print(f"OK: {summary}", file=out)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m auditportal_verify",
        description="Check an auditportal chain export against the signed digests.",
    )
    parser.add_argument("export", help="NDJSON from export_audit_logs --format chain")
    parser.add_argument("digest_dir", help="the folder of digest-*.json files")
    parser.add_argument(
        "--public-key",
        action="append",
        required=True,
        metavar="KEY",
        help="PEM file of the signing key's public half (repeat for keys used before a rotation)",
    )
    arguments = parser.parse_args(argv)
    return verify(arguments.export, arguments.digest_dir, arguments.public_key)


if __name__ == "__main__":
    sys.exit(main())
