"""The retention policy: default days, per-category overrides, and settings errors that say
what to fix."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from logs.models import AuditEvent
from logs.retention.policy import MAX_RETENTION_DAYS, RetentionPolicy, parse_overrides
from tests.retention.support import store_events


def test_overrides_are_category_equals_days():
    assert parse_overrides("UserManagement=730, Policy=30,") == {
        "UserManagement": 730,
        "Policy": 30,
    }
    assert parse_overrides("") == {}


@pytest.mark.parametrize("text", ["UserManagement", "UserManagement=", "=30", "Policy=ten"])
def test_a_malformed_override_names_the_setting(text):
    with pytest.raises(ImproperlyConfigured, match="AUDITPORTAL_RETENTION_OVERRIDES"):
        parse_overrides(text)


@override_settings(AUDITPORTAL_RETENTION_DAYS="365", AUDITPORTAL_RETENTION_OVERRIDES="Policy=30")
def test_days_given_replace_the_default_and_keep_the_overrides():
    policy = RetentionPolicy.from_settings(90)
    assert policy.default_days == 90
    assert policy.overrides == {"Policy": 30}


@override_settings(AUDITPORTAL_RETENTION_DAYS="a year")
def test_a_bad_number_of_days_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="AUDITPORTAL_RETENTION_DAYS"):
        RetentionPolicy.from_settings()


def test_zero_days_is_refused():
    with pytest.raises(ImproperlyConfigured, match="at least 1 day"):
        RetentionPolicy.from_settings(0)


def test_cutoffs_count_back_from_now():
    now = datetime(2026, 1, 31, tzinfo=UTC)
    default, by_category = RetentionPolicy(30, {"Policy": 10}).cutoffs(now)
    assert default == now - timedelta(days=30)
    assert by_category == {"Policy": now - timedelta(days=10)}


@pytest.mark.django_db
def test_expired_applies_each_category_its_own_cutoff():
    short = store_events(20, category="Policy")
    store_events(5, category="Policy")
    store_events(20, category="UserManagement")
    long_ago = store_events(40, category="UserManagement")
    policy = RetentionPolicy(30, {"Policy": 10, "NeverSeen": 1})
    expired = AuditEvent.objects.filter(policy.expired()).values_list("entra_id", flat=True)
    assert sorted(expired) == sorted(short + long_ago)


@pytest.mark.parametrize("days", [MAX_RETENTION_DAYS + 1, 800_000, 10**20])
def test_more_days_than_dates_reach_is_refused(days):
    with pytest.raises(ImproperlyConfigured, match="at most 36,525 days"):
        RetentionPolicy.from_settings(days)


def test_a_hundred_years_is_kept_and_its_cutoff_is_a_date():
    policy = RetentionPolicy.from_settings(MAX_RETENTION_DAYS)
    default, _ = policy.cutoffs(datetime(2100, 1, 1, tzinfo=UTC))
    assert default.year == 2000


@given(
    days=st.integers(),
    overrides=st.dictionaries(st.sampled_from(["Policy", "Other"]), st.integers()),
)
def test_any_number_of_days_is_a_policy_with_dates_or_refused(days, overrides):
    text = ",".join(f"{name}={number}" for name, number in overrides.items())
    try:
        with override_settings(AUDITPORTAL_RETENTION_OVERRIDES=text):
            policy = RetentionPolicy.from_settings(days)
    except ImproperlyConfigured:
        return
    now = datetime.now(UTC)
    default, by_category = policy.cutoffs(now)  # dates, for the default and every override
    assert all(cutoff < now for cutoff in [default, *by_category.values()])


@pytest.mark.parametrize("configured", ["²", "٣٦٥"])
def test_digits_of_other_scripts_are_read_or_refused_never_crash(configured):
    try:
        with override_settings(AUDITPORTAL_RETENTION_DAYS=configured):
            policy = RetentionPolicy.from_settings()
    except ImproperlyConfigured as error:
        assert "AUDITPORTAL_RETENTION_DAYS" in str(error)
    else:
        assert policy.default_days == 365  # Arabic-Indic digits are decimal digits


@pytest.mark.django_db
def test_the_command_refuses_too_many_days_with_the_reason():
    with pytest.raises(CommandError, match="at most 36,525 days"):
        call_command("apply_retention", "--days", "800000", "--dry-run")
