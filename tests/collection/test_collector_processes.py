"""The collector as operators run it, ``manage.py collect_audit_logs`` in a process of its own:
killed with SIGKILL in the middle of a collection and run again, the stored ids are exactly the
source's, each once, and the hash chain verifies; two collectors started at once on one source
store nothing twice; SIGTERM ends the daemon cleanly."""

import random
import signal
import time

import pytest

from logs.models import CollectionSource
from tests.collection.stored import all_rows, stored_ids, wait_for_events
from tests.processes import ProcessDatabase, manage, start_manage

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = {
    "AUDITPORTAL_COLLECTION_PAGE_SIZE": "20",
    "AUDITPORTAL_COLLECTION_GRAPH_RATE": "1000/1",
}


@pytest.fixture
def process_database(tmp_path, proxy, origin):
    CollectionSource.objects.create(
        name="regional", kind="graph", url=f"{proxy.url}/graph/v1.0", token_env="ORIGIN_TOKEN"
    )
    return ProcessDatabase.of_test_database(tmp_path)


def collector_environment(origin) -> dict:
    return {**SETTINGS, "ORIGIN_TOKEN": origin.token}


def test_killed_mid_collection_then_run_again_stores_each_id_once(process_database, proxy, origin):
    proxy.otherwise = "slow"
    proxy.slow_seconds = 0.3
    environment = collector_environment(origin)
    collector = start_manage(process_database, "collect_audit_logs", "--once", **environment)
    try:
        stored = wait_for_events(process_database, collector, at_least=1)
        time.sleep(random.uniform(0, 0.3))  # anywhere in a page: waiting, storing, committing
        collector.send_signal(signal.SIGKILL)
        collector.wait(timeout=30)
    finally:
        if collector.poll() is None:
            collector.kill()
    assert 0 < stored < len(origin.ids), "killed too late to test anything"
    assert process_database.count_events() < len(origin.ids)
    proxy.otherwise = ""
    again = manage(process_database, "collect_audit_logs", "--once", **environment)
    assert again.returncode == 0, again.stderr
    assert stored_ids(process_database) == sorted(origin.ids)
    verified = manage(process_database, "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    statuses = sorted(
        row[0] for row in all_rows(process_database, "SELECT status FROM logs_importbatch")
    )
    assert statuses == ["completed", "interrupted"]


def test_two_collectors_at_once_store_nothing_twice(process_database, proxy, origin):
    proxy.otherwise = "slow"
    proxy.slow_seconds = 0.05
    environment = collector_environment(origin)
    collectors = [
        start_manage(process_database, "collect_audit_logs", "--source", "regional", **environment)
        for _ in range(2)
    ]
    for collector in collectors:
        _, errors = collector.communicate(timeout=300)
        assert collector.returncode == 0, errors
    assert stored_ids(process_database) == sorted(origin.ids)
    counts = all_rows(
        process_database,
        "SELECT records_new, records_duplicate FROM logs_importbatch ORDER BY id",
    )
    assert sum(new for new, _ in counts) == len(origin.ids)
    verified = manage(process_database, "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_daemon_ends_cleanly_on_sigterm(process_database, proxy, origin):
    environment = collector_environment(origin)
    daemon = start_manage(process_database, "collect_audit_logs", "--every", "1h", **environment)
    try:
        wait_for_events(process_database, daemon, at_least=len(origin.ids))
        daemon.send_signal(signal.SIGTERM)
        output, errors = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, errors
    assert "Stopped: everything read so far is stored." in output
    assert "regional [graph]: 240 read, 240 new" in output
