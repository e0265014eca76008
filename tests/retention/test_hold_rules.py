"""The rules a legal hold is placed under, to the character: its name, its activity ids, and
what a refusal says; and two holds placed under one name at once."""

import pytest

from logs.models import AccessRecord, LegalHold
from logs.retention.holds import HoldError, clean_hold, place_hold, store_hold

pytestmark = pytest.mark.django_db

NAME_LIMIT = 200
ACTIVITY_ID_LIMIT = 256


def refusal(**fields) -> dict:
    with pytest.raises(HoldError) as raised:
        clean_hold(**{"name": "n", "reason": "r", "filters": None, "event_ids": ["a"], **fields})
    return raised.value.errors


def test_a_refusal_says_every_field_and_message():
    error = HoldError({"name": ["A hold needs a name."], "reason": ["One.", "Two."]})
    assert str(error) == "name: A hold needs a name.; reason: One. Two."


def test_a_name_takes_200_characters():
    assert clean_hold("n" * NAME_LIMIT, "r", None, ["a"])["name"] == "n" * NAME_LIMIT
    assert refusal(name="n" * (NAME_LIMIT + 1)) == {"name": [f"At most {NAME_LIMIT} characters."]}


def test_an_activity_id_takes_256_characters_and_a_refusal_shows_its_start():
    longest = "i" * ACTIVITY_ID_LIMIT
    assert clean_hold("n", "r", None, [longest, " b "])["event_ids"] == [longest, "b"]
    too_long = "x" * 79 + "yz" + "i" * (ACTIVITY_ID_LIMIT - 80)
    assert refusal(event_ids=["fine", too_long]) == {
        "event_ids": [f"Not an activity id: {'x' * 79 + 'y'!r}."]
    }


def test_a_second_hold_stored_under_a_name_at_the_same_time_is_refused():
    """Two placed at once both pass the check for the name; the database keeps one."""
    place_hold("Matter", reason="first", event_ids=["a"], username="one")
    second = LegalHold(**clean_hold("Other", "second", None, ["b"]))
    second.name = "Matter"

    with pytest.raises(HoldError) as raised:
        store_hold(second, username="two")

    assert raised.value.errors == {"name": ["A hold named 'Matter' exists already."]}
    assert list(LegalHold.objects.values_list("reason", flat=True)) == ["first"]
    assert AccessRecord.objects.filter(action=AccessRecord.Action.LEGAL_HOLD).count() == 1
