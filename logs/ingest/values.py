"""Reading and checking the values of one source record, naming the field on any problem.

Real sources disagree on small things (``"Type"`` vs ``"type"`` in targetResources, null vs
empty string, 6 or 7 fractional digits), so lookups here are case-insensitive and dates accept
what the formats actually emit; anything else is a FieldError naming the field.
"""

import io
import json
from datetime import UTC, datetime

from logs.ingest.errors import FieldError
from logs.ingest.json_limits import JsonLimitError, loads, locate
from logs.ingest.notes import Notes

# Longest text we accept in one value: large policy documents fit, a runaway field does not.
MAX_TEXT_CHARS = 1_000_000

_ABSENT = object()

_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true/false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def describe_type(value) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class SourceObject:
    """A JSON object from a source, read with case-insensitive keys and a path for messages.

    Every record of every import passes through here some thirty times, so the common case (the
    key spelled as expected, a string within its limit) takes the shortest path, and the path
    for messages is only built when a message needs it.
    """

    __slots__ = ("_folded", "_index", "_parent", "_values", "notes")

    def __init__(self, value, path: str, index: int | None = None, notes: Notes | None = None):
        if type(value) is not dict and not isinstance(value, dict):
            where = f"{path}[{index}]" if index is not None else path
            raise FieldError(where or "record", f"expected an object, got {describe_type(value)}")
        self._values = value
        self._folded = None
        self._parent = path
        self._index = index
        # Where values that do not fit are noted (logs.ingest.notes); None: refuse them.
        self.notes = notes

    @property
    def path(self) -> str:
        if self._index is None:
            return self._parent
        return f"{self._parent}[{self._index}]"

    def field_path(self, key: str) -> str:
        path = self.path
        return f"{path}.{key}" if path else key

    def raw(self, key: str):
        """The value under ``key``; the exact spelling is tried first (it nearly always fits)."""
        values = self._values
        if key in values:
            return values[key]
        if self._folded is None:
            self._folded = {name.lower(): item for name, item in values.items()}
        return self._folded.get(key.lower())

    def raw_items(self):
        """The object's own keys and values, as the source spelled them."""
        return self._values.items()

    def text(self, key: str, max_length: int = MAX_TEXT_CHARS, required: bool = False) -> str:
        """A string value; null or absent becomes "" unless required."""
        value = self._values.get(key, _ABSENT)
        if type(value) is str and len(value) <= max_length and (not required or value.strip()):
            return value
        if value is _ABSENT:
            value = self.raw(key)
        return self._checked_text(key, value, max_length, required)

    def _checked_text(self, key: str, value, max_length: int, required: bool) -> str:
        if value is None:
            if required:
                raise FieldError(self.field_path(key), "is missing")
            return ""
        if type(value) is not str:
            return self._misfit(
                key, value, required, f"expected a string, got {describe_type(value)}"
            )
        if len(value) > max_length:
            return self._misfit(
                key,
                value,
                required,
                f"is {len(value):,} characters long; the limit is {max_length:,}",
            )
        if required and not value.strip():
            raise FieldError(self.field_path(key), "is empty")
        return value

    def _misfit(self, key: str, value, required: bool, message: str) -> str:
        """A value that does not fit its field: noted and stored as empty, or refused (a
        required field, or no notes being kept)."""
        if required or self.notes is None:
            raise FieldError(self.field_path(key), message)
        self.notes.add(self.field_path(key), message + "; stored as empty", value)
        return ""

    def note(self, key: str, message: str, value, **options) -> None:
        """Note that ``key`` held ``value``, which did not fit (or refuse without notes)."""
        if self.notes is None:
            raise FieldError(self.field_path(key), message)
        self.notes.add(self.field_path(key), message, value, **options)

    def nullable_text(self, key: str, max_length: int = MAX_TEXT_CHARS) -> str | None:
        """A string value that keeps null apart from ""."""
        value = self._values.get(key, _ABSENT)
        if value is None:
            return None
        if type(value) is str and len(value) <= max_length:
            return value
        if value is _ABSENT:
            value = self.raw(key)
            if value is None:
                return None
        if type(value) is not str and self.notes is not None:
            message = f"expected a string, got {describe_type(value)}; stored as null"
            self.notes.add(self.field_path(key), message, value)
            return None
        return self._checked_text(key, value, max_length, required=False)

    def obj(self, key: str) -> "SourceObject | None":
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict) and self.notes is not None:
            self.note(key, f"expected an object, got {describe_type(value)}; ignored", value)
            return None
        return SourceObject(value, self.field_path(key), notes=self.notes)

    def objects(self, key: str) -> list["SourceObject"]:
        """A list of objects; null or absent is an empty list.

        With notes kept, one object where a list is expected is read as a list of one, and
        anything else that is not an object is left out, with a note."""
        value = self.raw(key)
        if value is None:
            return []
        path = self.field_path(key)
        if type(value) is not list:
            if self.notes is None:
                raise FieldError(path, f"expected a list, got {describe_type(value)}")
            if isinstance(value, dict):
                self.note(key, "expected a list, got one object; read as a list of one", value)
                return [SourceObject(value, path, notes=self.notes)]
            if value == "":
                return []
            self.note(key, f"expected a list, got {describe_type(value)}; ignored", value)
            return []
        if not value:
            return []
        objects = []
        for index, item in enumerate(value):
            if isinstance(item, dict) or self.notes is None:
                objects.append(SourceObject(item, path, index, notes=self.notes))
            else:
                self.notes.add(
                    f"{path}[{index}]",
                    f"expected an object, got {describe_type(item)}; left out",
                    item,
                )
        return objects

    def datetime(self, key: str) -> datetime:
        text = self.text(key, max_length=64, required=True)
        moment = parse_datetime(text, self.field_path(key))
        if self.notes is not None and not has_offset(text):
            self.notes.add(
                self.field_path(key),
                "has no UTC offset; UTC assumed",
                text,
                refused_when_strict=False,
            )
        return moment


# What spreadsheet and portal exports write instead of ISO 8601: Log Analytics' CSV export
# ("5/25/2023, 4:32:49.469 AM") and Excel re-saving a CSV in the US locale ("11/9/2024 10:23").
# Month first, as those exports write it.
_EXPORT_DATETIME_FORMATS = (
    "%m/%d/%Y, %I:%M:%S.%f %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S.%f %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)


def parse_datetime(value: str, field: str) -> datetime:
    """An ISO 8601 date-time as Entra writes it (7 fractional digits, "Z" or an offset), or
    the month-first forms that CSV exports and Excel write.

    Python keeps microseconds, so the 7th digit is dropped here; the original record keeps it.
    A value without an offset is taken as UTC, as the portal's "Date (UTC)" column is.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_export_datetime(text)
        if parsed is None:
            raise FieldError(
                field,
                f"{value!r} is not a date-time (expected ISO 8601, e.g. 2024-11-09T10:01:19Z, "
                "or an export's month-first form, e.g. 11/9/2024, 10:01:19.000 AM)",
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+23:59 is a valid ISO 8601 text, but in UTC a day before year 1.
        raise FieldError(
            field, f"{value!r} lies outside the range of dates (years 1 to 9999 in UTC)"
        ) from None


def has_offset(text: str) -> bool:
    """Whether an ISO 8601 date-time text names its offset ("Z", "+01:00", "-0500")."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        return True
    time_part = text[10:]
    return "+" in time_part or "-" in time_part


def _parse_export_datetime(text: str) -> datetime | None:
    if "/" not in text:
        return None
    for date_format in _EXPORT_DATETIME_FORMATS:
        try:
            return datetime.strptime(text, date_format)
        except ValueError:
            continue
    return None


def parse_json_text(value: str, field: str):
    """JSON that a source nested inside a string column, read within the limits on JSON input
    (logs.ingest.json_limits); a problem names the column and the place inside it."""
    try:
        return loads(value)
    except json.JSONDecodeError as error:
        message = f"is not valid JSON ({error.msg} at position {error.pos})"
        raise FieldError(field, message) from None
    except JsonLimitError as error:
        _, inner = locate(io.BytesIO(value.encode("utf-8", "surrogatepass")), "")
        separator = "" if inner.startswith("[") else "."
        raise FieldError(f"{field}{separator}{inner}" if inner else field, error.message) from None
