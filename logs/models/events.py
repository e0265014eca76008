"""Audit events, their targets and the properties each change modified."""

from django.core.exceptions import ObjectDoesNotExist
from django.db import connections, models, router, transaction
from django.db.models import OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from logs.display_time import utc_text
from logs.hash_chain import ChainAppender, chain_datetime, event_appended
from logs.immutability import ImmutableRecordError
from logs.models.annotations import Annotation
from logs.models.digest_field import DigestField
from logs.models.immutable import ImmutableModel, ImmutableQuerySet
from logs.models.lookups import DetailsList, TargetName, UserAgent, details_text
from logs.originals.field import PackedTextField
from logs.partitions import ensure_partitions


def query_additional_details():
    """An event's ``additionalDetails`` in a query: its shared list, or an empty one (no row)."""
    return Coalesce("details_list__entries", Value([], output_field=models.JSONField()))


def query_user_agent():
    """An event's user agent in a query: its shared text, or "" (no row)."""
    return Coalesce("user_agent__text", Value("", output_field=models.TextField()))


def informational_flag():
    """Whether an event is annotated informational, as a column of a listing: a scalar
    subquery (its first such annotation, if any), looked up in the (kind, event) index for
    each row the listing returns.

    Not ``EXISTS``: PostgreSQL may turn an ``EXISTS`` in a select list into one hashed set of
    every informational annotation, choosing so by the rows it estimates before the page's
    ``LIMIT``, and so built that set of tens of thousands of rows for each page of fifty. A
    scalar subquery is never hashed."""
    first = (
        Annotation.objects.filter(kind=Annotation.Kind.INFORMATIONAL, event=OuterRef("pk"))
        .order_by()
        .values(flag=Value(True))[:1]
    )
    return Coalesce(Subquery(first, output_field=models.BooleanField()), Value(False))


# Where ``with_listed_targets()`` puts each event's targets, as a list.
LISTED_TARGETS = "listed_targets"


class AuditEventQuerySet(ImmutableQuerySet):
    def for_listing(self):
        """What a page of events shows, in a fixed number of queries whatever the page size:
        the lookups joined, targets in one prefetch, "informational" as a subquery per row
        (``informational_flag``)."""
        return (
            self.defer("original")
            .select_related("service", "category", "activity", "initiator", "user_agent")
            .prefetch_related("targets")
            .annotate(is_informational=informational_flag())
        )

    def with_listed_targets(self):
        """This listing with each event's targets as a plain list in ``listed_targets``
        (``logs.columns.event_targets`` reads either), for a page that only shows them:
        to hold ``targets.all()``, Django builds a queryset per event, a tenth of a
        changelist page's time."""
        return self.prefetch_related(None).prefetch_related(
            Prefetch("targets", to_attr=LISTED_TARGETS)
        )


class AuditEvent(ImmutableModel):
    """One Entra directory audit record, stored once and never changed.

    ``original`` keeps the record exactly as the source sent it (JSON text, key order and values
    preserved), so that nothing a source sent is lost; the other fields are the normalised,
    indexed view used for browsing and filtering.
    """

    objects = AuditEventQuerySet.as_manager()

    class Result(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        TIMEOUT = "timeout", "Timeout"
        UNKNOWN_FUTURE_VALUE = "unknownFutureValue", "Unknown"

    entra_id = models.CharField(
        "activity id", max_length=256, unique=True, help_text="The Entra record id."
    )
    activity_datetime = models.DateTimeField("date (UTC)")
    service = models.ForeignKey(
        "logs.Service",
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    category = models.ForeignKey(
        "logs.Category",
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    activity = models.ForeignKey(
        "logs.Activity",
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    operation_type = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=32, choices=Result.choices, blank=True)
    result_reason = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    initiator = models.ForeignKey(
        "logs.Initiator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        db_constraint=False,
        help_text="Empty when the source named no initiator.",
    )
    initiator_ip_address = models.CharField("initiator IP address", max_length=64, blank=True)
    # The initiator's user agent, one shared row per distinct text (``initiator_user_agent``
    # reads it); null when the source sent none.
    user_agent = models.ForeignKey(
        "logs.UserAgent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        db_constraint=False,
        editable=False,
    )
    # ``additionalDetails``, one shared row per distinct list (``additional_details`` reads it);
    # null when the source sent none.
    details_list = models.ForeignKey(
        "logs.DetailsList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        db_constraint=False,
        editable=False,
        verbose_name="additional details",
    )
    # Stored compressed, read back as the same text (logs.originals).
    original = PackedTextField(help_text="The record as the source sent it (JSON).")
    source_format = models.CharField(max_length=32)
    import_batch = models.ForeignKey(
        "logs.ImportBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    # What the record held that did not fit the fields above (logs.ingest.notes): JSON text of
    # [{"field", "note", "raw"}], "" for none. Written with the event, part of its chain record.
    normalisation_notes = models.TextField(blank=True, default="", db_default="", editable=False)
    # SHA-256 of the normalised content (logs.ingest.fingerprints): the same id arriving again with
    # other content is a conflict, not a duplicate. "" on events stored before it was kept.
    # Both digests are stored as their 32 bytes, read as hexadecimal text (DigestField).
    content_hash = DigestField(blank=True, db_default=b"", editable=False)
    # SHA-256 of what identifies one event across formats (date to the second, correlation id,
    # activity, result, first target; logs.ingest.fingerprints): a portal CSV row and the same
    # event from an id-bearing format share it. "" on events stored before it was kept.
    match_key = DigestField(blank=True, db_default=b"", editable=False)
    # The event's place in the hash chain (logs.integrity): set when it is stored, never
    # changed. Null only for a row written around auditportal, which verification reports.
    chain_seq = models.BigIntegerField("chain position", null=True, unique=True, editable=False)
    chain_link = models.BinaryField(max_length=32, null=True, editable=False)

    # The references to lookups and the import batch have no database constraint: the loader
    # writes them from rows it has just read or created in the same transaction, events are
    # never updated, and the ORM still refuses to delete a lookup in use (PROTECT). A checked
    # constraint costs five trigger checks per event, a large share of an import's time
    # (benchmark metric ``ingest``).
    # The same holds for targets and modified properties (see Target.event).

    class Meta:
        ordering = ["-activity_datetime", "-id"]
        # Each foreign key is served by its (key, date) index below, so none has its own: every
        # index costs time on import.
        indexes = [
            # Every view filters or sorts on the date first; the id makes the order total. On
            # PostgreSQL it also carries what the compliance answers count events by, and
            # SQLite has an index of its own for them (migration 0010).
            models.Index(fields=["-activity_datetime", "-id"], name="event_date_idx"),
            models.Index(fields=["service", "-activity_datetime"], name="event_service_date_idx"),
            models.Index(fields=["category", "-activity_datetime"], name="event_category_date_idx"),
            models.Index(fields=["activity", "-activity_datetime"], name="event_activity_date_idx"),
            models.Index(fields=["result", "-activity_datetime"], name="event_result_date_idx"),
            # On PostgreSQL it also carries the id, for the search's list of an actor's
            # events (migration 0013).
            models.Index(
                fields=["initiator", "-activity_datetime"], name="event_initiator_date_idx"
            ),
            models.Index(fields=["correlation_id"], name="event_correlation_idx"),
            # Match keys of portal CSV rows only: an id-bearing record looks its CSV twin up
            # here, while a CSV row finds its id-bearing twin through the date index (the key
            # holds the date to the second), so no index of every event's random key is kept
            # up on import (logs.ingest.loader, benchmark metric ``ingest``).
            models.Index(
                fields=["match_key"],
                name="event_csv_match_key_idx",
                condition=models.Q(source_format="portal-csv"),
            ),
        ]
        # Viewing is Django's own permission; exporting a whole view is a separate right (the
        # Audit Exporter role), because a file leaves the portal's access controls. Purging
        # (retention) and pushing records through the API are rights of their own too: neither
        # is "change" or "delete", which no one holds on audit events.
        permissions = [
            ("export_auditevent", "Can export audit events (CSV, JSON, NDJSON)"),
            ("purge_auditevent", "Can run retention (archive, then purge old audit events)"),
            ("ingest_auditevent", "Can push audit events through the API ingest endpoint"),
        ]

    def __str__(self):
        return f"{utc_text(self.activity_datetime)} {self.entra_id}"

    def save(self, *args, **kwargs):
        """A new event is appended to the hash chain in the transaction that stores it."""
        if not self._state.adding or self.chain_seq is not None:
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using")):
            using = kwargs.get("using") or router.db_for_write(AuditEvent, instance=self)
            self.chain_seq, self.chain_link = ChainAppender().append(self.chain_fields())
            # Its shared values, found or stored under the chain lock just taken, as the
            # loader does, so that two writers storing the same new value take the locks in
            # one order.
            entries = getattr(self, "_pending_details", None)
            # None and an empty list are no details; any other value is kept, as JSON.
            if entries not in (None, [], ()):
                text = details_text(entries)
                self.details_list_id = DetailsList.ids_for([text], using=using)[text]
            agent = getattr(self, "_pending_user_agent", "")
            if agent:
                self.user_agent_id = UserAgent.ids_for([agent], using=using)[agent]
            # Its month's partition (PostgreSQL), under the chain lock.
            ensure_partitions([self.activity_datetime], connections[using])
            super().save(*args, **kwargs)
            event_appended.send(sender=AuditEvent, event=self)

    def chain_fields(self) -> tuple:
        """What the chain record holds besides the sequence number (see logs.integrity)."""
        return (
            self.entra_id,
            chain_datetime(self.activity_datetime),
            self.service_id,
            self.category_id,
            self.activity_id,
            self.operation_type,
            self.result,
            self.result_reason,
            self.correlation_id,
            self.initiator_id,
            self.initiator_ip_address,
            self.initiator_user_agent,
            self.source_format,
            self.original,
        ) + ((self.normalisation_notes,) if self.normalisation_notes else ())

    @property
    def initiator_user_agent(self) -> str:
        """The initiator's user agent ("" when the source sent none)."""
        if self._state.adding and hasattr(self, "_pending_user_agent"):
            return self._pending_user_agent
        agent = self._shared_row("user_agent")
        return agent.text if agent is not None else ""

    @initiator_user_agent.setter
    def initiator_user_agent(self, text: str) -> None:
        """A new event's user agent (``AuditEvent(initiator_user_agent=...)``): its shared
        ``UserAgent`` row is found or stored when the event is."""
        if not self._state.adding:
            raise ImmutableRecordError(type(self).__name__, "changing a stored record")
        self._pending_user_agent = text

    @property
    def additional_details(self):
        """The event's ``additionalDetails`` (a list; empty when the source sent none)."""
        if self._state.adding and hasattr(self, "_pending_details"):
            return self._pending_details
        details = self._shared_row("details_list")
        return details.entries if details is not None else []

    def _shared_row(self, name: str):
        """The shared row the key ``name`` refers to, or None: no key, or a key to no row (one
        written around auditportal, which verification reports) shows as none."""
        if getattr(self, f"{name}_id") is None:
            return None
        try:
            return getattr(self, name)
        except ObjectDoesNotExist:
            return None

    @additional_details.setter
    def additional_details(self, entries) -> None:
        """A new event's details, given as a list (``AuditEvent(additional_details=[...])``):
        its shared ``DetailsList`` row is found or stored when the event is."""
        if not self._state.adding:
            raise ImmutableRecordError(type(self).__name__, "changing a stored record")
        self._pending_details = entries

    @property
    def notes(self) -> list[dict]:
        """The normalisation notes, as stored (see ``normalisation_notes``)."""
        import json

        return json.loads(self.normalisation_notes) if self.normalisation_notes else []


class Target(ImmutableModel):
    """A resource the event acted on (``targetResources``), in the order the source listed."""

    # The (event, position) constraint's index serves lookups by event. No database
    # constraint (migration 0012): targets are written only with their event, in its
    # transaction, never changed, and deleted only by retention, before their event; checking
    # each reference took PostgreSQL a database query per row on import and again on purge
    # (as long as the deletes themselves). verify_audit_log reports any target left without
    # its event.
    event = models.ForeignKey(
        AuditEvent,
        on_delete=models.CASCADE,
        related_name="targets",
        db_index=False,
        db_constraint=False,
    )
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=256, blank=True)
    display_name = models.CharField(max_length=1024, blank=True)
    user_principal_name = models.CharField(max_length=512, blank=True)
    group_type = models.CharField(max_length=64, blank=True)
    # The event's date, activity, result and service, copied when the target is stored (an
    # event never changes, so the copies cannot go stale): the compliance answers ask which
    # objects a period's events of some activities changed, and read that from one index
    # on targets instead of joining each of a month's targets to its event (migration 0011).
    # Null only on a row written around auditportal.
    event_datetime = models.DateTimeField(null=True, editable=False)
    event_activity = models.ForeignKey(
        "logs.Activity",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        editable=False,
    )
    event_result = models.CharField(max_length=32, blank=True, editable=False)
    event_service = models.ForeignKey(
        "logs.Service",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        editable=False,
    )

    class Meta:
        # The event's id, not the event: ordering by a relation orders by that model's own
        # ordering, which joins every target query to the events (on PostgreSQL, planned
        # against every month partition) only to sort the events' targets apart. Within an
        # event the order is the source's.
        ordering = ["event_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["event", "position"], name="target_position_unique")
        ]
        indexes = [
            # The target-type filter asks "has this event a target of type X?" per event; this
            # index answers from the index alone. On PostgreSQL the (event, position) index
            # carries the type instead and this one is dropped (migration 0033).
            models.Index(fields=["event", "type"], name="target_event_type_idx"),
            # The compliance answers: a period's targets of some activities, with all they
            # read, in one range of the index per activity (see logs.insights).
            models.Index(
                fields=[
                    "event_activity",
                    "event_datetime",
                    "event_result",
                    "event_service",
                    "event",
                    "type",
                    "object_id",
                    "display_name",
                ],
                name="target_activity_date_idx",
            ),
            models.Index(fields=["object_id"], name="target_object_idx"),
            models.Index(fields=["display_name"], name="target_name_idx"),
            models.Index(fields=["user_principal_name"], name="target_upn_idx"),
        ]

    def __str__(self):
        return self.display_name or self.user_principal_name or self.object_id or self.type

    def save(self, *args, **kwargs):
        """A new target takes its copies of the event's fields (see ``event_datetime``), and
        its names are added to the names the target filter searches (TargetName)."""
        adding = self._state.adding
        if adding and self.event_datetime is None:
            self.event_datetime = self.event.activity_datetime
            self.event_activity_id = self.event.activity_id
            self.event_result = self.event.result
            self.event_service_id = self.event.service_id
        super().save(*args, **kwargs)
        if adding:
            TargetName.add([self.display_name, self.user_principal_name], using=self._state.db)


class ModifiedProperty(ImmutableModel):
    """One changed property of a target: name, old value, new value, as the source wrote them.

    Values stay the strings Entra sent (often JSON inside a string, e.g. ``["x"]``); null and
    empty string are kept apart.
    """

    # The key is (target, position): nothing refers to a modified property, so it needs no
    # id of its own (on PostgreSQL, a column and an index; SQLite keeps its rowid, as every
    # table there does). The key's index serves lookups by target. No database constraint,
    # as for Target.event.
    pk = models.CompositePrimaryKey("target", "position")
    target = models.ForeignKey(
        Target,
        on_delete=models.CASCADE,
        related_name="modified_properties",
        db_index=False,
        db_constraint=False,
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=512, blank=True)
    # null and "" mean different things in the source, so both are kept.
    old_value = models.TextField(null=True, blank=True)  # noqa: DJ001
    new_value = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        # The target's id: ordering by the target would join targets and events (see Target).
        ordering = ["target_id", "position"]
        verbose_name_plural = "modified properties"

    def __str__(self):
        return self.name
