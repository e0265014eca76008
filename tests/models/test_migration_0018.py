"""Migration 0018 fills in the folded names of initiators and the target names of targets
stored before it, so that the text filters find old events as they find new ones."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("logs", "0017_display_time_zone")]
AFTER = [("logs", "0018_text_search")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_0018(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_stored_names_become_searchable(before_0018):
    apps = before_0018
    lookups = {
        model: apps.get_model("logs", model).objects.create(name=f"a {model}")
        for model in ["Service", "Category", "Activity"]
    }
    initiator = apps.get_model("logs", "Initiator").objects.create(
        identity_key="k1",
        kind="user",
        user_principal_name="Alex.Wilber@Contoso.com",
        user_display_name="Alex Wilber",
    )
    event = apps.get_model("logs", "AuditEvent").objects.create(
        entra_id="Directory_1",
        activity_datetime=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        service=lookups["Service"],
        category=lookups["Category"],
        activity=lookups["Activity"],
        initiator=initiator,
        original="{}",
        source_format="graph",
    )
    Target = apps.get_model("logs", "Target")
    Target.objects.create(event=event, position=0, display_name="Straße Team", object_id="o1")
    Target.objects.create(event=event, position=1, user_principal_name="bob@contoso.com")
    Target.objects.create(event=event, position=2, display_name="Straße Team")

    apps = migrate(AFTER)

    stored = apps.get_model("logs", "Initiator").objects.get(pk=initiator.pk)
    assert stored.search_text == "alex.wilber@contoso.com\nalex wilber"
    names = apps.get_model("logs", "TargetName").objects.values_list("name", "folded")
    assert sorted(names) == [
        ("Straße Team", "strasse team"),
        ("bob@contoso.com", "bob@contoso.com"),
    ]
