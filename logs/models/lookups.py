"""Small lookup tables, so filter sidebars list choices and text filters find names without
scanning the event table.

Events show these rows' text, so the rows are as immutable as events: stored once, never
changed (the ORM refuses, and so do database triggers, on both databases), and sealed
(logs.lookup_seals) so that verify_audit_log finds a change made around both.
"""

import hashlib

import orjson
from django.db import IntegrityError, connections, models, transaction

from logs.immutability import ImmutableRecordError
from logs.lookup_seals import LOOKUPS, seal_new_rows, write_seals
from logs.models.immutable import ImmutableModel, ImmutableQuerySet


def folded(text: str) -> str:
    """``text`` as the text filters compare it: Unicode case folding ("Straße" and "STRASSE"
    are "strasse"), done here rather than by the database, so that PostgreSQL and SQLite (whose
    LIKE folds ASCII letters only) match the same names."""
    return text.casefold()


# Values bound in one statement: within SQLite's historical limit (Django's
# ``max_query_params``), which binds the fewest.
_PARAMETERS_PER_STATEMENT = 999


class SealedLookupQuerySet(ImmutableQuerySet):
    """Creating rows stays allowed (imports create lookups); each new row is sealed in the same
    transaction. Updates and deletes are refused, as for events."""

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, **kwargs):
        """Through ``SealedLookup.store``, the one way lookup rows are inserted in bulk, so that
        only the rows this call inserts are sealed: a row with a matching key stored around
        auditportal keeps no seal, for verification to find. Without ``ignore_conflicts`` a
        row already stored (or given twice) is an IntegrityError, as Django's own; updating a
        stored row instead is refused, as every change of one is; so is an object with its id
        set, which ``store`` would silently give another. Inserted objects get their ids.
        ``batch_size`` is accepted for Django's signature: ``store`` chunks by itself."""
        if kwargs.get("update_conflicts"):
            raise ImmutableRecordError(self.model.__name__, "bulk_create(update_conflicts=True)")
        objs = list(objs)
        model = self.model
        if any(obj.pk is not None for obj in objs):
            raise ValueError(
                f"{model.__name__}: a lookup row's id is the database's to give, not the caller's"
            )
        connection = connections[self.db]
        key_column = model._meta.get_field(model.NATURAL_KEY).column
        rows, keys = {}, []
        for obj in objs:
            row = model.stored_values(obj, connection)
            keys.append(row[key_column])  # the key as stored: the objects are found by it
            rows.setdefault(row[key_column], row)
        with transaction.atomic(using=self.db):
            new = model.store(rows, using=self.db, ids=False)
            if not ignore_conflicts and len(new) < len(objs):
                raise IntegrityError(
                    f"{model.__name__}: {len(objs) - len(new)} of {len(objs)} rows are "
                    f"already stored or given twice"
                )
        for obj, key in zip(objs, keys, strict=True):
            if key in new:
                obj.pk = new.pop(key)
            # As Django's own: every object counts as saved, inserted or skipped.
            obj._state.adding, obj._state.db = False, self.db
        return objs


class SealedLookup(ImmutableModel):
    """A lookup row: written once and sealed; a second save or a delete raises
    ImmutableRecordError (deletes only inside the retention window, which never deletes
    lookups today)."""

    # The unique column new rows are found by after a bulk insert that skipped known ones.
    NATURAL_KEY = "name"

    objects = SealedLookupQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or self._state.db or "default"
        adding = self._state.adding
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            if adding:
                type(self).seal([getattr(self, self.NATURAL_KEY)], using=self._state.db)

    @classmethod
    def seal(cls, keys, using: str | None = None) -> None:
        """Seal the stored rows with these natural keys that have no seal yet."""
        seal_new_rows(connections[using or "default"], LOOKUPS[cls._meta.db_table], keys)

    @classmethod
    def stored_values(cls, row: "SealedLookup", connection) -> dict:
        """Column → value of an unsaved row, as the database takes each value (a details list's
        JSON, say): what ``store`` inserts for it."""
        return {
            field.column: field.get_db_prep_save(field.pre_save(row, add=True), connection)
            for field in cls._meta.concrete_fields
            if not field.primary_key
        }

    @classmethod
    def store(cls, rows: dict, using: str = "default", ids: bool = True) -> dict:
        """Natural key → id for ``rows`` (natural key → {column: value}, the same columns for
        every row), inserting and sealing those not stored yet; with ``ids`` false, only the
        new rows' ids.

        Plain SQL rather than ``bulk_create``: an import creates lookup rows for a large share
        of its events (a tenant's people and names), and ``bulk_create`` builds an instance per
        row and returns no ids when it skips stored rows, so finding and sealing what it
        inserted took two more queries (benchmark metric ``ingest``). Here each chunk is one
        ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the new rows come back with their ids
        and their values as stored, which are what their seals are computed from, as
        ``seal_new_rows`` does; rows already stored are skipped, and only their ids are read.
        """
        if not rows:
            return {}
        connection = connections[using]
        lookup = LOOKUPS[cls._meta.db_table]
        quote = connection.ops.quote_name
        columns = list(next(iter(rows.values())))
        key_index = columns.index(cls.NATURAL_KEY)
        per_statement = max(1, _PARAMETERS_PER_STATEMENT // len(columns))
        row_values = "(" + ", ".join(["%s"] * len(columns)) + ")"
        returned = ", ".join(quote(name) for name in ("id", *lookup.fields))
        key_position = 1 + lookup.fields.index(cls.NATURAL_KEY)
        stored: dict = {}
        values = [[row[name] for name in columns] for row in rows.values()]
        with transaction.atomic(using=using), connection.cursor() as cursor:
            for start in range(0, len(values), per_statement):
                chunk = values[start : start + per_statement]
                cursor.execute(
                    f"INSERT INTO {quote(cls._meta.db_table)} "
                    f"({', '.join(quote(name) for name in columns)}) "
                    f"VALUES {', '.join([row_values] * len(chunk))} "
                    f"ON CONFLICT ({quote(cls.NATURAL_KEY)}) DO NOTHING RETURNING {returned}",
                    [value for row in chunk for value in row],
                )
                new_rows = cursor.fetchall()
                write_seals(cursor, lookup, new_rows)
                stored.update((row[key_position], row[0]) for row in new_rows)
            if ids:
                known = [row[key_index] for row in values if row[key_index] not in stored]
                stored.update(cls._ids_of(cursor, known))
        return stored

    @classmethod
    def _ids_of(cls, cursor, keys: list) -> dict:
        """Natural key → id of the stored rows with these keys."""
        found = {}
        quote = cursor.db.ops.quote_name
        table, key = quote(cls._meta.db_table), quote(cls.NATURAL_KEY)
        for start in range(0, len(keys), _PARAMETERS_PER_STATEMENT):
            chunk = keys[start : start + _PARAMETERS_PER_STATEMENT]
            cursor.execute(
                f"SELECT {key}, id FROM {table} WHERE {key} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update(cursor.fetchall())
        return found


class NamedLookup(SealedLookup):
    name = models.CharField(max_length=256, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(NamedLookup):
    """The Entra service that logged the event (``loggedByService``), e.g. "Core Directory"."""


class Category(NamedLookup):
    """The audit category, e.g. "UserManagement", "GroupManagement"."""

    class Meta(NamedLookup.Meta):
        verbose_name_plural = "categories"


class Activity(NamedLookup):
    """The activity display name, e.g. "Add member to group"."""

    class Meta(NamedLookup.Meta):
        verbose_name_plural = "activities"


class Initiator(SealedLookup):
    """Who initiated an event: a user, an application (service principal), or the system.

    Deduplicated on ``identity_key`` (a digest of every identity field), so that one actor is one
    row however many events it initiated. Per-event facts (IP address, user agent) live on the
    event, not here.
    """

    class Kind(models.TextChoices):
        USER = "user", "User"
        APP = "app", "Application"
        SYSTEM = "system", "System"

    # The names a person may type to find this initiator (UPN, display name, application and
    # service principal names), folded and one per line: the initiator filter and the search
    # match a substring of it (logs.filters), through a trigram index on PostgreSQL
    # (migration 0018). Set when the initiator is stored.
    NAME_FIELDS = (
        "user_principal_name",
        "user_display_name",
        "app_display_name",
        "service_principal_name",
    )

    NATURAL_KEY = "identity_key"

    identity_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    user_object_id = models.CharField(max_length=64, blank=True)
    user_display_name = models.CharField(max_length=512, blank=True)
    user_principal_name = models.CharField(max_length=512, blank=True)
    user_type = models.CharField(max_length=64, blank=True)
    home_tenant_id = models.CharField(max_length=64, blank=True)
    home_tenant_name = models.CharField(max_length=512, blank=True)
    app_id = models.CharField(max_length=64, blank=True)
    app_display_name = models.CharField(max_length=512, blank=True)
    service_principal_id = models.CharField(max_length=64, blank=True)
    service_principal_name = models.CharField(max_length=512, blank=True)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["user_principal_name"]),
            models.Index(fields=["user_display_name"]),
            models.Index(fields=["app_display_name"]),
            models.Index(fields=["app_id"]),
            # The name filters and the search look an id up beside the names
            # (logs.filters.initiators_matching): with one of the three ids unindexed, the
            # whole condition was a scan of every initiator. Migration 0034; it also adds an
            # index of the UPN in any case, which the models cannot describe.
            models.Index(fields=["user_object_id"], name="initiator_user_id_idx"),
            models.Index(fields=["service_principal_id"], name="initiator_sp_id_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = self.searchable_text(self.__dict__)
        super().save(*args, **kwargs)

    @classmethod
    def searchable_text(cls, fields) -> str:
        """``search_text`` of an initiator with these fields (a dict or an object)."""
        get = fields.get if isinstance(fields, dict) else lambda name: getattr(fields, name)
        names = dict.fromkeys(folded(get(name) or "") for name in cls.NAME_FIELDS)
        return "\n".join(name for name in names if name)

    # What the shown name is made of (``shown_name``).
    SHOWN_NAME_FIELDS = (
        "kind",
        "user_principal_name",
        "user_display_name",
        "user_object_id",
        "app_display_name",
        "service_principal_name",
        "app_id",
        "service_principal_id",
    )

    @property
    def name(self) -> str:
        """What the portal shows in "Initiated by (actor)"."""
        return self.shown_name(*(getattr(self, field) for field in self.SHOWN_NAME_FIELDS))

    @classmethod
    def shown_name(
        cls,
        kind,
        user_principal_name,
        user_display_name,
        user_object_id,
        app_display_name,
        service_principal_name,
        app_id,
        service_principal_id,
    ) -> str:
        """``name`` from the ``SHOWN_NAME_FIELDS`` alone, in that order: for a sort that
        reads every initiator's name as plain rows, without building an instance of each."""
        if kind == cls.Kind.USER:
            return user_principal_name or user_display_name or user_object_id
        if kind == cls.Kind.APP:
            return app_display_name or service_principal_name or app_id or service_principal_id
        return "System"


class TargetName(SealedLookup):
    """Every display name and user principal name a stored target has: a lookup for the target
    filter and the search, which find the names containing the typed text here (a trigram index
    on PostgreSQL, migration 0018), then those names' targets through the targets' own
    indexes. Names are added when their targets are stored (the loader, Target.save) and never
    removed: a name whose targets retention purged matches no event.
    """

    name = models.CharField(max_length=1024, unique=True)
    folded = models.TextField(editable=False)

    def __str__(self):
        return self.name

    @classmethod
    def add(cls, names, using: str = "default") -> None:
        """Store the names not stored yet (blank ones are no names)."""
        cls.store(
            {name: {"name": name, "folded": folded(name)} for name in set(names) if name},
            using=using,
            ids=False,
        )


def details_text(entries) -> str:
    """The canonical JSON text of an event's ``additionalDetails``: compact, keys sorted, so that
    one list is one ``DetailsList`` row whatever order its objects' keys arrived in (PostgreSQL's
    jsonb keeps them in an order of its own anyway)."""
    return orjson.dumps(entries, option=orjson.OPT_SORT_KEYS).decode()


def text_digest(text: str) -> str:
    """The natural key of a ``TextKeyedLookup`` row: the SHA-256 of its text. A value may be
    long, and a unique index on the text itself would refuse one longer than a B-tree page
    allows on PostgreSQL."""
    return hashlib.sha256(text.encode()).hexdigest()


class TextKeyedLookup(SealedLookup):
    """A per-event value that repeats (a user agent, a details list), stored once and shared:
    events hold a key to the row instead of the value, or null for none, and the event row is
    that much smaller (docs/internals/storage.md). Found by the digest of its text."""

    NATURAL_KEY = "digest"

    digest = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True
        # A constraint rather than ``unique=True``, which on PostgreSQL adds a second index for
        # LIKE queries that no one makes of a digest.
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="%(app_label)s_%(class)s_digest_key")
        ]

    @classmethod
    def from_text(cls, digest: str, text: str) -> "TextKeyedLookup":
        """An unsaved row holding ``text`` under ``digest``."""
        raise NotImplementedError

    @classmethod
    def ids_for(cls, texts, using: str = "default") -> dict[str, int]:
        """Text → id for these texts, storing (and sealing) those not stored yet."""
        by_digest = {text_digest(text): text for text in set(texts)}
        connection = connections[using]
        rows = {
            digest: cls.stored_values(cls.from_text(digest, text), connection)
            for digest, text in by_digest.items()
        }
        stored = cls.store(rows, using=using)
        return {by_digest[digest]: pk for digest, pk in stored.items()}


class DetailsList(TextKeyedLookup):
    """One distinct ``additionalDetails`` list, keyed by its canonical text (``details_text``).

    Entra repeats a handful of lists: most events carry none, most others one ``User-Agent``
    entry (migration 0031). The list is derived from the event's original, so verification
    compares it with what the original gives (logs.derived_rows)."""

    entries = models.JSONField(editable=False)

    class Meta(TextKeyedLookup.Meta):
        verbose_name = "additional details list"

    def __str__(self):
        return details_text(self.entries)

    @classmethod
    def from_text(cls, digest: str, text: str) -> "DetailsList":
        return cls(digest=digest, entries=orjson.loads(text))


class UserAgent(TextKeyedLookup):
    """One distinct user agent of an event's initiator (migration 0032). The chain record holds
    the text, read through this row, so a changed text breaks the links of its events as well
    as the row's seal."""

    text = models.TextField(editable=False)

    def __str__(self):
        return self.text

    @classmethod
    def from_text(cls, digest: str, text: str) -> "UserAgent":
        return cls(digest=digest, text=text)
