"""An empty view says which filters it applies, offers each one's removal, and offers the
nearest known values of a text filter that do show events."""

from html import unescape

import pytest

from tests.factories import (
    AuditEventFactory,
    CategoryFactory,
    InitiatorFactory,
    TargetFactory,
)
from tests.support import CHANGELIST, listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    alex = InitiatorFactory(user_principal_name="alex.wilber@contoso.com", user_display_name="Alex")
    adele = InitiatorFactory(
        user_principal_name="adele.vance@contoso.com", user_display_name="Adele"
    )
    groups = CategoryFactory(name="GroupManagement")
    TargetFactory(event=AuditEventFactory(initiator=alex), display_name="Sales EMEA")
    finance = AuditEventFactory(initiator=adele, category=groups)
    TargetFactory(event=finance, display_name="Finance EMEA")


def empty_view(response):
    assert listed(response) == []
    return response.context_data["cl"].empty_view


def test_a_typo_is_answered_with_the_nearest_initiators(reader_client, people):
    view = empty_view(reader_client.get(CHANGELIST, {"initiator": "alex.wilbr"}))
    assert [(a.label, a.value) for a in view.applied] == [("Initiated by", "alex.wilbr")]
    assert [(s.label, s.value) for s in view.suggestions] == [
        ("Initiated by", "alex.wilber@contoso.com")
    ]
    html = unescape(reader_client.get(CHANGELIST, {"initiator": "alex.wilbr"}).content.decode())
    assert 'id="empty-view"' in html and "Initiated by: alex.wilber@contoso.com" in html
    followed = reader_client.get(CHANGELIST + view.suggestions[0].url)
    assert len(listed(followed)) == 1


def test_only_values_that_show_events_with_the_other_filters_are_offered(reader_client, people):
    query = {"target": "sales emea", "category": "GroupManagement"}
    view = empty_view(reader_client.get(CHANGELIST, query))
    assert {a.label for a in view.applied} == {"Category", "Target"}
    # "Sales EMEA" contains the text but has no GroupManagement event; "Finance EMEA",
    # found by a word of the text, has one.
    assert [(s.label, s.value) for s in view.suggestions] == [("Target", "Finance EMEA")]
    for suggestion in view.suggestions:
        assert listed(reader_client.get(CHANGELIST + suggestion.url)), suggestion


def test_each_filter_can_be_removed(reader_client, people):
    query = {"initiator": "alex", "category": "GroupManagement"}
    view = empty_view(reader_client.get(CHANGELIST, query))
    without = {a.label: a.without_url for a in view.applied}
    assert without["Category"] == "?initiator=alex"
    assert without["Initiated by"] == "?category=GroupManagement"
    assert len(listed(reader_client.get(CHANGELIST + without["Category"]))) == 1


def test_a_searched_typo_is_answered_from_every_kind_of_name(reader_client, people):
    view = empty_view(reader_client.get(CHANGELIST, {"q": "sales emae"}))
    assert [(a.label, a.value) for a in view.applied] == [("Search", "sales emae")]
    assert ("Search", "Sales EMEA") in [(s.label, s.value) for s in view.suggestions]
    assert all("q=" in s.url for s in view.suggestions)


def test_a_view_with_events_says_nothing_of_the_kind(reader_client, people):
    response = reader_client.get(CHANGELIST, {"initiator": "alex"})
    assert response.context_data["cl"].empty_view is None
    assert 'id="empty-view"' not in response.content.decode()
