"""Sorting by service, category, activity, status and initiator, then newest first, then id:
the changelist's pages and the API's cursor pages hold every event once, in that order, both
when the matches are few (sorted in one go) and when they are many (walked value by value)."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from logs import sorting
from logs.columns import COLUMNS
from logs.filters import ORDERINGS
from logs.models import AuditEvent
from tests.factories import (
    ActivityFactory,
    AuditEventFactory,
    CategoryFactory,
    InitiatorFactory,
    ServiceFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/logs/auditevent/"
EVENTS_API = "/api/v1/events/"
COLUMN_SORTS = [key for key, ordering in ORDERINGS.items() if ordering.column]
START = datetime(2026, 3, 1, tzinfo=UTC)


def shown(event, column: str) -> str:
    """What the column shows for ``event`` (and sorts by, ignoring case)."""
    if column == "status":
        return event.get_result_display() if event.result else ""
    if column == "initiator":
        return event.initiator.name if event.initiator else ""
    return getattr(event, column).name


def expected_order(key: str) -> list[int]:
    """The order the sort promises, computed here from what each row shows."""
    column = key.lstrip("-")
    events = list(AuditEvent.objects.select_related("service", "category", "activity", "initiator"))
    events.sort(key=lambda e: (e.activity_datetime, e.pk), reverse=True)  # the tie-breakers
    events.sort(key=lambda e: shown(e, column).casefold(), reverse=key.startswith("-"))
    return [event.pk for event in events]


@pytest.fixture
def varied(db):
    """Twenty-four events over values that differ by case and accents, with dates shared by
    several events (the id decides), an event without an initiator, events without a status and
    events with a status the loader never stores (a row written around it: the status sort
    lists such values after the others)."""
    services = [ServiceFactory(name=n) for n in ["core Directory", "Azure MFA", "Ärger", "b2c"]]
    categories = [CategoryFactory(name=n) for n in ["UserManagement", "Policy", "apps"]]
    activities = [ActivityFactory(name=n) for n in ["Update user", "add group", "Ändern"]]
    initiators = [
        InitiatorFactory(user_principal_name=upn)
        for upn in ["zoe@contoso.com", "Alex@contoso.com", "bob@contoso.com"]
    ]
    results = ["success", "failure", "timeout", "unknownFutureValue", "", "weird"]
    for n in range(24):
        AuditEventFactory(
            activity_datetime=START + timedelta(hours=n % 5),  # five dates, shared
            service=services[n % 4],
            category=categories[n % 3],
            activity=activities[n % 3],
            initiator=None if n == 7 else initiators[n % 3],
            result=results[n % 6],
        )


@pytest.fixture
def reader_client(client, django_user_model):
    user = django_user_model.objects.create_user("reader", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(user)
    return client


@pytest.fixture
def api(django_user_model):
    user = django_user_model.objects.create_user("api-reader")
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture(
    params=[
        "sorted at once",
        "walked value by value",
        "walked in batches of values",
        "walked in batches, some too large",
        "walked in runs of values",
    ]
)
def way(request, monkeypatch):
    """How the matches are put in order: all sorted at once (few), or walked (many). The
    changelist and exports walk the values in batches, each sorted at once unless it holds too
    many events, when its values are read one by one: "value by value" makes every batch too
    large, "in batches" makes batches of two values that are sorted at once, and "some too
    large" batches of two values of which those holding more than nine events are read value
    by value, between batches sorted at once. A page's walk reads a batch too large in runs
    of values (``ColumnSort._runs``): "in runs" lets runs of up to twelve events be sorted at
    once, so some runs fit and others are read value by value."""
    if request.param != "sorted at once":
        monkeypatch.setattr(sorting, "SMALL_SELECTION", 2)
    if request.param == "walked value by value":
        monkeypatch.setattr(sorting, "KEYS_PER_BATCH", 1)
        monkeypatch.setattr(sorting, "PAGE_KEYS_PER_BATCH", 1)
    if request.param in {"walked in batches of values", "walked in batches, some too large"}:
        monkeypatch.setattr(sorting, "VALUES_PER_BATCH", 2)
    if request.param == "walked in batches, some too large":
        monkeypatch.setattr(sorting, "KEYS_PER_BATCH", 9)
        monkeypatch.setattr(sorting, "PAGE_KEYS_PER_BATCH", 9)
    if request.param == "walked in runs of values":
        monkeypatch.setattr(sorting, "PAGE_KEYS_PER_BATCH", 12)
        monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 0)
    return request.param


def changelist_ids(client, query: dict) -> list[int]:
    ids, number = [], 1
    while True:
        response = client.get(CHANGELIST, {**query, "p": number})
        changelist = response.context_data["cl"]
        assert changelist.filters_valid, changelist.applied_filters.problems()
        ids += [event.pk for event in changelist.result_list]
        if number >= changelist.paginator.num_pages:
            return ids
        number += 1


def header_index(column: str) -> int:
    """The changelist column (without action checkboxes) whose header sorts by ``column``."""
    keys = [c.key for c in COLUMNS if c.default]
    sorts = {c.key: c.sort for c in COLUMNS}
    return next(i for i, key in enumerate(keys) if sorts[key] == column)


@pytest.mark.parametrize("key", COLUMN_SORTS)
def test_changelist_pages_by_column_header(reader_client, varied, monkeypatch, way, key):
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 5)
    index = header_index(key.lstrip("-"))
    order = f"-{index}" if key.startswith("-") else str(index)
    assert changelist_ids(reader_client, {"o": order}) == expected_order(key)
    # The ordering parameter (as the API takes it) gives the same pages.
    assert changelist_ids(reader_client, {"ordering": key}) == expected_order(key)


@pytest.mark.parametrize("key", COLUMN_SORTS)
def test_api_cursor_pages_forth_and_back(api, varied, way, key):
    forth, url, responses = [], f"{EVENTS_API}?{urlencode({'ordering': key, 'page_size': 5})}", []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        responses.append(response.json())
        forth += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    assert forth == expected_order(key)
    back, url = [], responses[-1]["previous"]
    while url:
        page = api.get(url).json()
        back = [row["id"] for row in page["results"]] + back
        url = page["previous"]
    assert back + [row["id"] for row in responses[-1]["results"]] == expected_order(key)


@pytest.mark.parametrize("key", ["initiator", "-initiator"])
def test_a_walk_over_events_that_all_have_an_initiator(reader_client, api, monkeypatch, key):
    """With no event lacking an initiator, the walk skips the empty "no initiator" value
    without asking the filtered events for it, and pages and cursors keep the promised order."""
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 2)
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 4)
    initiators = [InitiatorFactory(user_principal_name=f"{n}@contoso.com") for n in "dcab"]
    for n in range(10):
        AuditEventFactory(
            activity_datetime=START + timedelta(hours=n % 3), initiator=initiators[n % 4]
        )
    assert not AuditEvent.objects.filter(initiator__isnull=True).exists()
    with CaptureQueriesContext(connection) as queries:
        assert changelist_ids(reader_client, {"ordering": key}) == expected_order(key)
    null_probes = [
        q["sql"] for q in queries.captured_queries if '"initiator_id" IS NULL' in q["sql"]
    ]
    assert null_probes and all('"initiator_id" IS NULL LIMIT 1' in sql for sql in null_probes)
    ids, url = [], f"{EVENTS_API}?{urlencode({'ordering': key, 'page_size': 3})}"
    while url:
        page = api.get(url).json()
        ids += [row["id"] for row in page["results"]]
        url = page["next"]
    assert ids == expected_order(key)


@pytest.mark.parametrize("key", ["initiator", "-initiator"])
def test_a_page_reads_values_of_few_events_in_runs(reader_client, api, monkeypatch, key):
    """Thirty initiators of one event each: a page of ten reads them in runs of one, two, four
    and eight values (four queries), not one query per initiator, in the promised order."""
    monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 10)
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 2)
    monkeypatch.setattr(sorting, "PAGE_KEYS_PER_BATCH", 20)
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 10)
    for n in range(30):
        initiator = InitiatorFactory(user_principal_name=f"user{n:02}@contoso.com")
        AuditEventFactory(activity_datetime=START + timedelta(hours=n % 4), initiator=initiator)

    def walks(queries) -> list[str]:
        """The queries of one initiator's events."""
        alone = re.compile(r'WHERE \(?"logs_auditevent"\."initiator_id" = \d')
        return [q["sql"] for q in queries.captured_queries if alone.search(q["sql"])]

    with CaptureQueriesContext(connection) as queries:
        response = reader_client.get(CHANGELIST, {"ordering": key})
    assert [e.pk for e in response.context_data["cl"].result_list] == expected_order(key)[:10]
    assert len(walks(queries)) == 1  # the first value alone, then runs of listed values
    with CaptureQueriesContext(connection) as queries:
        page = api.get(EVENTS_API, {"ordering": key, "page_size": 10}).json()
        following = api.get(page["next"]).json()
    ids = [row["id"] for row in page["results"] + following["results"]]
    assert ids == expected_order(key)[:20]
    runs = [q["sql"] for q in queries.captured_queries if '"initiator_id" IN (' in q["sql"]]
    assert len(walks(queries)) == 2  # each page: the cursor's value (or the first) alone
    assert 2 <= len(runs) <= 6
    # The column's order is read once for a page's walk (in a test's transaction, from the
    # table each time).
    with CaptureQueriesContext(connection) as queries:
        api.get(EVENTS_API, {"ordering": key, "page_size": 10})
    orders = [q for q in queries.captured_queries if 'FROM "logs_initiator"' in q["sql"]]
    assert len(orders) == 1, orders
    # A column of no more values than RUNS_FROM_VALUES is read value by value.
    monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 31)
    with CaptureQueriesContext(connection) as queries:
        page = api.get(EVENTS_API, {"ordering": key, "page_size": 10}).json()
    assert [row["id"] for row in page["results"]] == expected_order(key)[:10]
    assert len(walks(queries)) >= 10
    assert not [q for q in queries.captured_queries if '"initiator_id" IN (' in q["sql"]]


def test_a_page_stays_put_while_events_arrive(api, varied):
    """Events imported between two page requests never make a page repeat or skip a row."""
    first = api.get(EVENTS_API, {"ordering": "service", "page_size": 6}).json()
    before = expected_order("service")
    for n in range(6):
        AuditEventFactory(
            activity_datetime=START + timedelta(hours=n % 5),
            service=ServiceFactory(name="Azure MFA" if n % 2 else "b2c"),
        )
    ids = [row["id"] for row in first["results"]]
    url = first["next"]
    while url:
        page = api.get(url).json()
        ids += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(ids) == len(set(ids))
    assert [pk for pk in ids if pk in before] == before


def test_the_sorted_header_is_marked(reader_client, varied):
    index = header_index("service")
    html = reader_client.get(CHANGELIST, {"o": f"-{index}"}).content.decode()
    assert 'class="sortable column-column_service sorted descending"' in html
    assert 'class="sortable column-column_date"' in html
    default = reader_client.get(CHANGELIST).content.decode()
    assert 'class="sortable column-column_date sorted descending"' in default


@pytest.mark.parametrize(
    "position",
    [[999999, "2026-03-01T00:00:00+00:00", 1], ["x", "2026-03-01T00:00:00", 1], [1, "x", 1], [1]],
)
def test_a_cursor_of_no_known_value_is_refused(api, varied, position):
    payload = json.dumps({"p": position, "r": 0}).encode()
    cursor = base64.urlsafe_b64encode(payload).decode()
    response = api.get(EVENTS_API, {"ordering": "service", "cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


@pytest.fixture
def exporter(django_user_model):
    user = django_user_model.objects.create_user("exporter", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_auditevent", "export_auditevent"])
    )
    return user


@pytest.fixture
def exporter_client(client, exporter):
    client.force_login(exporter)
    return client


def entra_ids(pks: list[int]) -> list[str]:
    by_pk = dict(AuditEvent.objects.values_list("pk", "entra_id"))
    return [by_pk[pk] for pk in pks]


def downloaded(response) -> list[str]:
    assert response.status_code == 200, response
    return [record["id"] for record in json.loads(b"".join(response.streaming_content))]


@pytest.mark.parametrize("key", COLUMN_SORTS)
def test_exports_are_in_the_listings_order(exporter_client, exporter, varied, way, tmp_path, key):
    expected = entra_ids(expected_order(key))
    download = exporter_client.get(f"{CHANGELIST}export/json/", {"ordering": key})
    assert downloaded(download) == expected
    api = APIClient()
    api.force_login(exporter)
    assert downloaded(api.get(EVENTS_API, {"ordering": key, "format": "json"})) == expected
    path = tmp_path / "out.ndjson"
    call_command("export_audit_logs", format="ndjson", output=str(path), filter_ordering=key)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == expected


@pytest.mark.parametrize("key", ["status", "-initiator"])
def test_a_capped_export_holds_the_newest_events_in_the_listings_order(
    exporter_client, varied, way, monkeypatch, key
):
    monkeypatch.setattr("logs.admin.events.WEB_EXPORT_LIMIT", 7)
    newest = set(
        AuditEvent.objects.order_by("-activity_datetime", "-id").values_list("pk", flat=True)[:7]
    )
    expected = entra_ids([pk for pk in expected_order(key) if pk in newest])
    download = exporter_client.get(f"{CHANGELIST}export/json/", {"ordering": key})
    assert downloaded(download) == expected
    assert download["X-Export-Truncated"] == "true"


def test_a_page_is_loaded_by_its_ids_alone():
    """The page's ids were chosen through the filters: loading them repeats no filter (so the
    database looks the ids up rather than planning on a filter's index), and keeps the
    queryset's select_related."""
    policy, users = CategoryFactory(name="Policy"), CategoryFactory(name="UserManagement")
    inside = AuditEventFactory(category=users)
    outside = AuditEventFactory(category=policy)
    filtered = AuditEvent.objects.filter(category=users).select_related("category")
    with CaptureQueriesContext(connection) as queries:
        loaded = sorting.load_in_order(filtered, [outside.pk, inside.pk])
        assert [event.category.name for event in loaded] == ["Policy", "UserManagement"]
    assert len(queries.captured_queries) == 1
    where = queries.captured_queries[0]["sql"].split(" WHERE ", 1)[1]
    assert "category_id" not in where, where


def test_a_filter_through_a_join_is_kept_when_loading():
    """A filter that joined targets keeps its condition: the join neither drops nor repeats
    an event of the page."""
    event = AuditEventFactory()
    TargetFactory(event=event, position=0, type="User")
    TargetFactory(event=event, position=1, type="User")
    other = AuditEventFactory()
    joined = AuditEvent.objects.filter(targets__type="User")
    assert sorting.load_in_order(joined, [event.pk, other.pk]) == [event]


def loads_of_events(queries) -> list[str]:
    """The captured queries that load events by id (``logs.filters.InEvents``)."""
    return [q["sql"] for q in queries if '"logs_auditevent"."id" = ANY(' in q["sql"]]


def partitions_read(sql: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = " ".join(line for (line,) in cursor.fetchall())
    return set(re.findall(r"logs_auditevent_p\d{6}", plan))


@pytest.mark.postgres_only
@pytest.mark.parametrize("surface", ["changelist", "api", "export"])
def test_a_sorted_page_is_loaded_from_its_events_months_only(
    reader_client, api, exporter_client, varied, monkeypatch, way, surface
):
    """On month partitions the page's (or the export's) events are loaded with their dates,
    read in the walk, so the load reads their month (March 2026) and no other: by id alone,
    a few events were planned against every month kept and looked for in each."""
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 5)
    with CaptureQueriesContext(connection) as queries:
        if surface == "changelist":
            assert changelist_ids(reader_client, {"ordering": "service"}) == expected_order(
                "service"
            )
        elif surface == "export":
            download = exporter_client.get(f"{CHANGELIST}export/json/", {"ordering": "status"})
            assert downloaded(download) == entra_ids(expected_order("status"))
        else:
            response = api.get(EVENTS_API, {"ordering": "-initiator", "page_size": 5})
            assert [row["id"] for row in response.json()["results"]] == expected_order(
                "-initiator"
            )[:5]
    loads = loads_of_events(queries.captured_queries)
    if surface == "export" and way == "walked value by value":
        assert not loads  # each value's events are read in date order, none by id
        return
    assert loads
    for sql in loads:
        assert '"activity_datetime" = ANY(' in sql, sql
        assert partitions_read(sql) == {"logs_auditevent_p202603"}, sql


@pytest.mark.postgres_only
@pytest.mark.parametrize("key", ["service", "-initiator", "status"])
def test_batches_of_values_read_at_run_time_keep_the_order(
    reader_client, exporter_client, varied, monkeypatch, key
):
    """On month partitions a long batch of a lookup column's values is read by the database at
    run time rather than estimated value by value (here every batch, the bound set to 0): the
    pages and the export keep the promised order. The statuses are not a lookup's ids and keep
    their list."""
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 2)
    monkeypatch.setattr(sorting, "VALUES_PER_BATCH", 2)
    monkeypatch.setattr(sorting, "ESTIMATED_VALUES_UP_TO", 0)
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 5)
    with CaptureQueriesContext(connection) as queries:
        assert changelist_ids(reader_client, {"ordering": key}) == expected_order(key)
        download = exporter_client.get(f"{CHANGELIST}export/json/", {"ordering": key})
        assert downloaded(download) == entra_ids(expected_order(key))
    read_at_run_time = [q for q in queries.captured_queries if "ANY(CAST((SELECT" in q["sql"]]
    assert bool(read_at_run_time) == (key != "status")


@pytest.mark.parametrize("key", ["initiator", "-initiator"])
def test_a_filter_leaving_most_values_empty_is_read_in_runs(api, monkeypatch, key):
    """Three hundred initiators with no event in the filtered category, one with all of it: a
    page sorted by initiator reads the empty ones in runs, not one query each, on both
    databases (value by value, an API page sent a query per initiator of the tenant)."""
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 10)
    monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 10)
    other, wanted = CategoryFactory(name="Other"), CategoryFactory(name="Wanted")
    for n in range(300):
        initiator = InitiatorFactory(user_principal_name=f"user{n:03}@contoso.com")
        AuditEventFactory(
            activity_datetime=START + timedelta(minutes=n), initiator=initiator, category=other
        )
    # After every empty one in the page's order: "zzz" A to Z, "aaa" Z to A.
    busy_name = "zzz@contoso.com" if key == "initiator" else "aaa@contoso.com"
    busy = InitiatorFactory(user_principal_name=busy_name)
    held = [
        AuditEventFactory(
            activity_datetime=START + timedelta(hours=n), initiator=busy, category=wanted
        )
        for n in range(15)
    ]
    newest_first = sorted(held, key=lambda event: (event.activity_datetime, event.pk), reverse=True)
    with CaptureQueriesContext(connection) as queries:
        page = api.get(EVENTS_API, {"ordering": key, "category": "Wanted", "page_size": 10}).json()
    assert [row["id"] for row in page["results"]] == [event.pk for event in newest_first[:10]]
    assert len(queries.captured_queries) < 60, len(queries.captured_queries)


@pytest.mark.parametrize("key", ["initiator", "-initiator"])
def test_runs_of_initiators_under_another_filter_read_the_initiators_index(
    api, reader_client, monkeypatch, key
):
    """On SQLite a run of initiators under a category filter is read through the (initiator,
    date) index, named in the query: without statistics SQLite walked every event of the
    category for each run. PostgreSQL's SQL names no index. The pages keep their order."""
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 10)
    monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 10)
    wanted = CategoryFactory(name="Wanted")
    for n in range(60):
        AuditEventFactory(
            activity_datetime=START + timedelta(minutes=n),
            initiator=InitiatorFactory(user_principal_name=f"user{n % 40:03}@contoso.com")
            if n < 40
            else None,
            category=wanted,
        )
    with CaptureQueriesContext(connection) as queries:
        page = api.get(EVENTS_API, {"ordering": key, "category": "Wanted", "page_size": 30})
        listing = reader_client.get(CHANGELIST, {"ordering": key, "category": "Wanted"})
    runs = [q for q in queries.captured_queries if '"initiator_id" IN (' in q["sql"]]
    assert runs
    # The pages hold the category's events (every event here) in the promised order.
    order = expected_order(key)
    assert [row["id"] for row in page.json()["results"]] == order[:30]
    shown_rows = [event.pk for event in listing.context_data["cl"].result_list]
    assert shown_rows == order[: len(shown_rows)]
    if connection.vendor != "sqlite":
        assert not [q for q in queries.captured_queries if "INDEXED BY" in q["sql"]]
        return
    with CaptureQueriesContext(connection) as queries:
        api.get(EVENTS_API, {"ordering": key, "category": "Wanted", "page_size": 30})
    for sql in [q["sql"] for q in queries.captured_queries if '"initiator_id" IN (' in q["sql"]]:
        assert 'INDEXED BY "event_initiator_date_idx"' in sql, sql
        # The SQL as run, its parameters in place: the plan must read that index.
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " | ".join(row[-1] for row in cursor.fetchall())
        assert "USING INDEX event_initiator_date_idx" in plan, plan
        assert "event_category_date_idx" not in plan, plan


@pytest.mark.parametrize("key", ["service", "category", "activity", "status"])
def test_only_the_initiators_are_read_through_a_named_index(api, varied, monkeypatch, key):
    """A value of the other columns (an activity, a service) may hold a large share of the
    events, so SQLite keeps its own choice of index for their runs and batches (another
    filter's may be the narrower), even where they are read in runs."""
    monkeypatch.setattr(sorting, "SMALL_SELECTION", 2)
    monkeypatch.setattr(sorting, "RUNS_FROM_VALUES", 1)
    with CaptureQueriesContext(connection) as queries:
        page = api.get(EVENTS_API, {"ordering": key, "page_size": 20}).json()
    assert [row["id"] for row in page["results"]] == expected_order(key)[:20]
    field = sorting.COLUMNS[key].field
    batches = [q["sql"] for q in queries.captured_queries if f'"{field}" IN (' in q["sql"]]
    assert batches, "the page read no run of values"
    assert not [sql for sql in batches if "INDEXED BY" in sql]


def test_the_initiators_name_their_own_value_and_date_index():
    """The index the initiators are read through exists and leads with the initiator: SQLite
    refuses a statement naming an index it does not have."""
    column = sorting.COLUMNS["initiator"]
    index = {index.name: index for index in AuditEvent._meta.indexes}[column.few_events_index]
    assert AuditEvent._meta.get_field(index.fields[0]).column == column.field
    assert index.fields[1] == "-activity_datetime"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            assert column.few_events_index in {row[0] for row in cursor.fetchall()}
