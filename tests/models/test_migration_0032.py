"""Migration 0032 stores each distinct user agent once (``UserAgent``) and gives events a key to
it; going back writes each event's text into its row again. Every event shows the same user
agent before and after, the rows are sealed, the chain verifies (its record holds the text, read
through the row), and a text changed afterwards breaks both its seal and its events' links, on
both databases."""

from django.db import connection

from logs.ingest.generated import store_generated_records
from logs.integrity import verify_chain
from logs.models import AuditEvent, UserAgent
from logs.models.events import query_user_agent
from logs.models.lookups import text_digest
from tests.factories import GraphDirectoryAuditFactory
from tests.models.support import (
    assert_refused,
    import_every_fixture,
    leaf_nodes,
    migrate,
    read_before,
)
from tests.tampering import tamper

BEFORE = [("logs", "0031_details_lists")]
AGENTS = ["Mozilla/5.0", "Straße \U0001f600 " + "x" * 3000, "Mozilla/5.0", "curl/8.0"]


def shown_agents() -> dict[int, str]:
    return dict(AuditEvent.objects.annotate(agent=query_user_agent()).values_list("pk", "agent"))


def stored_columns() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, initiator_user_agent FROM logs_auditevent")
        return dict(cursor.fetchall())


def records_with_agents(agents) -> list[dict]:
    records = []
    for agent in agents:
        # Graph's beta shape: the caller's user agent beside the record's other fields.
        record = GraphDirectoryAuditFactory(additionalDetails=[], userAgent=agent)
        records.append(record)
    return records


def store_every_fixture_and_some_agents() -> dict[int, str]:
    import_every_fixture()
    assert store_generated_records(records_with_agents(AGENTS), label="agents").new == 4
    shown = shown_agents()
    assert len(shown) > 60
    assert set(AGENTS) <= set(shown.values())
    assert "" in shown.values()
    return shown


def test_each_event_shows_the_same_user_agent_after_going_back_and_forward(transactional_db):
    shown = store_every_fixture_and_some_agents()
    assert read_before(BEFORE, stored_columns) == shown
    assert shown_agents() == shown
    events = AuditEvent.objects.select_related("user_agent")
    assert {event.pk: event.initiator_user_agent for event in events} == shown
    distinct = {agent for agent in shown.values() if agent}
    rows = list(UserAgent.objects.all())
    assert {row.text for row in rows} == distinct and len(rows) == len(distinct)
    assert all(row.digest == text_digest(row.text) for row in rows)
    result = verify_chain()
    assert result.ok, (result.broken, result.derived)
    assert_refused(
        "UPDATE logs_auditevent SET user_agent_id = NULL",
        "UPDATE logs_useragent SET text = 'curl'",
        "DELETE FROM logs_useragent",
    )


def test_a_changed_user_agent_breaks_its_seal_and_its_events_links(db):
    store_generated_records(records_with_agents(AGENTS), label="agents")
    changed = AuditEvent.objects.filter(user_agent__text="curl/8.0").get()
    tamper("UPDATE logs_useragent SET text = 'Mozilla/5.0 (harmless)' WHERE text = 'curl/8.0'")

    broken = verify_chain().broken
    assert broken.kind == "modified" and broken.event_id == changed.pk


def test_after_the_migration_an_import_shares_the_migrated_user_agents(transactional_db):
    shown = store_every_fixture_and_some_agents()
    leaves = leaf_nodes()
    migrate(BEFORE)
    migrate(leaves)
    rows = UserAgent.objects.count()
    assert store_generated_records(records_with_agents(AGENTS), label="again").new == 4
    assert UserAgent.objects.count() == rows
    new = AuditEvent.objects.exclude(pk__in=shown).select_related("user_agent").order_by("pk")
    assert [event.initiator_user_agent for event in new] == AGENTS
    assert verify_chain().ok
