"""Signed digests of the hash chain: the database's copies (the outside copies are files)."""

from django.db import models

from logs.models.immutable import ImmutableModel


class ChainDigest(ImmutableModel):
    """One transaction's appends (and retention checkpoints) to the chain, signed.

    ``payload`` is the canonical JSON the Ed25519 ``signature`` covers (see logs.digests);
    the other columns repeat what it says, for queries. The same digest is written outside the
    database, where someone who can change the database cannot change it.
    """

    number = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    events = models.BigIntegerField()
    checkpoint_upto = models.BigIntegerField(
        default=0, help_text="The newest retention checkpoint id covered so far."
    )
    payload = models.TextField()
    signature = models.BinaryField(max_length=64)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"digest #{self.number}: seq {self.first_seq}..{self.last_seq}"
