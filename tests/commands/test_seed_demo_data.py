"""Demo data: realistic records, repeatable with a seed, including failures and Substrate."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

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
    seed("--events", "50", "--seed", "3")
    out = seed("--events", "50", "--seed", "3")
    assert "50 read, 0 new, 50 duplicate" in out
    assert AuditEvent.objects.count() == 50


def test_needs_a_positive_count():
    with pytest.raises(CommandError, match="at least 1"):
        seed("--events", "0")
