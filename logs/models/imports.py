"""Provenance of stored events: which file, in which format, imported by whom, with what result."""

from django.conf import settings
from django.db import models

from logs.display_time import utc_text


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed (nothing kept)"
        PARTIAL = "partial", "Completed with rejected records"
        # Its process ended without closing it (killed); see logs/ingest/batches.py.
        INTERRUPTED = "interrupted", "Interrupted"
        # A collection run that an error stopped after it stored some pages (they are kept,
        # and the source's position with them: the next run carries on).
        STOPPED = "stopped", "Stopped by an error (pages before it kept)"

    file_name = models.CharField(max_length=1024)
    format = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    imported_by_name = models.CharField(
        max_length=256, blank=True, help_text="The account that ran the import (user or OS user)."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    records_read = models.PositiveIntegerField(default=0)
    records_new = models.PositiveIntegerField(default=0)
    records_duplicate = models.PositiveIntegerField(default=0)
    records_rejected = models.PositiveIntegerField(default=0)
    records_with_notes = models.PositiveIntegerField(
        default=0, help_text="New records stored with normalisation notes."
    )
    records_conflicting = models.PositiveIntegerField(
        default=0,
        help_text="Records whose id was stored with other content (the first kept).",
    )
    records_cross_format_duplicate = models.PositiveIntegerField(
        default=0,
        help_text="New records linked as the same event as one from another format.",
    )
    error = models.TextField(blank=True)
    # A collection run (logs/collection/): the source it read and the activity dates it asked
    # for (Graph) or read (storage); empty for files and pushes.
    collection_source = models.ForeignKey(
        "logs.CollectionSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"{self.file_name} ({self.format}, {utc_text(self.started_at)})"
