"""An event made through the ORM (``AuditEvent(additional_details=..., initiator_user_agent=...)``)
finds or stores its shared rows when it is saved: none for no value, the same row for the same
value, any other JSON value kept; and a stored event's values cannot be set again."""

import pytest

from logs.immutability import ImmutableRecordError
from logs.models import AuditEvent, DetailsList, UserAgent
from tests.factories import AuditEventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("none", [None, [], ()], ids=repr)
def test_no_details_store_no_row(none):
    event = AuditEventFactory(additional_details=none, initiator_user_agent="")
    assert event.details_list_id is None and event.user_agent_id is None
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.additional_details == [] and stored.initiator_user_agent == ""
    assert not DetailsList.objects.exists() and not UserAgent.objects.exists()


@pytest.mark.parametrize("value", [{}, 0, "", False, [{"key": "k", "value": "v"}]], ids=repr)
def test_any_other_details_value_is_kept(value):
    event = AuditEventFactory(additional_details=value)
    assert AuditEvent.objects.get(pk=event.pk).additional_details == value


def test_the_same_values_share_their_rows_and_cannot_be_set_again():
    details = [{"value": "Member", "key": "UserType"}]
    first = AuditEventFactory(additional_details=details, initiator_user_agent="curl/8.0")
    second = AuditEventFactory(
        additional_details=[{"key": "UserType", "value": "Member"}], initiator_user_agent="curl/8.0"
    )
    assert (first.details_list_id, first.user_agent_id) == (
        second.details_list_id,
        second.user_agent_id,
    )
    assert DetailsList.objects.count() == UserAgent.objects.count() == 1
    stored = AuditEvent.objects.get(pk=first.pk)
    with pytest.raises(ImmutableRecordError):
        stored.initiator_user_agent = "other"
    with pytest.raises(ImmutableRecordError):
        stored.additional_details = []
