"""``collect_audit_logs``: collect from the configured sources, once or as a daemon."""

import getpass
import re
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from logs.collection.collect import collect_source
from logs.collection.health import describe, health, lag
from logs.command_context import run_by_command
from logs.management.progress import ProgressBar
from logs.models import CollectionSource

DURATION = re.compile(r"^(\d+)([smhd]?)$")
# Between runs the daemon looks at its stop flag at least this often (see wait_for_next_run).
STOP_CHECK_SECONDS = 1.0
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    found = DURATION.match(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise CommandError(f"--every takes a duration such as 30s, 5m or 1h, not {text!r}.")
    return timedelta(seconds=int(found.group(1)) * UNITS[found.group(2)])


def parse_since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(
            f"--since takes an ISO date or date and time (2026-11-01, 2026-11-01T08:00Z), not "
            f"{text!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now():
        raise CommandError(f"--since {text} is in the future.")
    return moment


class Command(BaseCommand):
    help = (
        "Collect Entra ID audit logs from the configured collection sources (Microsoft Graph, "
        "a Graph-compatible endpoint, a storage account): once, or every DURATION until "
        "SIGTERM. --check prints each source's health and exits 1 when one is unhealthy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", metavar="NAME", help="only this source")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="one run of each source (default)")
        mode.add_argument(
            "--every",
            metavar="DURATION",
            help="run as a daemon: a run of each source every DURATION (30s, 5m, 1h); ends "
            "cleanly on SIGTERM or Ctrl-C, after the page being stored",
        )
        mode.add_argument(
            "--check",
            action="store_true",
            help="print each source's health; exit 1 when any is unhealthy (for monitoring)",
        )
        parser.add_argument(
            "--since",
            metavar="ISO",
            help="read from this activity date (back-fill); default: from the stored position, "
            "or AUDITPORTAL_COLLECTION_BACKFILL_DAYS back on a source's first run",
        )

    def handle(self, *args, source, once, every, check, since, **options):
        if check and since:
            raise CommandError("--check reads nothing: --since does not apply.")
        sources = self.sources(source)
        if check:
            return self.report_health(sources)
        since_moment = parse_since(since) if since else None
        interval = parse_duration(every) if every else None
        self.stop = threading.Event()
        previous = {
            number: signal.signal(number, self.ask_to_stop)
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            with run_by_command("collect_audit_logs"):
                failed = self.run_all(sources, since_moment)
                while interval is not None and not self.stop.is_set():
                    if self.wait_for_next_run(interval.total_seconds()):
                        break
                    # --since is a back-fill: later runs carry on from the stored position.
                    failed = self.run_all(self.sources(source), None)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        if self.stop.is_set():
            self.stdout.write("Stopped: everything read so far is stored.")
        if interval is None and failed:
            raise CommandError(f"{len(failed)} source(s) failed: {', '.join(failed)}")

    def ask_to_stop(self, number, frame) -> None:
        self.stop.set()

    def wait_for_next_run(self, seconds: float) -> bool:
        """Wait ``seconds`` for the next run; True as soon as a stop is asked.

        The wait is cut into slices of STOP_CHECK_SECONDS. The signal handler runs on this
        same thread: a SIGTERM landing after ``Event.wait`` has read the flag and before it
        sleeps sets the flag with no sleeper to wake, and one long wait would then sleep the
        whole interval (an hour, say) before noticing it."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.stop.wait(min(remaining, STOP_CHECK_SECONDS))
        return True

    def sources(self, name: str | None) -> list[CollectionSource]:
        if name:
            try:
                return [CollectionSource.objects.get(name=name)]
            except CollectionSource.DoesNotExist:
                raise CommandError(
                    f"No collection source named {name!r} (manage.py collection_source list)."
                ) from None
        found = list(CollectionSource.objects.filter(enabled=True))
        if not found:
            raise CommandError(
                "No collection source is configured (manage.py collection_source add)."
            )
        return found

    def run_all(self, sources: list[CollectionSource], since) -> list[str]:
        failed = []
        username = _os_username()
        for source in sources:
            if self.stop.is_set():
                break
            with ProgressBar(source.name, total=0, unit="events") as bar:
                result = collect_source(
                    source, since=since, username=username, stop=self.stop, on_stored=bar.advance
                )
            for message in result.errors[:10]:
                self.stderr.write(self.style.ERROR(message))
            for message in result.conflicts[:10]:
                self.stderr.write(self.style.WARNING(message))
            line = f"{source.name} [{source.kind}]: {result.summary()}"
            if result.ok:
                self.stdout.write(line)
            else:
                failed.append(source.name)
                self.stdout.write(f"{line}; FAILED (the next run retries from the stored position)")
        return failed

    def report_health(self, sources: list[CollectionSource]) -> None:
        now = timezone.now()
        unhealthy = []
        for source in sources:
            state = health(source, now)
            age = lag(source, now)
            last = source.last_success_at.isoformat() if source.last_success_at else "never"
            line = (
                f"{source.name} [{source.kind}] {'OK' if state.healthy else 'UNHEALTHY'}: "
                f"last success {last}, lag {describe(age) if age is not None else 'unknown'}"
            )
            if state.problem:
                line += f"; {state.problem}"
            self.stdout.write(line)
            if not state.healthy:
                unhealthy.append(source.name)
        if unhealthy:
            raise CommandError(f"Unhealthy: {', '.join(unhealthy)}")


def _os_username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
