"""Retention checkpoints: the ranges of the hash chain that retention purged, signed."""

from django.db import models

from logs.models.immutable import ImmutableModel


class ChainCheckpoint(ImmutableModel):
    """One retention batch's purge, as the chain sees it.

    ``ranges`` packs, for each run of consecutive chain positions the batch purged, the first
    and last position and the link of the last (see logs.integrity.pack_ranges), from which
    the next surviving event's link continues. Old events are seldom stored in date order, so
    a batch purges many short runs: one row per batch keeps that to one insert and one
    signature. ``last_seq``/``last_link`` are the highest position purged and its link (the
    chain's head when retention purged the newest events); ``link`` chains the checkpoints
    and is keyed by SECRET_KEY, so a deletion cannot be passed off as retention without it.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    run = models.CharField(max_length=128, help_text="The retention run that purged the batch.")
    events = models.PositiveIntegerField(help_text="Chain positions purged by the batch.")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(db_index=True)
    last_link = models.BinaryField(max_length=32)
    ranges = models.BinaryField()
    link = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.run}: {self.events} events, seq {self.first_seq}..{self.last_seq}"


class LookupSeal(ImmutableModel):
    """The seal of one lookup row's text (see logs.lookup_seals): written once, right after the
    row, never changed; verify_audit_log recomputes it."""

    lookup = models.CharField(max_length=32, help_text='The lookup table, e.g. "activity".')
    row_id = models.BigIntegerField()
    seal = models.BinaryField(
        help_text="A keyed MAC of the row, then one per sealed field, in order."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lookup", "row_id"], name="lookup_seal_row_unique")
        ]

    def __str__(self):
        return f"{self.lookup} {self.row_id}"
