"""``in_events``: events gathered with their dates select exactly those events, on both
databases, whether the dates are listed, named as months, joined as (id, date) pairs, or
unknown.

On a month-partitioned PostgreSQL table the dates confine the query to the months holding the
events; a wrong confinement would drop events from a filtered list without a word, so every
form is checked against the plain list of ids.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import DateTimeField, Q, Value
from django.db.models.sql.where import AND, OR, WhereNode
from hypothesis import given
from hypothesis import strategies as st

from logs import filters
from logs.filters import (
    InEvents,
    event_keys_or_subquery,
    gathered_keys,
    in_events,
    joins_paired_events,
    month_runs,
)
from logs.models import AuditEvent, Target
from logs.partitions import partitioned
from logs.utc_text import UTCDateTimeText, as_utc_text
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import DATABASE_EXAMPLES

pytestmark = pytest.mark.django_db

START = datetime(2023, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
# Moments in several months, a year's end and month edges among them.
MOMENTS = [
    START,
    START + timedelta(microseconds=1),  # 2023-12-01 00:00:00, the next month's first instant
    datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 3, 15, 12, tzinfo=UTC),
    datetime(2024, 3, 15, 12, tzinfo=UTC),  # two events at one instant
    datetime(2024, 7, 1, 8, 30, 0, 123456, tzinfo=UTC),
]


@pytest.fixture
def events():
    return [AuditEventFactory(activity_datetime=moment) for moment in MOMENTS]


def selected(condition) -> list[int]:
    return sorted(AuditEvent.objects.filter(condition).values_list("pk", flat=True))


def keys_of(events) -> dict:
    return {event.pk: as_utc_text(event.activity_datetime) for event in events}


@pytest.mark.postgres_only
@DATABASE_EXAMPLES
@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
    )
)
def test_a_date_written_here_is_the_text_postgresql_reads(events, moment):
    """``as_utc_text`` writes a date the way ``UTCDateTimeText`` reads it from PostgreSQL (the
    sorted pages name their events' dates with it): any zone, a zero fraction, a year below
    1000. A text that differed would drop its event from the page."""
    read = (
        AuditEvent.objects.annotate(text=UTCDateTimeText(Value(moment, DateTimeField())))
        .values_list("text", flat=True)
        .first()
    )
    assert read == as_utc_text(moment)


def test_listed_dates_select_exactly_the_events(events):
    wanted = [events[0], events[1], events[4], events[6]]
    assert selected(in_events(keys_of(wanted), "default")) == sorted(e.pk for e in wanted)


@pytest.mark.parametrize(
    ("bound", "form"), [("DATES_LISTED_UP_TO", "months"), ("PAIRED_FROM", "paired_dates")]
)
def test_many_events_select_exactly_the_events(events, monkeypatch, bound, form):
    """Named as months (more events than are listed) or joined as pairs (many events over
    many months), with the bound lowered to these few events."""
    monkeypatch.setattr(filters, bound, 1)
    monkeypatch.setattr(filters, "PAIRED_OVER_MONTHS", 0)
    wanted = [events[1], events[2], events[3], events[5], events[6]]
    condition = in_events(keys_of(wanted), "default")
    assert selected(condition) == sorted(e.pk for e in wanted)
    assert isinstance(condition, InEvents) == (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":  # SQLite lists the ids alone, checked above
        forms = {name: getattr(condition, name) for name in ("dates", "months", "paired_dates")}
        assert [name for name, value in forms.items() if value is not None] == [form]
        if form == "months":
            assert condition.months == [
                (datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)),
                (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)),
                (datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 8, 1, tzinfo=UTC)),
            ]


@pytest.mark.postgres_only
def test_a_pair_names_its_own_event_not_another_of_the_same_dates(events, monkeypatch):
    """Joined as pairs, an id is matched with its own date only: an id given another listed
    event's date selects nothing (listed apart, ids and dates would select it)."""
    monkeypatch.setattr(filters, "PAIRED_FROM", 1)
    monkeypatch.setattr(filters, "PAIRED_OVER_MONTHS", 0)
    swapped = {
        events[0].pk: as_utc_text(events[6].activity_datetime),
        events[6].pk: as_utc_text(events[0].activity_datetime),
        events[4].pk: as_utc_text(events[4].activity_datetime),
    }
    condition = in_events(swapped, "default")
    assert condition.paired
    assert selected(condition) == [events[4].pk]


def test_the_form_follows_the_events_times_the_months_they_span():
    def keys(count: int, months: int) -> dict:
        """``count`` events spread over ``months`` consecutive months."""
        return {
            pk: as_utc_text(
                datetime(2020 + pk % months // 12, pk % months % 12 + 1, 15, tzinfo=UTC)
            )
            for pk in range(count)
        }

    few = InEvents(keys(16, 16))
    assert few.dates is not None and not few.paired
    in_few_months = InEvents(keys(6_000, 3))  # 18,000: a busy user's 90 days
    assert in_few_months.months == [
        (datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 4, 1, tzinfo=UTC))
    ]
    assert not in_few_months.paired
    over_years = InEvents(keys(1_000, 84))  # 84,000: a user over seven years
    assert over_years.paired and over_years.dates is None and over_years.months is None
    assert InEvents(keys(1_000, 50)).paired  # 50,000: the bound
    assert not InEvents(keys(1_000, 49)).paired
    assert InEvents(keys(4_000, 13)).paired  # more than a year's months
    assert not InEvents(keys(5_000, 12)).paired  # within a year: the months, as at 90 days
    assert InEvents(keys(20_000, 4)).months is not None


def test_the_months_counted_are_those_holding_events_not_the_span_between():
    """Events in the first and the last of seven years' months hold two months, not 84."""
    ends = [datetime(2018, 1, 15, tzinfo=UTC), datetime(2024, 12, 15, tzinfo=UTC)]
    keys = {pk: as_utc_text(ends[pk % 2]) for pk in range(2_000)}
    condition = InEvents(keys)
    assert not condition.paired and condition.months is not None


def test_only_a_pairs_condition_that_bounds_the_list_reads_it_by_its_keys(monkeypatch):
    """Negated or ORed, a paired condition selects events beyond the pairs: the list must
    not be read whole by its keys."""
    monkeypatch.setattr(filters, "PAIRED_FROM", 1)
    monkeypatch.setattr(filters, "PAIRED_OVER_MONTHS", 0)
    paired = InEvents({1: as_utc_text(START), 2: as_utc_text(START + timedelta(days=90))})
    assert paired.paired
    events = AuditEvent.objects.all()
    assert joins_paired_events(events.filter(paired).filter(result="success").query.where)
    assert not joins_paired_events(events.exclude(paired).query.where)
    assert not joins_paired_events(events.filter(paired | Q(result="failure")).query.where)
    assert not joins_paired_events(events.filter(result="success").query.where)


def test_a_pairs_condition_in_an_and_within_an_and_still_bounds_the_list(monkeypatch):
    """``filter()`` flattens its ANDs, but a where tree may nest them (a combined query, a
    custom filter): the pairs bound the list at any depth of ANDs, and under an OR or a NOT at
    any depth they do not."""
    monkeypatch.setattr(filters, "PAIRED_FROM", 1)
    monkeypatch.setattr(filters, "PAIRED_OVER_MONTHS", 0)
    paired = InEvents({1: as_utc_text(START), 2: as_utc_text(START + timedelta(days=90))})
    events = AuditEvent.objects.all()
    inner = events.filter(paired).filter(result="success").query.where
    other = events.filter(result="failure").query.where
    assert joins_paired_events(WhereNode([other, WhereNode([inner], AND)], AND))
    assert not joins_paired_events(WhereNode([other, WhereNode([inner], OR)], AND))
    assert not joins_paired_events(WhereNode([other, WhereNode([inner], AND, negated=True)], AND))
    assert not joins_paired_events(WhereNode([other, WhereNode([other], AND)], AND))


def test_an_unknown_date_reads_every_month_and_still_finds_the_event(events):
    keys = keys_of(events[:3]) | {events[4].pk: None}
    condition = in_events(keys, "default")
    assert selected(condition) == sorted(e.pk for e in [*events[:3], events[4]])
    assert isinstance(condition, InEvents) == (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":  # SQLite lists the ids alone, checked above
        assert condition.dates is None and condition.months is None
        assert not condition.paired


def test_a_known_date_wins_over_a_missing_one_in_either_order():
    moment = as_utc_text(datetime(2024, 5, 1, tzinfo=UTC))
    assert gathered_keys([(7, None), (7, moment)]) == {7: moment}
    assert gathered_keys([(7, moment), (7, None)]) == {7: moment}
    assert gathered_keys([(8, None)], into={7: moment}) == {7: moment, 8: None}


def test_month_runs_join_consecutive_months_across_a_year():
    runs = month_runs(
        [
            as_utc_text(datetime(2023, 12, 31, 23, 59, tzinfo=UTC)),
            as_utc_text(datetime(2024, 1, 2, tzinfo=UTC)),
            as_utc_text(datetime(2024, 3, 1, tzinfo=UTC)),
        ]
    )
    assert runs == [
        (datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)),
        (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)),
    ]


def test_dates_are_read_only_where_the_events_are_in_month_partitions(events):
    for event in events[:2]:
        TargetFactory(event=event, display_name="Dated Person")
    keys = event_keys_or_subquery(
        Target.objects.filter(display_name="Dated Person"), "event_id", "event_datetime"
    )
    if connection.vendor != "postgresql":
        assert not isinstance(keys, dict)  # SQLite keeps the subquery
    elif partitioned(connection):
        assert keys == keys_of(events[:2])
    else:
        assert keys == dict.fromkeys([events[0].pk, events[1].pk])


@pytest.mark.postgres_only
def test_the_query_reads_only_the_months_holding_the_events(events):
    assert partitioned(connection), "PostgreSQL's test database is partitioned by migration 0026"
    rows = AuditEvent.objects.filter(in_events(keys_of([events[4]]), "default"))
    with connection.cursor() as cursor:
        sql, params = rows.values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "logs_auditevent_p202403" in plan
    assert "logs_auditevent_p202312" not in plan and "logs_auditevent_p202407" not in plan


def test_a_target_filter_finds_an_event_whose_target_lacks_the_date_copy(events):
    """A target written without the event's date copy (bulk_create skips Target.save)."""
    Target.objects.bulk_create(
        [Target(event=events[2], position=0, type="User", display_name="Copyless Person")]
    )
    TargetFactory(event=events[5], display_name="Copyless Person")
    found = filters.AuditEventFilterSet({"target": "copyless"}, AuditEvent.objects.all()).qs
    assert sorted(found.values_list("pk", flat=True)) == sorted([events[2].pk, events[5].pk])


@DATABASE_EXAMPLES
@given(
    chosen=st.lists(st.integers(0, len(MOMENTS) - 1), unique=True),
    unknown=st.sets(st.integers(0, len(MOMENTS) - 1)),
    listed_up_to=st.sampled_from([0, 2, 1_000]),
    paired_from=st.sampled_from([1, 8, 50_000]),
)
def test_every_form_selects_what_the_ids_alone_select(
    events, chosen, unknown, listed_up_to, paired_from
):
    """Any events, any of them with its date unknown, dates listed, named as months or
    joined as pairs."""
    keys = {
        events[index].pk: None if index in unknown else as_utc_text(events[index].activity_datetime)
        for index in chosen
    }
    original = filters.DATES_LISTED_UP_TO, filters.PAIRED_FROM, filters.PAIRED_OVER_MONTHS
    filters.DATES_LISTED_UP_TO, filters.PAIRED_FROM = listed_up_to, paired_from
    filters.PAIRED_OVER_MONTHS = 0
    try:
        assert selected(in_events(keys, "default")) == sorted(keys)
    finally:
        filters.DATES_LISTED_UP_TO, filters.PAIRED_FROM, filters.PAIRED_OVER_MONTHS = original
