"""The portal's one way of showing a time, and date ranges typed in the reader's time zone."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logs.display_time import (
    LocalTimeError,
    choosable_time_zones,
    input_value,
    local_to_utc,
    time_html,
    utc_text,
    zone_named,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 5, 19, 13, 7, 654321, tzinfo=UTC),
        datetime(2026, 12, 5, 20, 13, 7, tzinfo=PARIS),  # another zone: shown in UTC
        datetime(2026, 12, 5, 19, 13, 7),  # naive: stored times are UTC
        "2026-12-05T19:13:07.6543210Z"[:26] + "Z",  # the reports' ISO text
        "2026-12-05T20:13:07+01:00",
    ],
)
def test_every_time_reads_iso_date_seconds_and_zone(value):
    assert utc_text(value) == "2026-12-05 19:13:07 UTC"


def test_a_year_below_1000_keeps_four_digits():
    assert utc_text(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01 00:00:00 UTC"


def test_no_time_is_no_text():
    assert utc_text(None) == "" and time_html(None) == ""


def test_the_local_time_is_shown_beside_utc():
    moment = datetime(2026, 7, 5, 19, 13, 7, 500, tzinfo=UTC)
    assert time_html(moment) == (
        '<time class="portal-time" datetime="2026-07-05T19:13:07.000500Z">'
        "2026-07-05 19:13:07 UTC</time>"
    )
    assert time_html(moment, PARIS).endswith(
        '2026-07-05 19:13:07 UTC</time> <span class="portal-local-time">'
        "(2026-07-05 21:13:07 Europe/Paris)</span>"
    )


def test_typed_local_times_become_utc():
    assert local_to_utc("2026-12-05 20:13:07", PARIS) == "2026-12-05T19:13:07Z"
    assert local_to_utc("2026-07-05T21:13:07", PARIS) == "2026-07-05T19:13:07Z"
    assert local_to_utc("2026-12-05", PARIS) == "2026-12-04T23:00:00Z"  # midnight, local
    assert local_to_utc(" 2026-12-05 20:13:07.25 ", PARIS) == "2026-12-05T19:13:07.250000Z"
    # A time that names its offset means that moment, whatever the zone.
    assert local_to_utc("2026-12-05T19:13:07Z", PARIS) == "2026-12-05T19:13:07Z"
    assert local_to_utc("", PARIS) == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-03-29 02:30:00", "never happens in Europe/Paris"),
        ("2026-10-25 02:30:00", "happens twice in Europe/Paris"),
        ("yesterday", "is not a date and time"),
        ("05/12/2026 20:13", "is not a date and time"),
        ("0001-01-01 00:00:00", "has no UTC equivalent"),
    ],
)
def test_what_names_no_single_moment_is_refused_not_taken_as_utc(typed, message):
    with pytest.raises(LocalTimeError, match=message):
        local_to_utc(typed, PARIS)


def test_inputs_show_the_urls_utc_in_the_readers_zone():
    assert input_value("2026-12-05T19:13:07Z", None) == "2026-12-05 19:13:07"
    assert input_value("2026-12-05T19:13:07Z", PARIS) == "2026-12-05 20:13:07"
    assert input_value("2026-12-05T19:13:07.000001Z", PARIS) == "2026-12-05 20:13:07.000001"
    # When the clocks go back, the offset says which of the two 02:30s it is.
    assert input_value("2026-10-25T00:30:00Z", PARIS) == "2026-10-25 02:30:00+02:00"
    assert input_value("2026-10-25T01:30:00Z", PARIS) == "2026-10-25 02:30:00+01:00"
    assert input_value("not a date", PARIS) == "not a date"  # kept, to be corrected


def test_choosable_zones_are_places_not_aliases():
    zones = choosable_time_zones()
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo"} <= set(zones)
    assert not any(name.startswith(("Etc/", "US/")) for name in zones)
    assert zone_named("Europe/Paris") == PARIS
    assert zone_named("") is None and zone_named("Etc/GMT+5") is None
    assert zone_named("Mars/Olympus_Mons") is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)
    ),
    zone_name=st.sampled_from(choosable_time_zones()),
)
def test_a_range_applied_again_unchanged_selects_the_same_moment(moment, zone_name):
    """What an input shows for a URL's value, typed back, is that value: in every zone, on the
    days the clocks change too."""
    zone = zoneinfo.ZoneInfo(zone_name)
    url_value = moment.isoformat().replace("+00:00", "Z")
    shown = input_value(url_value, zone)
    assert datetime.fromisoformat(local_to_utc(shown, zone)) == moment


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    local=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 30)),
    zone_name=st.sampled_from(choosable_time_zones()),
)
def test_a_typed_local_time_is_that_wall_time_in_the_zone(local, zone_name):
    zone = zoneinfo.ZoneInfo(zone_name)
    try:
        utc = datetime.fromisoformat(local_to_utc(local.isoformat(sep=" "), zone))
    except LocalTimeError:
        # Refused only when the clocks change at that wall time.
        assert (
            local.replace(tzinfo=zone, fold=0).utcoffset()
            != local.replace(tzinfo=zone, fold=1).utcoffset()
        )
        return
    assert utc.astimezone(zone).replace(tzinfo=None) == local
    assert abs(utc.replace(tzinfo=None) - local) < timedelta(hours=27)
