import getpass

from django.core.management.base import BaseCommand, CommandError

from logs.ingest.formats import FORMAT_NAMES
from logs.ingest.importer import RejectsWriter, import_file
from logs.ingest.loader import DEFAULT_BATCH_SIZE
from logs.management.progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Import Entra ID audit logs from files (Graph JSON, the portal's JSON or CSV download, "
        "Azure Monitor or Log Analytics exports, NDJSON). Records already stored are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
        parser.add_argument(
            "--format",
            choices=FORMAT_NAMES,
            help="the input format (default: detected from each file's content)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and check everything, store nothing",
        )
        parser.add_argument(
            "--continue-on-error",
            action="store_true",
            help="store the good records of a file with bad ones (requires --rejects)",
        )
        parser.add_argument(
            "--rejects",
            metavar="FILE",
            help="write rejected records here, one JSON object per line, with the reason",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, paths, format, dry_run, continue_on_error, rejects, batch_size, **_):
        if continue_on_error and not rejects:
            raise CommandError(
                "--continue-on-error needs --rejects FILE, so that no bad record is dropped unseen."
            )
        rejects_writer = RejectsWriter(rejects) if rejects else None
        username = _os_username()
        totals = {"read": 0, "new": 0, "duplicate": 0, "rejected": 0}
        failed_files = []
        path = None
        try:
            for path in paths:
                with ProgressBar(str(path), total=0) as bar:
                    result = import_file(
                        path,
                        format=format,
                        dry_run=dry_run,
                        continue_on_error=continue_on_error,
                        on_reject=rejects_writer,
                        username=username,
                        batch_size=batch_size,
                        on_progress=bar.update_to,
                    )
                for message in result.errors[:10]:
                    self.stderr.write(self.style.ERROR(message))
                if len(result.errors) > 10:
                    self.stderr.write(f"... and {len(result.errors) - 10} more errors")
                if result.failed:
                    failed_files.append(str(path))
                    kept = "nothing was stored from it"
                    self.stderr.write(self.style.ERROR(f"{path}: import failed, {kept}."))
                self.stdout.write(f"{path} [{result.format or 'unknown'}]: {result.summary()}")
                for key in totals:
                    totals[key] += getattr(result, key)
        except KeyboardInterrupt:
            # The file's batch is already closed as failed (import_file); one line, no traceback.
            raise CommandError(
                f"Interrupted while importing {path}: nothing from it was stored; files before "
                "it are imported."
            ) from None
        finally:
            if rejects_writer is not None:
                rejects_writer.close()
        prefix = "Dry run (nothing stored): " if dry_run else ""
        summary = (
            f"{prefix}{len(paths)} file(s): {totals['read']} read, {totals['new']} new, "
            f"{totals['duplicate']} duplicate, {totals['rejected']} rejected"
        )
        if failed_files:
            # Named in the error itself, so a person sees which file to look at without
            # scrolling back through the per-file lines.
            named = ", ".join(failed_files[:5])
            more = f" and {len(failed_files) - 5} more" if len(failed_files) > 5 else ""
            summary += f", {len(failed_files)} file(s) failed: {named}{more}"
        if rejects_writer is not None and rejects_writer.count:
            summary += f"; rejects written to {rejects}"
        if failed_files or totals["rejected"]:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))


def _os_username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
