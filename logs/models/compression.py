"""The dictionaries the events' originals are compressed with (logs.originals)."""

from django.db import models

from logs.models.immutable import ImmutableModel


class CompressionDictionary(ImmutableModel):
    """A zstandard dictionary, stored once and never changed: every original packed with it
    names its id, so it must stay as it is for as long as any of them is stored.

    ``sha256`` is checked whenever the dictionary is read; ``origin`` says what it was trained
    on.
    """

    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    origin = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"compression dictionary {self.pk} ({len(self.data)} bytes)"
