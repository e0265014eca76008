"""The exact edges of the shared filters: where each preset starts, which date ranges are
refused, and the bound between looking matches up by id and walking the events.

An auditor reads "Last 30 days" as exactly that: an event one second older is not in it, one
second younger is. The lengths are written out here rather than read from ``logs.filters``, so
that a preset quietly changed there fails this test (the view and its download would shift
together and agree with each other).
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logs import filters
from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent, TargetName
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import EVENTS_URL

pytestmark = pytest.mark.django_db

PRESETS = [("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))]
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


def listed(api, **params) -> list[str]:
    response = api.get(EVENTS_URL, params)
    assert response.status_code == 200, response.content
    return [row["activity"] for row in response.json()["results"]]


def selected(**data):
    filterset = AuditEventFilterSet(data=data, queryset=AuditEvent.objects.all())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


@pytest.mark.parametrize(("period", "length"), PRESETS, ids=[name for name, _ in PRESETS])
def test_a_preset_reaches_back_exactly_its_length(api, period, length):
    now = timezone.now()
    AuditEventFactory(activity__name="a second inside", activity_datetime=now - length + SECOND)
    AuditEventFactory(activity__name="a second outside", activity_datetime=now - length - SECOND)
    AuditEventFactory(activity__name="now", activity_datetime=now)

    # The request reads the clock again, a few milliseconds later: still within the second.
    assert listed(api, period=period) == ["now", "a second inside"]


def test_since_one_microsecond_after_until_is_refused(api):
    until = timezone.now() - timedelta(days=1)
    response = api.get(
        EVENTS_URL,
        {"since": (until + MICROSECOND).isoformat(), "until": until.isoformat()},
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"since": ["Must not be later than until."]}

    filterset = AuditEventFilterSet(
        data={"since": (until + MICROSECOND).isoformat(), "until": until.isoformat()},
        queryset=AuditEvent.objects.all(),
    )
    assert not filterset.is_valid()
    assert filterset.errors == {"since": ["Must not be later than until."]}


def test_since_equal_to_until_selects_the_events_of_that_instant(api):
    moment = timezone.now() - timedelta(days=1)
    AuditEventFactory(activity__name="just before", activity_datetime=moment - MICROSECOND)
    AuditEventFactory(activity__name="at the instant", activity_datetime=moment)
    AuditEventFactory(activity__name="just after", activity_datetime=moment + MICROSECOND)

    assert listed(api, since=moment.isoformat(), until=moment.isoformat()) == ["at the instant"]


# -- the id-list bound (MAX_ID_LIST): up to it, matches are looked up by id ------------------
BOUND = 3


@pytest.fixture
def small_bound(monkeypatch):
    """A bound of three matches, so that a handful of events reaches it."""
    monkeypatch.setattr(filters, "MAX_ID_LIST", BOUND)


def walked(queryset) -> bool:
    """Whether a search walks the events (its ``column + 0`` keys) instead of listing ids."""
    return "+ 0)" in str(queryset.query)


@pytest.mark.parametrize("matches", [BOUND - 1, BOUND, BOUND + 1, BOUND + 2])
def test_a_search_lists_up_to_the_bound_and_walks_beyond_it(small_bound, matches):
    wanted = [AuditEventFactory(activity__name="Bound probe").pk for _ in range(matches)]
    AuditEventFactory(activity__name="Something else")

    with CaptureQueriesContext(connection) as queries:
        found = selected(search="bound probe")
        pks = sorted(found.values_list("pk", flat=True))

    assert pks == sorted(wanted)
    assert walked(found) == (matches > BOUND)
    if walked(found):
        # Each walked event's own targets are checked (gathering every matching target's
        # event first was a scan of them all per event on PostgreSQL when they were many).
        sql = str(found.query)
        assert '"event_id" = ("logs_auditevent"."id")' in sql, sql
        assert 'AS "event_id" FROM "logs_target"' not in sql, sql
    # No kind of match reads more ids than it takes to know there are more than the bound
    # (the stored target names and the matching initiators are lists of their own, bounded
    # by MAX_NAME_LIST).
    # (Reads that end in a LIMIT: a walk's EXISTS holds a LIMIT 1 of its own.)
    limits = [q["sql"] for q in queries.captured_queries if re.search(r" LIMIT \d+$", q["sql"])]
    lookups = ('FROM "logs_targetname"', 'FROM "logs_initiator"')
    # (Whether any event is marked a duplicate is one row of the annotations, not a list.)
    ids = [
        sql
        for sql in limits
        if not any(table in sql for table in lookups) and "logs_annotation" not in sql
    ]
    assert ids
    assert all(sql.endswith(f" LIMIT {BOUND + 1}") for sql in ids), ids
    names = [sql for sql in limits if any(table in sql for table in lookups)]
    assert len(names) == 2, names
    assert all(sql.endswith(f" LIMIT {filters.MAX_NAME_LIST + 1}") for sql in names), names


@pytest.mark.parametrize("matches", [BOUND, BOUND + 1])
def test_a_search_whose_matches_add_up_past_the_bound_walks(small_bound, matches):
    """Matches of several kinds count together: two by activity name and the rest by
    correlation id reach the bound as one."""
    wanted = [AuditEventFactory(activity__name="Shared needle").pk for _ in range(2)]
    wanted += [AuditEventFactory(correlation_id="shared needle").pk for _ in range(matches - 2)]

    found = selected(search="shared needle")

    assert sorted(found.values_list("pk", flat=True)) == sorted(wanted)
    assert walked(found) == (matches > BOUND)


@pytest.mark.parametrize("matches", [BOUND - 1, BOUND, BOUND + 1])
def test_a_target_filter_lists_ids_on_postgresql_up_to_the_bound(small_bound, matches):
    """Up to MAX_ID_LIST matching targets, PostgreSQL looks their events up as one list of ids
    and SQLite as a subquery (see ``ids_or_subquery``); beyond it, each event's own targets are
    checked as the events are walked (EXISTS), on both."""
    wanted = [TargetFactory(display_name="Bound target").event_id for _ in range(matches)]
    TargetFactory(display_name="Another target")

    with CaptureQueriesContext(connection) as queries:
        found = selected(target="Bound target")
        pks = sorted(found.values_list("pk", flat=True))

    assert pks == sorted(wanted)
    # No more targets are read than it takes to know there are more than the bound.
    limits = [
        sql.rsplit(" LIMIT ", 1)[1]
        for sql in (q["sql"] for q in queries.captured_queries)
        if " LIMIT " in sql and sql.split(" FROM ", 1)[1].startswith('"logs_target" ')
    ]
    postgres = connection.vendor == "postgresql"
    beyond = matches > BOUND
    listed_ids = postgres and not beyond
    assert limits == [f"1 OFFSET {BOUND}", *([str(BOUND + 1)] if listed_ids else [])]
    sql = str(found.query)
    assert ("= ANY(" in sql) == listed_ids, sql
    assert ("IN (SELECT" in sql) == (not postgres and not beyond), sql
    assert ("EXISTS" in sql) == beyond, sql


@pytest.mark.parametrize("names", [BOUND, BOUND + 1])
def test_more_matching_names_than_the_bound_walk_without_counting_targets(
    small_bound, monkeypatch, names
):
    """More names containing the text than MAX_ID_LIST: the events are walked, and the targets
    are not counted first (counting them gathered every matching name twice). Names without
    a target any more (their events purged) count too, and the walk still finds exactly the
    matching events."""
    monkeypatch.setattr(filters, "MAX_NAME_LIST", 1)
    wanted = [TargetFactory(display_name="Many name 0").event_id]
    TargetName.add([f"Many name {n}" for n in range(1, names)])
    TargetFactory(display_name="Another target")

    with CaptureQueriesContext(connection) as queries:
        found = selected(target="many NAME")
        pks = sorted(found.values_list("pk", flat=True))

    assert pks == wanted
    counted = [
        q["sql"]
        for q in queries.captured_queries
        if " LIMIT " in q["sql"] and q["sql"].split(" FROM ", 1)[1].startswith('"logs_target" ')
    ]
    beyond = names > BOUND
    assert ("EXISTS" in str(found.query)) == beyond
    assert (not counted) == beyond, counted


@pytest.mark.parametrize("names", [BOUND, BOUND + 1])
def test_a_search_of_more_matching_names_than_the_bound_walks_at_once(
    small_bound, monkeypatch, names
):
    """The search box too: more target names containing the text than MAX_ID_LIST, and the
    events are walked without gathering any kind of match first; the same events are found."""
    monkeypatch.setattr(filters, "MAX_NAME_LIST", 1)
    wanted = [TargetFactory(display_name="Searched name 0").event_id]
    wanted.append(AuditEventFactory(activity__name="Searched name activity").pk)
    TargetName.add([f"Searched name {n}" for n in range(1, names)])
    TargetFactory(display_name="Another target")

    with CaptureQueriesContext(connection) as queries:
        found = selected(search="searched NAME")
        pks = sorted(found.values_list("pk", flat=True))

    assert pks == sorted(wanted)
    beyond = names > BOUND
    assert walked(found) == beyond
    gathered = [
        q["sql"] for q in queries.captured_queries if q["sql"].endswith(f" LIMIT {BOUND + 1}")
    ]
    assert (not gathered) == beyond, gathered


# -- the target-name bound (MAX_NAME_LIST): up to it, the names are one literal list --------
NAME_BOUND = 2


@pytest.mark.parametrize("names", [NAME_BOUND - 1, NAME_BOUND, NAME_BOUND + 1])
def test_target_names_are_listed_up_to_their_bound_and_stay_a_subquery_beyond(monkeypatch, names):
    monkeypatch.setattr(filters, "MAX_NAME_LIST", NAME_BOUND)
    wanted = [TargetFactory(display_name=f"Listed name {n}").event_id for n in range(names)]
    TargetFactory(display_name="Another target")

    with CaptureQueriesContext(connection) as queries:
        pks = sorted(selected(target="listed NAME").values_list("pk", flat=True))

    assert pks == sorted(wanted)
    reads = [q["sql"] for q in queries.captured_queries if '"logs_targetname"' in q["sql"]]
    # The names are read once, no more of them than it takes to know there are more than the
    # bound; beyond it, the later queries look them up again as a subquery.
    assert reads[0].endswith(f" LIMIT {NAME_BOUND + 1}"), reads
    assert (len(reads) > 1) == (names > NAME_BOUND), reads


# -- one lookup row is an equality, several an IN list --------------------------------------
@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"activity": "Add user"}, ["Add user"]),
        ({"activity": ["Add user", "Delete user"]}, ["Add user", "Delete user"]),
        ({"activity_name": "add USER"}, ["Add user"]),
        ({"activity_name_startswith": "add"}, ["Add user"]),
        ({"activity_name_startswith": "ad"}, ["Add user", "Adopt"]),
    ],
)
def test_one_matching_activity_is_looked_up_by_equality(data, names):
    """The (activity, date) index serves an equality best: one matching activity is compared
    as one, several as a list; both select exactly their events."""
    events = {
        name: AuditEventFactory(activity__name=name).pk
        for name in ("Add user", "Delete user", "Adopt", "Update user")
    }

    found = selected(**data)

    assert sorted(found.values_list("pk", flat=True)) == sorted(events[n] for n in names)
    sql = str(found.query)
    one = len(names) == 1
    assert ('"activity_id" IN (' not in sql) == one, sql
    assert ('"activity_id" = ' in sql) == one, sql


# -- the longest value each text filter takes -------------------------------------------------
@pytest.mark.parametrize(
    ("name", "longest"),
    [
        ("operation_type", 64),
        ("target_type", 64),
        ("correlation_id", 64),
        ("activity_id", 256),
        ("search", 1024),
        ("initiator", 1024),
        ("target", 1024),
        ("activity_name", 1024),
        ("target_name_startswith", 1024),
    ],
)
def test_a_text_filter_takes_its_longest_value_and_refuses_one_more(name, longest):
    longest_value = AuditEventFilterSet(
        data={name: "x" * longest}, queryset=AuditEvent.objects.all()
    )
    assert longest_value.is_valid(), longest_value.errors

    one_more = AuditEventFilterSet(
        data={name: "x" * (longest + 1)}, queryset=AuditEvent.objects.all()
    )
    assert not one_more.is_valid()
    assert list(one_more.errors) == [name]
