"""A page costs the same number of queries however many events it holds, and none is a COUNT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.models import Annotation
from tests.factories import (
    AuditEventFactory,
    InitiatorFactory,
    ModifiedPropertyFactory,
    TargetFactory,
)
from tests.support import EVENTS_URL

pytestmark = pytest.mark.django_db


def make_events(count: int) -> None:
    for n in range(count):
        event = AuditEventFactory(
            service__name=f"Service {n % 3}",
            category__name=f"Category {n % 4}",
            activity__name=f"Activity {n % 5}",
            initiator=InitiatorFactory(),
        )
        for position in range(2):
            target = TargetFactory(event=event, position=position)
            ModifiedPropertyFactory(target=target, position=0)
        Annotation.objects.create(
            event=event, kind=Annotation.Kind.INFORMATIONAL, text="n", source="test"
        )


def queries_for(api, url, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


@pytest.mark.parametrize("params", [{}, {"initiator": "nobody", "target_type": "User"}])
def test_list_queries_do_not_grow_with_the_page(api, params):
    make_events(10)
    params = {**params, "page_size": 1000}
    ten = queries_for(api, EVENTS_URL, params)
    make_events(40)
    fifty = queries_for(api, EVENTS_URL, params)
    assert len(ten) == len(fifty)
    assert not any("COUNT(" in sql.upper() for sql in fifty)


def test_list_page_loads_events_then_targets(api):
    make_events(5)
    sqls = queries_for(api, EVENTS_URL)
    event_queries = [sql for sql in sqls if 'FROM "logs_auditevent"' in sql]
    target_queries = [sql for sql in sqls if 'FROM "logs_target"' in sql]
    assert len(event_queries) == 1 and len(target_queries) == 1
    assert '"logs_auditevent"."original"' not in event_queries[0], "a page never needs it"
    assert not any('FROM "logs_modifiedproperty"' in sql for sql in sqls)


def test_detail_queries_do_not_grow_with_targets(api):
    small = AuditEventFactory()
    TargetFactory(event=small, position=0)
    large = AuditEventFactory()
    for position in range(10):
        target = TargetFactory(event=large, position=position)
        for index in range(5):
            ModifiedPropertyFactory(target=target, position=index)
    assert len(queries_for(api, f"{EVENTS_URL}{small.pk}/")) == len(
        queries_for(api, f"{EVENTS_URL}{large.pk}/")
    )


def test_next_page_costs_the_same(api):
    make_events(12)
    first = api.get(EVENTS_URL, {"page_size": 5}).json()
    assert len(queries_for(api, first["next"])) == len(
        queries_for(api, EVENTS_URL, {"page_size": 5})
    )
