"""Retention checkpoints: the ranges of the hash chain that retention purged, signed."""

from django.db import models

from logs.models.immutable import ImmutableModel


class ChainCheckpoint(ImmutableModel):
    """Events ``first_seq``..``last_seq`` of the chain were purged by retention run ``run``.

    ``last_link`` is the link of the range's last event, from which the next surviving event's
    link continues; ``link`` chains the checkpoints and is keyed by SECRET_KEY, so a deletion
    cannot be passed off as retention without the key (see logs.integrity).
    """

    created_at = models.DateTimeField(auto_now_add=True)
    run = models.CharField(max_length=128, help_text="The retention run that purged the range.")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(db_index=True)
    last_link = models.BinaryField(max_length=32)
    link = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.run}: seq {self.first_seq}..{self.last_seq}"
