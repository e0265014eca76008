"""Errors a person can act on: what is wrong, in which file, at which record or line, which
field."""


class ImportFileError(Exception):
    """The file as a whole cannot be read: empty, binary, not a known format, truncated."""

    def __init__(self, path: str, message: str, location: str = "", field: str = ""):
        self.path = path
        self.location = location
        self.field = field
        self.message = message
        super().__init__(path, message, location, field)

    def __str__(self):
        field = self.field and f"field {self.field}"
        where = ", ".join(part for part in (self.path, self.location, field) if part)
        return f"{where}: {self.message}"


class FieldError(ValueError):
    """One field of one record is wrong; the parser adds where the record is."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"field {field}: {message}")


class RecordError(Exception):
    """One record is bad. Carries what a rejects file needs to keep the input."""

    def __init__(self, path: str, location: str, field: str, message: str, raw: str = ""):
        self.path = path
        self.location = location
        self.field = field
        self.message = message
        self.raw = raw
        field_part = f", field {field}" if field else ""
        super().__init__(f"{path}, {location}{field_part}: {message}")

    def as_reject(self) -> dict:
        return {
            "file": self.path,
            "location": self.location,
            "field": self.field,
            "error": self.message,
            "record": self.raw,
        }


def rejected_row(path: str, location: str, message: str, raw: str) -> tuple[str, RecordError]:
    """(location, RecordError) for a row that is wrong as a whole (no single field to name)."""
    return location, RecordError(path, location, "", message, raw=raw)
