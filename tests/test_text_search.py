"""The text filters find what a person types: any part of a name, in any case.

``initiator``, ``target`` and ``search`` fold case the same way on every database (Python's
``casefold``, on the lookups' folded names), treat ``%``, ``_`` and ``\\`` as text, and still
match ids exactly. A property test throws generated text at them and compares with the
definition: "the folded text is a part of the folded name".
"""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from logs import filters
from logs.filters import AuditEventFilterSet
from logs.ingest.importer import import_file
from logs.models import AuditEvent, Initiator, Target, TargetName
from tests.factories import AuditEventFactory, InitiatorFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

# Names that differ by case, accents and folding (ß → ss, ﬁ → fi, final sigma, dotted İ), or
# hold LIKE's wildcards and escape.
NAMES = [
    "Sales EMEA",
    "Global sales emea team",
    "alex.wilber@contoso.com",
    "Alex Wilber",
    "Straße 12",
    "STRASSE 7",
    "ﬁnance",
    "ΟΔΥΣΣΕΥΣ",
    "İstanbul office",
    "50% off_ers \\ more",
    "山田 太郎",
]


# Wildcards, a line break, and the letters whose folding differs from lower-casing (the three
# sigmas, dotted and dotless I).
EXTRA_CHARACTERS = "_%\\\nSsIi@\u03a3\u03c3\u03c2\u0131"


def selected(**query) -> set[int]:
    filterset = AuditEventFilterSet(query, queryset=AuditEvent.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("pk", flat=True))


@pytest.fixture
def named(db):
    """One event per name, initiated by a user of that display name and targeting an object
    of that display name; and an event of neither."""
    events = {}
    for number, name in enumerate(NAMES):
        initiator = InitiatorFactory(user_display_name=name, user_principal_name=f"u{number}@x.io")
        event = AuditEventFactory(initiator=initiator)
        TargetFactory(event=event, display_name=name, user_principal_name="")
        events[name] = event.pk
    AuditEventFactory(
        initiator=InitiatorFactory(user_display_name="Nobody", user_principal_name="n@x.io")
    )
    return events


def by_definition(events: dict, text: str) -> set[int]:
    wanted = " ".join(text.split("\n")).strip().casefold()
    return {pk for name, pk in events.items() if wanted in name.casefold()}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("sales emea", ["Sales EMEA", "Global sales emea team"]),
        ("SALES EMEA", ["Sales EMEA", "Global sales emea team"]),
        ("alex.wilber", ["alex.wilber@contoso.com"]),
        ("wilber", ["alex.wilber@contoso.com", "Alex Wilber"]),
        ("strasse", ["Straße 12", "STRASSE 7"]),
        ("FINANCE", ["ﬁnance"]),
        ("οδυσσευς", ["ΟΔΥΣΣΕΥΣ"]),
        ("50%", ["50% off_ers \\ more"]),
        ("f_e", ["50% off_ers \\ more"]),
        ("o_f", []),  # as a wildcard, _ would match "off"
        ("\\ m", ["50% off_ers \\ more"]),
        ("山田", ["山田 太郎"]),
        ("Nobody", []),
    ],
)
@pytest.mark.parametrize("parameter", ["initiator", "target", "search"])
def test_a_part_of_a_name_in_any_case(named, parameter, text, names):
    expected = {named[name] for name in names}
    if parameter in ("initiator", "search") and text == "Nobody":
        expected = {AuditEvent.objects.get(initiator__user_display_name="Nobody").pk}
    assert selected(**{parameter: text}) == expected


def test_ids_still_match_exactly_in_either_case(named):
    initiator = Initiator.objects.get(user_display_name="Sales EMEA")
    target = Target.objects.get(display_name="Sales EMEA")
    for value in (initiator.user_object_id, initiator.user_object_id.upper()):
        assert selected(initiator=value) == {named["Sales EMEA"]}
    for value in (target.object_id, target.object_id.upper()):
        assert selected(target=value) == {named["Sales EMEA"]}
    assert selected(target=target.object_id[:8]) == set()


def initiators_by_definition(text: str) -> set[int]:
    wanted = " ".join(text.split("\n")).strip().casefold()
    return {
        event.pk
        for event in AuditEvent.objects.select_related("initiator")
        if any(
            wanted in name.casefold()
            for name in (event.initiator.user_display_name, event.initiator.user_principal_name)
        )
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(
        alphabet=st.sampled_from(sorted(set("".join(NAMES)) | set(EXTRA_CHARACTERS))),
        min_size=1,
        max_size=6,
    ).filter(lambda value: value.strip())
)
def test_generated_text_matches_by_the_definition(named, text):
    assert selected(target=text) == by_definition(named, text)
    assert selected(initiator=text) == initiators_by_definition(text)
    assert selected(search=text) >= selected(target=text) | selected(initiator=text)


def test_many_matching_names_are_looked_up_as_a_subquery(named, monkeypatch):
    few = selected(target="e")
    monkeypatch.setattr(filters, "MAX_NAME_LIST", 1)
    assert selected(target="e") == few
    assert few == by_definition(named, "e")


# Every way the text filters can be written: matches gathered as ids (the default at this
# size), events walked with the names as a list, and walked with the names as a subquery (on
# SQLite, each target's names then looked up one by one).
BOUNDS = [{"MAX_ID_LIST": 1}, {"MAX_NAME_LIST": 1}, {"MAX_ID_LIST": 1, "MAX_NAME_LIST": 1}]


@pytest.mark.parametrize("bounds", BOUNDS)
@pytest.mark.parametrize("text", ["e", "sales emea", "STRASSE", "contoso.com", "id"])
def test_many_matching_events_are_walked_to_the_same_result(named, monkeypatch, bounds, text):
    # A target known by its UPN alone: both of a target's names are looked up.
    by_upn = TargetFactory(display_name="", user_principal_name="walker@contoso.com").event_id
    named = {**named, "walker@contoso.com": by_upn}
    if text == "id":
        text = Target.objects.get(display_name="Sales EMEA").object_id.upper()
    gathered = {name: selected(**{name: text}) for name in ("target", "search")}
    for bound, value in bounds.items():
        monkeypatch.setattr(filters, bound, value)
    assert {name: selected(**{name: text}) for name in ("target", "search")} == gathered
    if text != text.upper():
        assert gathered["target"] == by_definition(named, text)
    assert gathered["search"] >= gathered["target"] | selected(initiator=text)
    assert gathered["target"], "every text here names a target"


def test_the_api_and_the_portal_take_the_same_text(named, admin_client, admin_user):
    api = APIClient()
    api.force_login(admin_user)
    response = api.get("/api/v1/events/", {"target": "SALES emea", "page_size": 100})
    from_api = {row["id"] for row in response.json()["results"]}
    page = admin_client.get("/admin/logs/auditevent/", {"target": "SALES emea"})
    from_portal = {event.pk for event in page.context_data["cl"].result_list}
    assert from_api == from_portal == {named["Sales EMEA"], named["Global sales emea team"]}


def test_every_stored_target_name_is_a_lookup(db):
    """Whatever stored the targets (every importer, the ORM), each name is in TargetName."""
    for path in sorted(FIXTURES_DIR.rglob("*.json")) + sorted(FIXTURES_DIR.rglob("*.csv")):
        assert import_file(path).ok, path
    TargetFactory(display_name="Made by the ORM", user_principal_name="orm@contoso.com")
    stored = set(Target.objects.values_list("display_name", flat=True)) | set(
        Target.objects.values_list("user_principal_name", flat=True)
    )
    stored.discard("")
    assert stored <= set(TargetName.objects.values_list("name", flat=True))
    assert {"Made by the ORM", "orm@contoso.com", "Ventes Région Île-de-France"} <= stored
    for initiator in Initiator.objects.all():
        assert initiator.search_text == Initiator.searchable_text(initiator.__dict__)
        assert initiator.search_text == initiator.search_text.casefold()


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("table", "index"),
    [
        ("logs_initiator", "initiator_search_trgm_idx"),
        ("logs_targetname", "target_name_folded_trgm_idx"),
    ],
)
def test_the_name_lookups_can_use_their_trigram_index(named, table, index):
    """With sequential scans priced out, the filters' own queries are answered through the
    trigram index: the LIKE the ORM writes is one the index serves."""
    queries = {
        "logs_initiator": Initiator.objects.filter(search_text__contains="sales emea"),
        "logs_targetname": TargetName.objects.filter(folded__contains="sales emea"),
    }
    sql, params = queries[table].values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
