"""A text field stored packed (logs.originals.codec): ``str`` in Python, bytes in the database.

Every ORM read (a model instance, ``values()``, ``F("original")``) goes through
``from_db_value``, and every ORM write through ``get_db_prep_value``, so nothing above the
model sees anything but the text. Raw SQL reads call
:func:`logs.originals.dictionaries.original_text`; the loader's bulk insert packs with
:func:`logs.originals.codec.pack` itself.

The database never sees the text, so it cannot filter on it: a lookup such as
``original__contains`` would compare compressed bytes and silently find nothing. Every lookup
but ``isnull`` is refused with an error instead.
"""

from django.core.exceptions import FieldError
from django.db import models

from logs.originals.codec import pack
from logs.originals.dictionaries import original_text, writing_dictionary


class PackedTextField(models.BinaryField):
    description = "Text stored compressed, read back as the same text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.name} holds text, not {type(value).__name__}")
        return connection.Database.Binary(pack(value, writing_dictionary(connection)))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return original_text(value, connection)

    def to_python(self, value):
        # Text stays text (BinaryField would read a str as base64).
        return value

    def get_default(self):
        if self.has_default():
            return super().get_default()
        return None if self.null else ""

    def value_to_string(self, obj):
        # Serialised (dumpdata) as the text itself, not as base64 of the packed bytes.
        return self.value_from_object(obj)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is stored compressed: the database cannot "
            f"compare its text, so the lookup '{lookup_name}' is not supported"
        )

    def get_transform(self, lookup_name):
        return None
