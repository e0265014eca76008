"""Demo data: realistic records, repeatable with a seed, including failures and Substrate."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from logs.activity_catalogue import CATALOGUE, SUBSTRATE_APP_ID
from logs.models import AuditEvent, Initiator

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo_data", *args, stdout=out)
    return out.getvalue()


def test_generates_the_requested_number_with_real_activity_names():
    out = seed("--events", "400", "--seed", "7")
    assert "400 read, 400 new" in out
    assert AuditEvent.objects.count() == 400
    known = {(e.service, e.category, e.activity, e.operation_type) for e in CATALOGUE}
    stored = set(
        AuditEvent.objects.values_list(
            "service__name", "category__name", "activity__name", "operation_type"
        )
    )
    assert stored <= known
    assert len(stored) > 10


def test_includes_failures_and_substrate_write_backs():
    seed("--events", "400", "--seed", "7")
    assert AuditEvent.objects.filter(result="failure").exists()
    assert AuditEvent.objects.filter(result="success").count() > 300
    substrate = Initiator.objects.get(app_id=SUBSTRATE_APP_ID)
    assert substrate.kind == Initiator.Kind.APP
    assert substrate.events.exists()


def test_same_seed_same_records_so_reseeding_adds_nothing():
    seed("--events", "50", "--seed", "3", "--until", "2026-11-01T00:00Z")
    out = seed("--events", "50", "--seed", "3", "--until", "2026-11-01T00:00Z")
    assert "50 read, 0 new, 50 duplicate" in out
    assert AuditEvent.objects.count() == 50


def test_records_fall_in_the_90_days_before_until():
    seed("--events", "200", "--seed", "5", "--until", "2026-11-01T00:00Z")
    until = datetime(2026, 11, 1, tzinfo=UTC)
    dates = AuditEvent.objects.aggregate(
        first=Min("activity_datetime"), last=Max("activity_datetime")
    )
    assert until - timedelta(days=90) <= dates["first"] < dates["last"] <= until
    assert dates["last"] - dates["first"] > timedelta(days=60)


def test_default_window_ends_now():
    seed("--events", "50", "--seed", "5")
    newest = AuditEvent.objects.aggregate(last=Max("activity_datetime"))["last"]
    assert timezone.now() - timedelta(days=90) < newest <= timezone.now()


def test_bad_until_is_refused():
    with pytest.raises(CommandError, match="--until 'soon' is not an ISO 8601 date-time"):
        seed("--events", "5", "--until", "soon")


def test_needs_a_positive_count():
    with pytest.raises(CommandError, match="at least 1"):
        seed("--events", "0")
