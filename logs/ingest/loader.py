"""Storing normalised records in batches: lookups resolved once, duplicates skipped by id.

One batch costs a handful of queries whatever its size: one to find ids already stored (with
their content hashes, by the unique id index), one or two to find the same events stored from
another format (see _stored_csv_twins and _stored_id_bearing_twins), one bulk insert per table,
and lookups (services, categories, activities, initiators) only for names not seen before in
this run. No query reads or writes an index of every event's match key. Used as a context
manager, the loader stores batches in a pipeline on a background thread (see EventLoader and
BackgroundWriter): the database inserts one batch while the caller builds the next one's rows
and parses what follows.
"""

import json
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction

from logs.derived_rows import Underivable, rederived_record
from logs.digests import seal_chain
from logs.hash_chain import ChainAppender, chain_datetime, lock_chain
from logs.ingest.bulk_insert import (
    IMPORT_CACHE_KIB,
    BackgroundWriter,
    check_references_as_written,
    insert_rows,
    reserve_ids,
    restore_cache,
    set_import_cache,
)
from logs.ingest.fingerprints import content_hash, match_key
from logs.ingest.notes import notes_text
from logs.ingest.records import AuditRecord
from logs.models import (
    Activity,
    Annotation,
    AuditEvent,
    Category,
    DetailsList,
    Initiator,
    ModifiedProperty,
    Service,
    Target,
    TargetName,
    UserAgent,
)
from logs.models.digest_field import digest_bytes, digest_text
from logs.models.lookups import details_text
from logs.originals.codec import Dictionary, UnreadableOriginal, pack
from logs.originals.dictionaries import text_reader, writing_dictionary
from logs.partitions import ensure_partitions

# Large enough that round trips no longer count (larger batches were no faster), small enough
# for memory: three batches are in memory at once (one being inserted, one built, one
# filled), and this size keeps an import within its memory target with SQLite's page cache,
# whatever the file size (benchmark metrics ``ingest`` and ``ingest peak RSS``).
DEFAULT_BATCH_SIZE = 4_000
# Keys bound per query when SQLite looks CSV rows up by match key: below its oldest limit on
# bound parameters (999).
SQLITE_KEYS_PER_QUERY = 500
# The one format without record ids (see logs.ingest.fingerprints.match_key).
CSV_FORMAT = "portal-csv"

EVENT_COLUMNS = [
    "id",
    "entra_id",
    "activity_datetime",
    "service_id",
    "category_id",
    "activity_id",
    "operation_type",
    "result",
    "result_reason",
    "correlation_id",
    "initiator_id",
    "initiator_ip_address",
    "user_agent_id",
    "details_list_id",
    "original",
    "source_format",
    "import_batch_id",
    "chain_seq",
    "chain_link",
    "normalisation_notes",
    "content_hash",
    "match_key",
]
TARGET_COLUMNS = [
    "id",
    "event_id",
    "position",
    "type",
    "object_id",
    "display_name",
    "user_principal_name",
    "group_type",
    # The event's copies (see Target.event_datetime).
    "event_datetime",
    "event_activity_id",
    "event_result",
    "event_service_id",
]
MODIFIED_PROPERTY_COLUMNS = ["target_id", "position", "name", "old_value", "new_value"]


@dataclass
class BatchRows:
    """One batch in database form, ready for ``insert_rows``: events, targets, properties."""

    events: list[tuple]
    targets: list[tuple]
    modified_properties: list[tuple]


@dataclass
class LoadCounts:
    new: int = 0
    duplicate: int = 0
    conflict: int = 0  # an id already read or stored with other content; not stored
    with_notes: int = 0  # of the new ones, stored with normalisation notes
    cross_format: int = 0  # events linked as the same event from another format


@dataclass
class Conflict:
    """A record whose id was already stored (or read earlier) with other content."""

    record: AuditRecord
    first: str  # where the version kept came from

    def describe(self) -> str:
        return (
            f"activity id {self.record.entra_id} was already stored with other content "
            f"({self.first}); the version stored first is kept, this one is not stored"
        )


class LookupCache:
    """Name → id for the small lookup tables, filled on first use, creating what is missing;
    and the target names stored (TargetName), added as new ones arrive.

    Lookup rows and target names are never changed or removed (retention purges events, their
    targets and annotations only), so what a committed transaction found or created stays
    true: a caller storing many short transactions (collection pages) carries a ``copy()`` of
    the cache from one to the next, adopting it only once its transaction has committed.
    """

    def __init__(self):
        self._names = {Service: {}, Category: {}, Activity: {}}
        self._initiators = {}
        self._details: dict[str, int] = {}
        self._user_agents: dict[str, int] = {}
        self._target_names: set[str] = set()

    def copy(self) -> "LookupCache":
        """A cache holding what this one holds, filled independently from now on (what a
        transaction rolled back created must not reach the original)."""
        copied = LookupCache()
        copied._names = {model: dict(known) for model, known in self._names.items()}
        copied._initiators = dict(self._initiators)
        copied._details = dict(self._details)
        copied._user_agents = dict(self._user_agents)
        copied._target_names = set(self._target_names)
        return copied

    def add_target_names(self, names) -> None:
        """Store the target names not stored yet (one query per batch holding new names)."""
        missing = {name for name in names if name and name not in self._target_names}
        if missing:
            TargetName.add(missing)
            self._target_names |= missing

    def name_ids(self, model, names) -> dict:
        known = self._names[model]
        missing = {name for name in names if name not in known}
        if missing:
            known.update(model.store({name: {"name": name} for name in missing}))
        return known

    def details_ids(self, texts) -> dict:
        """Canonical details text (``details_text``) → DetailsList id, storing new lists."""
        return self._text_ids(DetailsList, self._details, texts)

    def user_agent_ids(self, texts) -> dict:
        """User agent → UserAgent id, storing new ones."""
        return self._text_ids(UserAgent, self._user_agents, texts)

    @staticmethod
    def _text_ids(model, known: dict, texts) -> dict:
        missing = {text for text in texts if text and text not in known}
        if missing:
            known.update(model.ids_for(missing))
        return known

    def initiator_ids(self, initiators) -> dict:
        """InitiatorRecord → id. Keyed by the record itself: hashing the frozen record is much
        cheaper than its SHA-256 identity key, which is computed only for new initiators."""
        known = self._initiators
        missing = {initiator for initiator in initiators if initiator not in known}
        if missing:
            by_key = {initiator.identity_key: initiator for initiator in missing}
            stored = Initiator.store(
                {
                    key: {
                        "identity_key": key,
                        "search_text": Initiator.searchable_text(initiator),
                        **_initiator_fields(initiator),
                    }
                    for key, initiator in by_key.items()
                }
            )
            known.update((by_key[key], pk) for key, pk in stored.items())
        return known


def _initiator_fields(initiator) -> dict:
    return {name: getattr(initiator, name) for name in initiator.__dataclass_fields__}


@dataclass
class ReservedBatch:
    """What one batch of new records took from the database before its rows can be built:
    lookup ids (created if new) and fresh primary keys."""

    records: list[AuditRecord]
    services: dict
    categories: dict
    activities: dict
    initiators: dict
    # Each record's details as canonical text ("" for none), and text → DetailsList id.
    details_texts: list[str]
    details: dict
    user_agents: dict  # text → UserAgent id
    event_ids: list[int]
    target_ids: list[int]
    # What the originals are packed with (logs.originals): asked of the database with each
    # batch, in its transaction, so that the dictionary a row names is stored with it.
    dictionary: Dictionary


class EventLoader:
    """Buffers records and writes them a batch at a time; call ``flush`` at the end.

    Inside ``with loader:`` (itself inside the caller's transaction) batches are stored in a
    pipeline: a background thread checks batch N+1 against the database, reserves its ids and
    then inserts batch N, while the caller builds batch N+1's rows and parses what follows.
    Leaving the block waits for the last write, also when an error unwinds it, so the
    transaction never ends under a write in flight. Outside it every write is synchronous.
    """

    def __init__(
        self,
        *,
        source_format: str,
        import_batch=None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lookups: LookupCache | None = None,
    ):
        self.source_format = source_format
        self.import_batch = import_batch
        self.batch_size = batch_size
        # ``lookups``: a cache this loader may fill (see LookupCache); a new one by default.
        self.lookups = lookups if lookups is not None else LookupCache()
        # The lowest and highest id of the events this loader inserts (None before the first):
        # the ids themselves are not kept, so memory does not grow with the file (benchmark
        # metric ``ingest peak RSS``).
        self.new_event_id_range: tuple[int, int] | None = None
        self.counts = LoadCounts()
        self.conflicts: list[Conflict] = []
        # (duplicate event id, id of the event it duplicates), written at the end.
        self._links: list[tuple[int, int, str]] = []
        self._linked: set[int] = set()
        self._pending: list[AuditRecord] = []
        self._writer: BackgroundWriter | None = None
        self._cache_to_restore: int | None = None
        # The pipeline's state (see _write_in_background).
        self._built: BatchRows | None = None
        self._built_ids: dict[str, AuditRecord] = {}
        self._chain: ChainAppender | None = None
        self._next_ids: dict = {}

    def __enter__(self):
        if not connection.in_atomic_block:
            # The pipeline relies on the chain lock (and SQLite's write lock) being held from
            # the first batch to the last.
            raise RuntimeError("use the loader as a context manager inside transaction.atomic()")
        self._cache_to_restore = set_import_cache(IMPORT_CACHE_KIB)
        check_references_as_written()
        self._writer = BackgroundWriter()
        return self

    def __exit__(self, exc_type, exc, traceback):
        writer, self._writer = self._writer, None
        try:
            writer.close()
        except Exception:
            if exc_type is None:
                raise
            # Already unwinding: the first error is the one to report.
        finally:
            restore_cache(self._cache_to_restore)
        if exc_type is None and self.counts.new:
            # Still inside the caller's transaction, after its last insert: the digest commits
            # with the events, or fails the import.
            seal_chain()
        return False

    def add(self, record: AuditRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self._write_pending()

    def flush(self) -> None:
        """Write everything added so far, and wait until it is written."""
        self._write_pending()
        if self._writer is not None:
            built, self._built = self._built, None
            if built is not None:
                self._writer.submit(lambda: self._insert_rows(built))
            self._writer.wait()
        self._write_links()

    def _write_links(self) -> None:
        """Mark the cross-format duplicates found so far (their events are inserted now)."""
        links, self._links = self._links, []
        if links:
            Annotation.objects.bulk_create(
                [
                    Annotation(
                        event_id=duplicate,
                        duplicate_of_id=original,
                        kind=Annotation.Kind.DUPLICATE,
                        text=f"The same event as event {original} ({source}), imported "
                        "again from a format without record ids; counted once, as that event.",
                        source="import",
                    )
                    for duplicate, original, source in links
                ]
            )

    def _write_pending(self) -> None:
        records, self._pending = self._pending, []
        if not records:
            return
        if self._writer is not None:
            self._write_in_background(records)
        else:
            self._store(records)

    def _store(self, records: list[AuditRecord]) -> None:
        # The chain lock is held until the import's transaction ends; the savepoint keeps a batch
        # whole should the loader be used outside one. It is taken before the duplicate check:
        # two imports holding the same record at once then find it in the order they lock, the
        # later one counting it a duplicate instead of failing on the unique activity id.
        with transaction.atomic():
            lock_chain()
            fresh = self._without_duplicates(records, {})
            if fresh:
                self._insert_rows(self.prepare_rows(fresh))
                seal_chain()

    def _write_in_background(self, records: list[AuditRecord]) -> None:
        """Hand ``records`` to the pipeline.

        One job on the writer thread checks this batch for duplicates and reserves what it
        needs, then inserts the previous batch's rows; this thread waits for the first part
        only, and builds this batch's rows (Python work, mostly the chain's hashes) while the
        database inserts the previous ones. Storing thus costs little more than the inserts.
        The check sees the previous batch only in memory (it is not inserted yet), and ids and
        the chain's head are carried from batch to batch: the transaction holds the chain lock
        (and on SQLite the write lock) throughout, so no other writer can interleave.
        """
        previous, self._built = self._built, None
        previous_ids, self._built_ids = self._built_ids, {}
        checked: Future = Future()

        def job():
            try:
                checked.set_result(self._check_and_reserve(records, previous_ids))
            except BaseException as error:
                checked.set_exception(error)
                return
            if previous is not None:
                self._insert_rows(previous)

        self._writer.submit(job)
        reserved = checked.result()
        if reserved is not None:
            self._built = self.build_rows(reserved, self._chain)
            self._built_ids = {record.entra_id: record for record in reserved.records}

    def _check_and_reserve(self, records, not_yet_inserted: dict) -> ReservedBatch | None:
        if self._chain is None:
            # Locks the chain before the first duplicate check, as _store does.
            self._chain = ChainAppender()
        fresh = self._without_duplicates(records, not_yet_inserted)
        return self.reserve(fresh, self._reserve_ids) if fresh else None

    def _reserve_ids(self, model, count: int) -> list[int]:
        """Fresh ids, carried on in memory after the first reservation on SQLite, whose next
        id is read from the table: the previous batch is reserved but not inserted yet."""
        if connection.vendor == "postgresql":
            return reserve_ids(model, count)
        start = self._next_ids.get(model)
        ids = reserve_ids(model, count) if start is None else list(range(start, start + count))
        if ids:
            self._next_ids[model] = ids[-1] + 1
        return ids

    def _without_duplicates(self, records, not_yet_inserted: dict) -> list[AuditRecord]:
        """The records not stored yet; the rest counted as duplicates, or as conflicts when
        their content differs from the version stored (or read) first."""
        by_id: dict[str, AuditRecord] = {}
        conflicts = []
        for record in records:
            # A large file's parsing process has computed it already (logs.ingest.parallel).
            record.content_hash = record.content_hash or content_hash(record)
            first = by_id.get(record.entra_id)
            if first is None:
                by_id[record.entra_id] = record
            elif first.content_hash != record.content_hash:
                conflicts.append(Conflict(record, f"read earlier from {first.location}"))
        stored = _stored_content_hashes(list(by_id))
        unhashed = [entra_id for entra_id, known in stored.items() if not known]
        if unhashed:
            stored.update(_content_hashes_from_originals(unhashed))
        fresh = []
        stored_conflicts = []
        for entra_id, record in by_id.items():
            earlier = not_yet_inserted.get(entra_id)
            if entra_id in stored:
                # "": stored before content hashes were kept, and its original no longer reads
                # (see _content_hashes_from_originals): it cannot be compared.
                if stored[entra_id] and stored[entra_id] != record.content_hash:
                    stored_conflicts.append(record)
            elif earlier is not None:
                if earlier.content_hash != record.content_hash:
                    conflicts.append(Conflict(record, f"read earlier from {earlier.location}"))
            else:
                fresh.append(record)
        if stored_conflicts:
            conflicts.extend(_describe_stored(stored_conflicts))
        self.conflicts.extend(conflicts)
        self.counts.conflict += len(conflicts)
        self.counts.duplicate += len(records) - len(fresh) - len(conflicts)
        self.counts.new += len(fresh)
        self.counts.with_notes += sum(1 for record in fresh if record.notes)
        return fresh

    def _find_cross_format_duplicates(self, records, event_ids) -> None:
        """Link new records to stored events that are the same event in another format: a
        portal CSV row (no id) to an id-bearing event, or stored CSV rows to a new id-bearing
        record (logs.ingest.fingerprints.match_key)."""
        for record in records:
            record.match_key = record.match_key or match_key(record)
        from_csv = self.source_format == CSV_FORMAT
        stored = _stored_id_bearing_twins(records) if from_csv else _stored_csv_twins(records)
        if not stored:
            return
        already = (
            set()
            if from_csv
            else set(
                Annotation.objects.filter(
                    kind=Annotation.Kind.DUPLICATE,
                    event_id__in=[pk for rows in stored.values() for pk, fmt in rows],
                ).values_list("event_id", flat=True)
            )
        )
        for event_id, record in zip(event_ids, records, strict=True):
            for pk, source in stored.get(record.match_key, ()):
                if from_csv and source != CSV_FORMAT:
                    self._links.append((event_id, pk, source))
                    self.counts.cross_format += 1
                    break
                if (
                    not from_csv
                    and source == CSV_FORMAT
                    and pk not in already
                    and pk not in self._linked
                ):
                    self._linked.add(pk)
                    self._links.append((pk, event_id, self.source_format))
                    self.counts.cross_format += 1

    def _insert_rows(self, rows: BatchRows) -> None:
        inserts = [
            (AuditEvent, EVENT_COLUMNS, rows.events),
            (Target, TARGET_COLUMNS, rows.targets),
            (ModifiedProperty, MODIFIED_PROPERTY_COLUMNS, rows.modified_properties),
        ]
        for model, columns, table_rows in inserts:
            insert_rows(model, columns, table_rows)

    def prepare_rows(self, records: list[AuditRecord]) -> BatchRows:
        """Rows for new ``records``, with ids reserved, lookups resolved (created if new) and
        each event linked into the hash chain; call inside the transaction that inserts them."""
        # Locks the chain first, so ids are reserved in chain order on every database.
        chain = ChainAppender()
        return self.build_rows(self.reserve(records, reserve_ids), chain)

    def reserve(self, records: list[AuditRecord], reserve) -> ReservedBatch:
        """Resolve the lookups of new ``records`` and reserve their ids with ``reserve``."""
        self.lookups.add_target_names(
            name
            for record in records
            for target in record.targets
            for name in (target.display_name, target.user_principal_name)
        )
        event_ids = reserve(AuditEvent, len(records))
        # Their months' partitions (PostgreSQL), in this transaction, under the chain lock.
        ensure_partitions({record.activity_datetime for record in records})
        if event_ids:
            low, high = min(event_ids), max(event_ids)
            if self.new_event_id_range is not None:
                low = min(low, self.new_event_id_range[0])
                high = max(high, self.new_event_id_range[1])
            self.new_event_id_range = (low, high)
        self._find_cross_format_duplicates(records, event_ids)
        details_texts = [
            details_text(record.additional_details) if record.additional_details else ""
            for record in records
        ]
        return ReservedBatch(
            records=records,
            services=self.lookups.name_ids(Service, {r.service for r in records}),
            categories=self.lookups.name_ids(Category, {r.category for r in records}),
            activities=self.lookups.name_ids(Activity, {r.activity for r in records}),
            initiators=self.lookups.initiator_ids([r.initiator for r in records if r.initiator]),
            details_texts=details_texts,
            details=self.lookups.details_ids(details_texts),
            user_agents=self.lookups.user_agent_ids({r.initiator_user_agent for r in records}),
            event_ids=event_ids,
            target_ids=reserve(Target, sum(len(r.targets) for r in records)),
            dictionary=writing_dictionary(connection),
        )

    def build_rows(self, batch: ReservedBatch, chain: ChainAppender) -> BatchRows:
        """The database rows of a reserved batch, each event linked into ``chain``; no query."""
        services, categories = batch.services, batch.categories
        activities, initiators = batch.activities, batch.initiators
        batch_id = self.import_batch.pk if self.import_batch else None
        adapt_datetime = connection.ops.adapt_datetimefield_value
        event_rows = []
        targets = []  # (event id, position, TargetRecord, the event's copies)
        source_format = self.source_format
        dictionary = batch.dictionary
        dictionary_identity = dictionary.identity
        details_ids, user_agent_ids = batch.details, batch.user_agents
        for event_id, r, details in zip(
            batch.event_ids, batch.records, batch.details_texts, strict=True
        ):
            service_id = services[r.service]
            category_id = categories[r.category]
            activity_id = activities[r.activity]
            initiator_id = initiators[r.initiator] if r.initiator else None
            # The same fields, in the same order, as AuditEvent.chain_fields().
            seq, link = chain.append(
                (
                    r.entra_id,
                    chain_datetime(r.activity_datetime),
                    service_id,
                    category_id,
                    activity_id,
                    r.operation_type,
                    r.result,
                    r.result_reason,
                    r.correlation_id,
                    initiator_id,
                    r.initiator_ip_address,
                    r.initiator_user_agent,
                    source_format,
                    r.original,
                    *((notes,) if (notes := notes_text(r.notes)) else ()),
                )
            )
            moment = adapt_datetime(r.activity_datetime)
            event_rows.append(
                (
                    event_id,
                    r.entra_id,
                    moment,
                    service_id,
                    category_id,
                    activity_id,
                    r.operation_type,
                    r.result,
                    r.result_reason,
                    r.correlation_id,
                    initiator_id,
                    r.initiator_ip_address,
                    user_agent_ids[r.initiator_user_agent] if r.initiator_user_agent else None,
                    details_ids[details] if details else None,
                    r.packed_original
                    if r.packed_by == dictionary_identity
                    else pack(r.original, dictionary),
                    source_format,
                    batch_id,
                    seq,
                    link,
                    notes,
                    digest_bytes(r.content_hash),
                    digest_bytes(r.match_key),
                )
            )
            copies = (moment, activity_id, r.result, service_id)
            targets.extend(
                (event_id, position, target, copies) for position, target in enumerate(r.targets)
            )
        target_rows = []
        property_rows = []
        for target_id, (event_id, position, target, copies) in zip(
            batch.target_ids, targets, strict=True
        ):
            target_rows.append(
                (
                    target_id,
                    event_id,
                    position,
                    target.type,
                    target.object_id,
                    target.display_name,
                    target.user_principal_name,
                    target.group_type,
                    *copies,
                )
            )
            property_rows.extend(
                (target_id, index, prop.name, prop.old_value, prop.new_value)
                for index, prop in enumerate(target.modified_properties)
            )
        return BatchRows(event_rows, target_rows, property_rows)


def _stored_content_hashes(entra_ids: list[str]) -> dict[str, str]:
    """Which of ``entra_ids`` are already stored, with their content hashes, in one query with
    one parameter.

    An ``IN (%s, %s, ...)`` list of thousands of parameters costs more to build, send and plan
    than the index lookups themselves; an array (PostgreSQL) or a JSON list (SQLite) does not,
    and has no limit on the number of ids.
    """
    rows = _select_in("entra_id, content_hash", "entra_id", entra_ids)
    return {entra_id: digest_text(stored) for entra_id, stored in rows}


def _content_hashes_from_originals(entra_ids: list[str]) -> dict[str, str]:
    """Content hashes of stored events that have none (stored before they were kept),
    computed from each one's original as the import normalised it, so that a record arriving
    again with other content is a conflict for them too. The stored rows are not changed: they
    are immutable, and this costs a parse only for ids that arrive again."""
    hashes = {}
    rows = _select_in("entra_id, source_format, original", "entra_id", entra_ids)
    original_text = text_reader(connection)
    for entra_id, source_format, original in rows:
        try:
            hashes[entra_id] = content_hash(
                rederived_record(source_format, original_text(original))
            )
        except (Underivable, UnreadableOriginal):
            continue
    return hashes


def _stored_csv_twins(records) -> dict[str, list[tuple[int, str]]]:
    """match key → [(event id, source format)] of stored portal CSV rows sharing a key with
    ``records``, oldest first.

    Only CSV rows have their match key indexed (``event_csv_match_key_idx``): the condition is
    written out, not bound, so that both databases see the queries fit the partial index. Most
    databases hold no CSV rows: one probe of the index says so, for less than the database
    takes to sort and look up a batch of keys.
    """
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    csv_only = f"source_format = '{CSV_FORMAT}'"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE {csv_only} LIMIT 1")
        if cursor.fetchone() is None:
            return {}
    keys = sorted({digest_bytes(record.match_key) for record in records})
    select = f"SELECT match_key, id, source_format FROM {table} WHERE {csv_only} AND match_key"
    rows = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{select} = ANY(%s)", [keys])
            rows = cursor.fetchall()
        else:
            # The keys are bytes, which a JSON list cannot carry: bound in lists of a size
            # every SQLite accepts.
            for start in range(0, len(keys), SQLITE_KEYS_PER_QUERY):
                chunk = keys[start : start + SQLITE_KEYS_PER_QUERY]
                cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", chunk)
                rows.extend(cursor.fetchall())
    return _by_match_key((digest_text(key), pk, source) for key, pk, source in rows)


def _stored_id_bearing_twins(records) -> dict[str, list[tuple[int, str]]]:
    """match key → [(event id, source format)] of stored id-bearing events sharing a key with
    ``records`` (portal CSV rows), oldest first.

    The match key holds the date to the second, so a twin lies in the same second as the row:
    the date index finds the events of each row's second, and their stored keys are compared
    here, with no index of every event's key. The keys are compared in Python, not in the
    query: given them, PostgreSQL's planner expects one row per key and scans the whole table.
    """
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    seconds = sorted({record.activity_datetime.replace(microsecond=0) for record in records})
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT event.match_key, event.id, event.source_format FROM {table} AS event "
            "JOIN unnest(%s::timestamptz[]) AS second (start) "
            "ON event.activity_datetime >= second.start "
            "AND event.activity_datetime < second.start + interval '1 second' "
            f"WHERE event.source_format <> '{CSV_FORMAT}'"
        )
        parameter = seconds
    else:
        adapt = connection.ops.adapt_datetimefield_value
        sql = (
            f"SELECT event.match_key, event.id, event.source_format FROM {table} AS event "
            "JOIN json_each(%s) AS second "
            "ON event.activity_datetime >= json_extract(second.value, '$[0]') "
            "AND event.activity_datetime < json_extract(second.value, '$[1]') "
            f"WHERE event.source_format <> '{CSV_FORMAT}'"
        )
        one_second = timedelta(seconds=1)
        parameter = json.dumps([[adapt(start), adapt(start + one_second)] for start in seconds])
    keys = {record.match_key for record in records}
    with connection.cursor() as cursor:
        cursor.execute(sql, [parameter])
        rows = ((digest_text(key), pk, source) for key, pk, source in cursor.fetchall())
        return _by_match_key(row for row in rows if row[0] in keys)


def _by_match_key(rows) -> dict[str, list[tuple[int, str]]]:
    """(match key, event id, source format) rows grouped by key, oldest event first."""
    found: dict[str, list[tuple[int, str]]] = {}
    for key, pk, source in sorted(rows, key=lambda row: row[1]):
        found.setdefault(key, []).append((pk, source))
    return found


def _select_in(columns: str, column: str, values: list[str]) -> list[tuple]:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    if connection.vendor == "postgresql":
        sql = f"SELECT {columns} FROM {table} WHERE {column} = ANY(%s)"
        parameter = values
    else:
        sql = f"SELECT {columns} FROM {table} WHERE {column} IN (SELECT value FROM json_each(%s))"
        parameter = json.dumps(values)
    with connection.cursor() as cursor:
        cursor.execute(sql, [parameter])
        return cursor.fetchall()


def _describe_stored(records: list[AuditRecord]) -> list[Conflict]:
    """Conflicts with stored events, each naming the event kept and where it came from."""
    stored = {
        row["entra_id"]: row
        for row in AuditEvent.objects.filter(entra_id__in=[r.entra_id for r in records]).values(
            "pk", "entra_id", "source_format", "import_batch__file_name"
        )
    }
    conflicts = []
    for record in records:
        row = stored.get(record.entra_id, {})
        source = row.get("import_batch__file_name") or "no file"
        first = f"event {row.get('pk')}, {row.get('source_format')}, from {source}"
        conflicts.append(Conflict(record, f"stored as {first}"))
    return conflicts
