"""The collector daemon's wait between runs (``collect_audit_logs --every``) ends when a stop is
asked, however the stop lands, and otherwise lasts the interval."""

import threading
import time

from logs.management.commands import collect_audit_logs
from logs.management.commands.collect_audit_logs import Command


class StopMissedBySleeper(threading.Event):
    """A stop that lands after the sleeper looked at the flag and before it slept: the flag is
    set, and this sleeper still sleeps its whole timeout. SIGTERM's handler runs on the waiting
    thread, so this can happen to ``Event.wait`` itself."""

    def wait(self, timeout=None):
        if not self.is_set():
            self.set()
            time.sleep(timeout)
        return False


def waited(command: Command, seconds: float) -> tuple[bool | None, float]:
    """(what wait_for_next_run answered, or None if it had not returned in 5 s; seconds taken)"""
    answer = []
    started = time.monotonic()
    waiter = threading.Thread(
        target=lambda: answer.append(command.wait_for_next_run(seconds)), daemon=True
    )
    waiter.start()
    waiter.join(timeout=5)
    return (answer[0] if answer else None), time.monotonic() - started


def test_a_stop_missed_by_the_sleeper_ends_the_wait_within_a_check(monkeypatch):
    monkeypatch.setattr(collect_audit_logs, "STOP_CHECK_SECONDS", 0.05)
    command = Command()
    command.stop = StopMissedBySleeper()
    answer, took = waited(command, 3600)
    assert answer is True and took < 5


def test_without_a_stop_the_wait_lasts_the_interval(monkeypatch):
    monkeypatch.setattr(collect_audit_logs, "STOP_CHECK_SECONDS", 0.05)
    command = Command()
    command.stop = threading.Event()
    answer, took = waited(command, 0.3)
    assert answer is False and took >= 0.3


def test_a_stop_asked_before_the_wait_ends_it_at_once():
    command = Command()
    command.stop = threading.Event()
    command.stop.set()
    answer, took = waited(command, 3600)
    assert answer is True and took < 1
