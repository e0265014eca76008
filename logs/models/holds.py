"""Legal holds: events that must outlive the retention policy while litigation or an
investigation needs them.

A hold is placed once and never edited: what it covers, who placed it, when and why are
fixed in its row. Releasing it is a second row of its own, with who, when and why, so the
history of a hold is the rows themselves. Who placed or released is kept as a name, not a
reference to the account: evidence does not change when an account is deleted.
"""

from django.db import models

from logs.models.immutable import ImmutableModel, ImmutableQuerySet

NAME_LENGTH = 200


class LegalHoldQuerySet(ImmutableQuerySet):
    def active(self):
        """Holds not released: retention keeps what they cover."""
        return self.filter(release__isnull=True)


class LegalHold(ImmutableModel):
    """What a hold covers: the events the shared filters select (``filters``, the API's
    parameter names and values, e.g. ``{"correlation_id": "..."}``), or the events with the
    listed Entra activity ids (``event_ids``); one or the other, never both."""

    objects = LegalHoldQuerySet.as_manager()

    name = models.CharField(
        max_length=NAME_LENGTH,
        unique=True,
        help_text="How the hold is named in commands and reports; never reused.",
    )
    reason = models.TextField(help_text="Why the events must be kept (matter, request, ...).")
    filters = models.JSONField(
        default=dict,
        blank=True,
        help_text="The events the filters select, as everywhere in the portal (API names).",
    )
    event_ids = models.JSONField(
        default=list, blank=True, help_text="Or the events with these Entra activity ids."
    )
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    placed_by = models.CharField(max_length=256, help_text="The user (or OS user) who placed it.")

    class Meta:
        ordering = ["-placed_at", "-id"]
        # Placing and releasing add rows; nothing ever changes or deletes one.
        default_permissions = ("add", "view")

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return not hasattr(self, "release")

    def coverage_text(self) -> str:
        """What the hold covers, as filter=value (the API's and the portal URL's names)."""
        if self.event_ids:
            count = len(self.event_ids)
            return f"{count} listed event{'s' if count != 1 else ''}"
        return ", ".join(f"{name}={value}" for name, value in sorted(self.filters.items()))


class LegalHoldRelease(ImmutableModel):
    """The end of a hold: from the next retention run on, its events follow the policy."""

    hold = models.OneToOneField(LegalHold, on_delete=models.PROTECT, related_name="release")
    reason = models.TextField(help_text="Why the events need not be kept any longer.")
    released_at = models.DateTimeField(auto_now_add=True)
    released_by = models.CharField(max_length=256)

    class Meta:
        ordering = ["-released_at", "-id"]
        default_permissions = ("add", "view")

    def __str__(self):
        return f"release of {self.hold.name}"
