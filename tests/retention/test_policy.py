"""The retention policy: default days, per-category overrides, and settings errors that say
what to fix."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from logs.models import AuditEvent
from logs.retention.policy import RetentionPolicy, parse_overrides
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
