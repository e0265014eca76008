"""Append-only notes on events, so that annotating never edits the evidence."""

from django.conf import settings
from django.db import models

from logs.models.immutable import ImmutableModel


class Annotation(ImmutableModel):
    class Kind(models.TextChoices):
        INFORMATIONAL = "informational", "Informational"
        NOTE = "note", "Note"
        # The same event as ``duplicate_of``, imported again from a format without ids (the
        # portal CSV); hidden from lists, counts, answers and exports unless asked for.
        DUPLICATE = "duplicate", "Duplicate"

    # No database constraint (migration 0014), as for Target.event: annotations are made
    # through the ORM for a stored event and deleted only by retention, before their event;
    # the check cost PostgreSQL a query per purged event. verify_audit_log reports any
    # annotation left without its event.
    event = models.ForeignKey(
        "logs.AuditEvent",
        on_delete=models.CASCADE,
        related_name="annotations",
        db_constraint=False,
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    source = models.CharField(
        max_length=64, help_text='What made the note: "import", a command name, or "portal".'
    )

    duplicate_of = models.ForeignKey(
        "logs.AuditEvent",
        # Retention may purge either event first; the link then names an event gone.
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        help_text="For a duplicate: the event it duplicates.",
    )

    class Meta:
        # The event's id: ordering by the event would join the events (see Target's ordering).
        ordering = ["event_id", "created_at", "id"]
        indexes = [models.Index(fields=["kind", "event"], name="annotation_kind_event_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"
