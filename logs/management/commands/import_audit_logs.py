import getpass

from django.core.management.base import BaseCommand, CommandError

from logs.ingest.formats import FORMAT_NAMES
from logs.ingest.importer import RejectsWriter, import_file
from logs.ingest.loader import DEFAULT_BATCH_SIZE
from logs.management.progress import ProgressBar
from logs.models import ImportBatch
from logs.retention.restore import archive_files
from logs.retention.stores import ArchiveStoreError, is_archive_url


class Command(BaseCommand):
    help = (
        "Import Entra ID audit logs from files (Graph JSON, the portal's JSON or CSV download, "
        "Azure Monitor or Log Analytics exports, NDJSON), or a retention archive in an Azure "
        "Storage container (its URL). Records already stored are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="PATH",
            help="files to import; or the URL of a retention archive in an Azure Storage "
            "container (https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX[/RUN]]): every "
            "file its manifests list",
        )
        parser.add_argument(
            "--archive-credential-env",
            metavar="NAME",
            help="for an archive URL: the environment variable holding the account key or a "
            "SAS token (default: the AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV setting, else "
            "AUDITPORTAL_ARCHIVE_CREDENTIAL)",
        )
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
        parser.add_argument(
            "--strict",
            action="store_true",
            help="refuse every record with a value that does not fit the normalised fields, "
            "instead of storing it verbatim with a normalisation note",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(
        self,
        *args,
        paths,
        format,
        dry_run,
        continue_on_error,
        rejects,
        batch_size,
        archive_credential_env,
        strict=False,
        **_,
    ):
        if continue_on_error and not rejects:
            raise CommandError(
                "--continue-on-error needs --rejects FILE, so that no bad record is dropped unseen."
            )
        rejects_writer = RejectsWriter(rejects) if rejects else None
        self.options = {
            "format": format,
            "dry_run": dry_run,
            "continue_on_error": continue_on_error,
            "on_reject": rejects_writer,
            "username": _os_username(),
            "batch_size": batch_size,
            "strict": strict,
        }
        self.totals = {
            "read": 0,
            "new": 0,
            "with_notes": 0,
            "duplicate": 0,
            "conflict": 0,
            "cross_format": 0,
            "rejected": 0,
        }
        self.failed_files = []
        self.files = 0
        path = None
        try:
            for path in paths:
                if is_archive_url(path):
                    self.import_archive(path, archive_credential_env)
                else:
                    self.import_one(path, str(path))
        except KeyboardInterrupt:
            # The file's batch is already closed as failed (import_file); one line, no traceback.
            raise CommandError(
                f"Interrupted while importing {path}: nothing from it was stored; files before "
                "it are imported."
            ) from None
        finally:
            if rejects_writer is not None:
                rejects_writer.close()
        totals, failed_files = self.totals, self.failed_files
        prefix = "Dry run (nothing stored): " if dry_run else ""
        summary = f"{prefix}{self.files} file(s): {totals['read']} read, {totals['new']} new"
        if totals["with_notes"]:
            summary += f", {totals['with_notes']} stored with notes"
        summary += f", {totals['duplicate']} duplicate"
        if totals["conflict"]:
            summary += f", {totals['conflict']} conflicting (first version kept)"
        if totals["cross_format"]:
            summary += f", {totals['cross_format']} linked as the same event from another format"
        summary += f", {totals['rejected']} rejected"
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

    def import_one(self, path, name: str) -> None:
        """Import one file; ``name`` is where it came from, if not ``path`` itself."""
        self.files += 1
        with ProgressBar(name, total=0) as bar:
            result = import_file(path, on_progress=bar.update_to, **self.options)
        if result.batch is not None and result.batch.pk and name != str(path):
            # The batch names the file as it is kept (the blob), not its temporary copy.
            ImportBatch.objects.filter(pk=result.batch.pk).update(file_name=name)
        for message in result.errors[:10]:
            self.stderr.write(self.style.ERROR(message.replace(str(path), name)))
        if len(result.errors) > 10:
            self.stderr.write(f"... and {len(result.errors) - 10} more errors")
        for message in result.conflicts[:10]:
            self.stderr.write(self.style.WARNING(message.replace(str(path), name)))
        if len(result.conflicts) > 10:
            self.stderr.write(f"... and {len(result.conflicts) - 10} more conflicts")
        if result.failed:
            self.failed_files.append(name)
            self.stderr.write(
                self.style.ERROR(f"{name}: import failed, nothing was stored from it.")
            )
        self.stdout.write(f"{name} [{result.format or 'unknown'}]: {result.summary()}")
        for key in self.totals:
            self.totals[key] += getattr(result, key)

    def import_archive(self, url: str, credential_variable: str | None) -> None:
        """Every file the retention archive at ``url`` lists, each checked against its
        manifest before it is imported."""
        try:
            with archive_files(url, credential_variable=credential_variable) as files:
                for archived in files:
                    if archived.path is None:
                        self.files += 1
                        self.failed_files.append(archived.location)
                        self.stderr.write(self.style.ERROR(f"{archived.error}: not imported."))
                        continue
                    self.import_one(archived.path, archived.location)
        except ArchiveStoreError as error:
            self.failed_files.append(url)
            self.stderr.write(self.style.ERROR(f"{url}: {error}"))


def _os_username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
