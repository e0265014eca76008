"""Streaming rows out of a CSV export, as dicts keyed by the header, with line numbers.

The portal writes RFC 4180 CSV with every cell quoted and a BOM; Excel re-saves it with
semicolons (decimal-comma locales) or as tab-separated UTF-16 ("Unicode text"), and may end
lines with CRLF. Cells can hold whole JSON documents across several lines, so line numbers
come from the reader, not from counting rows.
"""

import csv

from logs.ingest.detect import csv_delimiter
from logs.ingest.errors import ImportFileError, rejected_row
from logs.ingest.json_limits import MAX_RECORD_BYTES
from logs.ingest.values import MAX_TEXT_CHARS

# A modified property can hold a large policy document; the csv module's default cell limit
# (128 KiB) is smaller than what the JSON formats accept.
csv.field_size_limit(max(csv.field_size_limit(), MAX_TEXT_CHARS + 1))
# The csv module reads whole lines; one without an end (a gzip file can unpack to gigabytes of
# it) would be held in memory whole. No row of a real export comes near this.
MAX_LINE_CHARS = MAX_RECORD_BYTES


def iter_csv_rows(input_file, required_columns=()):
    """Yield (location, {header: cell} or RecordError) for each data row.

    A header without one of ``required_columns`` fails the file at once: it is another export,
    or the columns were renamed, and every row would be rejected for the same reason.
    """
    line_number = 1
    try:
        with input_file.open_text() as stream:
            lines = _bounded_lines(input_file, stream)
            first_line = next(lines, "")
            delimiter = csv_delimiter(first_line)
            header = next(csv.reader([first_line], delimiter=delimiter), [])
            names = [name.lstrip("\ufeff").strip() for name in header]
            _check_columns(input_file, names, required_columns)
            reader = csv.reader(lines, delimiter=delimiter)
            for cells in reader:
                location = f"line {line_number + 1}"
                line_number = reader.line_num + 1
                if not any(cells):
                    continue
                if len(cells) != len(names):
                    yield rejected_row(
                        input_file.name,
                        location,
                        f"has {len(cells)} cells but the header has {len(names)}; the row may "
                        "be cut short or hold an unquoted delimiter",
                        delimiter.join(cells),
                    )
                    continue
                yield location, dict(zip(names, cells, strict=True))
    except csv.Error as error:
        raise ImportFileError(
            input_file.name, f"is not valid CSV ({error})", location=f"line {line_number + 1}"
        ) from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            input_file.name, f"is not valid {input_file.encoding} text ({error.reason})"
        ) from None


def _bounded_lines(input_file, stream):
    """The stream's lines, each read no further than MAX_LINE_CHARS characters."""
    number = 0
    while line := stream.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise ImportFileError(
                input_file.name,
                f"has a line longer than {MAX_LINE_CHARS:,} characters; it is not an export's CSV",
                location=f"line {number}",
            )
        yield line


def _check_columns(input_file, names: list[str], required_columns) -> None:
    folded = {name.lower() for name in names}
    missing = [column for column in required_columns if column.lower() not in folded]
    if missing:
        raise ImportFileError(
            input_file.name,
            f"lacks the column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f'"{column}"' for column in missing)
            + f"; its header starts {', '.join(names[:4])}, so it is not this format's export",
            location="line 1",
        )
