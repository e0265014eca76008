import getpass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from logs.display_time import utc_text
from logs.management.progress import ProgressBar
from logs.retention.archive import ArchiveRun
from logs.retention.holds import (
    HoldError,
    active_holds,
    kept_back,
    kept_back_total,
    without_held,
)
from logs.retention.policy import RetentionPolicy
from logs.retention.run import DEFAULT_BATCH_SIZE, ArchiveBusyError, apply_retention
from logs.retention.selection import expired_events, summary_by_category
from logs.retention.stores import ArchiveStoreError, open_store


class Command(BaseCommand):
    help = (
        "Archive, then purge audit events older than the retention policy "
        "(AUDITPORTAL_RETENTION_DAYS, per-category AUDITPORTAL_RETENTION_OVERRIDES). "
        "A run needs --archive-dir, --archive-url or an explicit --no-archive; --dry-run only "
        "reports."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, metavar="N", help="keep N days (replaces the default days)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print how many events per category would be purged, and their dates; "
            "change nothing",
        )
        archive = parser.add_mutually_exclusive_group()
        archive.add_argument(
            "--archive-dir",
            metavar="DIR",
            type=Path,
            help="write the events here (gzip NDJSON + manifest) before purging them; an "
            "unfinished run found here is finished first",
        )
        archive.add_argument(
            "--archive-url",
            metavar="URL",
            help="write the archive to an Azure Storage container instead: "
            "https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]; an unfinished run found "
            "there is finished first",
        )
        archive.add_argument(
            "--no-archive", action="store_true", help="purge without keeping an archive"
        )
        parser.add_argument(
            "--archive-credential-env",
            metavar="NAME",
            help="with --archive-url: the environment variable holding the account key or a "
            "SAS token (default: the AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV setting, else "
            "AUDITPORTAL_ARCHIVE_CREDENTIAL)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"events deleted per transaction (default: {DEFAULT_BATCH_SIZE})",
        )

    def handle(
        self,
        *args,
        days,
        dry_run,
        archive_dir,
        archive_url,
        archive_credential_env,
        no_archive,
        batch_size,
        **options,
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if archive_credential_env and not archive_url:
            raise CommandError("--archive-credential-env applies to --archive-url only.")
        try:
            policy = RetentionPolicy.from_settings(days)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        now = timezone.now()
        if dry_run:
            try:
                self.report_dry_run(policy, now)
            except HoldError as error:
                raise CommandError(str(error)) from None
            if archive_url or (archive_dir is not None and archive_dir.is_dir()):
                for run in ArchiveRun.unfinished(
                    self.store(archive_dir, archive_url, archive_credential_env)
                ):
                    self.stdout.write(
                        f"{run.name} was stopped before it finished: a real run first purges "
                        f"the {run.manifest['events']} events it archived."
                    )
            return
        if archive_dir is None and archive_url is None and not no_archive:
            raise CommandError(
                "Give --archive-dir DIR or --archive-url URL to archive the events before they "
                "are purged, or --no-archive to purge them without an archive."
            )
        store = None if no_archive else self.store(archive_dir, archive_url, archive_credential_env)
        try:
            total = 0
            if self.stderr.isatty():
                total = expired_events(without_held(policy.expired(now), active_holds())).count()
            with ProgressBar("purging", total=total, unit="events") as bar:
                result = apply_retention(
                    policy,
                    archive=store,
                    batch_size=batch_size,
                    now=now,
                    username=_os_username(),
                    on_progress=bar.update_to,
                )
        except (ArchiveBusyError, ArchiveStoreError, HoldError, OSError) as error:
            raise CommandError(str(error)) from None
        for name in result.resumed:
            self.stdout.write(f"Finished the stopped run {name}.")
        rate = result.purged / result.seconds if result.seconds else 0
        where = f"archived to {result.archive}" if result.archive else "not archived"
        dates = ""
        if result.purged:
            dates = f" dated {utc_text(result.oldest)} to {utc_text(result.newest)}"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.purged} events older than {policy.default_days} days purged{dates}, "
                f"{where}, in {result.seconds:.1f} s ({rate:,.0f} events/s)"
            )
        )
        self.report_holds(result.held, result.held_total, "kept")
        if result.held_error:
            self.stderr.write(
                f"What the legal holds kept could not be counted: {result.held_error}"
            )

    @staticmethod
    def store(archive_dir, archive_url, credential_variable):
        """Where the archive goes; a URL that cannot be used fails naming what to fix."""
        try:
            return open_store(
                archive_url or archive_dir,
                credential_variable=credential_variable,
            )
        except ArchiveStoreError as error:
            raise CommandError(f"--archive-url: {error}") from None

    def report_holds(self, per_hold: dict[str, int], total: int, verb: str) -> None:
        """One line per legal hold: how many expired events it kept (or would keep)."""
        for name, count in per_hold.items():
            self.stdout.write(f"Legal hold {name!r}: {count} expired events {verb}")
        if per_hold:
            self.stdout.write(f"{total} expired events {verb} by legal holds")

    def report_dry_run(self, policy, now):
        expired = policy.expired(now)
        holds = active_holds()
        summary = summary_by_category(without_held(expired, holds))
        for row in summary:
            days = policy.overrides.get(row.category, policy.default_days)
            self.stdout.write(
                f"{row.category}: {row.events} events (kept {days} days), "
                f"{utc_text(row.oldest)} to {utc_text(row.newest)}"
            )
        total = sum(row.events for row in summary)
        if summary:
            oldest = min(row.oldest for row in summary)
            newest = max(row.newest for row in summary)
            dates = f", dated {utc_text(oldest)} to {utc_text(newest)}"
        else:
            dates = ""
        self.stdout.write(f"Dry run (nothing changed): {total} events would be purged{dates}")
        self.report_holds(
            kept_back(expired, holds), kept_back_total(expired, holds), "would be kept"
        )


def _os_username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
