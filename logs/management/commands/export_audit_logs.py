import sys

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from logs.access_trail import operating_system_user, record_access
from logs.api.parameters import unapplied_values
from logs.columns import COLUMNS_BY_KEY
from logs.digests.export import chain_export_lines
from logs.exports import FORMATS, Export
from logs.filters import MULTI_VALUED_FILTERS, AuditEventFilterSet
from logs.management.progress import ProgressBar
from logs.models import AccessRecord, AuditEvent
from logs.routing import read_only_queries
from logs.sorting import ColumnSort

# FilterSet parameter → its option (the API's names, with dashes).
CHAIN_FORMAT = "chain"
FILTER_OPTIONS = {name: "--" + name.replace("_", "-") for name in AuditEventFilterSet.base_filters}


class Command(BaseCommand):
    help = (
        "Export stored audit events as CSV (the Entra portal's download layout, or chosen "
        "columns), JSON (an array of directoryAudit records as Microsoft Graph serves them) or "
        "NDJSON (one record a line, as imported: the archive format), filtered as in the API; "
        "or, with --format chain, every event with its hash-chain columns, for the offline "
        "verifier (python -m auditportal_verify). No limit on the number of events; streamed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=(*FORMATS, CHAIN_FORMAT),
            default="csv",
            help="default: csv; chain: NDJSON of the whole chain with its columns",
        )
        parser.add_argument(
            "--output", metavar="FILE", default="-", help="write here (default: standard output)"
        )
        parser.add_argument(
            "--columns",
            metavar="KEYS",
            help="CSV only: comma-separated column keys ("
            + ", ".join(COLUMNS_BY_KEY)
            + "); default: the portal download's columns",
        )
        parser.add_argument(
            "--keep-formulas",
            action="store_true",
            help="CSV only: write cells starting with = + - @ unchanged (for programs, e.g. an "
            "exact round trip; never open such a file in a spreadsheet)",
        )
        filters = parser.add_argument_group("filters (as in the API)")
        for name, option in FILTER_OPTIONS.items():
            filter_ = AuditEventFilterSet.base_filters[name]
            help_text = filter_.extra.get("help_text") or filter_.label or name
            if name in MULTI_VALUED_FILTERS:
                # Given again, it selects any of the values, as in the API.
                filters.add_argument(
                    option,
                    dest=f"filter_{name}",
                    metavar="VALUE",
                    action="append",
                    help=f"{help_text} (repeat the option for several)",
                )
            else:
                filters.add_argument(option, dest=f"filter_{name}", metavar="VALUE", help=help_text)

    # Only reads audit events: the read replica may answer (logs.routing).
    @read_only_queries()
    def handle(self, *args, format, output, columns, keep_formulas, **options):
        if columns is not None and format != "csv":
            raise CommandError("--columns applies to --format csv only.")
        if keep_formulas and format != "csv":
            raise CommandError("--keep-formulas applies to --format csv only.")
        filters = {
            name: options[f"filter_{name}"]
            for name in FILTER_OPTIONS
            if options.get(f"filter_{name}") is not None
        }
        if format == CHAIN_FORMAT:
            if filters:
                raise CommandError(
                    "--format chain exports the whole chain: filters would leave gaps the "
                    "verifier cannot tell from deletions."
                )
            return self.export_chain(output)
        export = Export(
            self.filtered_events(filters),
            format,
            columns=parse_columns(columns),
            neutralise_formulas=not keep_formulas,
            column_sort=ColumnSort.for_ordering(filters.get("ordering")),
        )
        to_stdout = output == "-"
        total = export.count() if sys.stderr.isatty() else 0
        try:
            stream = self.stdout if to_stdout else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"--output: cannot write {output}: {error.strerror}") from None
        try:
            with ProgressBar("exporting", total=total, unit="events") as bar:
                for text in export:
                    if to_stdout:
                        stream.write(text, ending="")
                    else:
                        stream.write(text)
                    bar.update_to(export.rows_written)
        finally:
            if not to_stdout:
                stream.close()
            record_access(
                AccessRecord.Action.EXPORT,
                user=None,
                username=operating_system_user(),
                detail={
                    "via": "command",
                    "format": export.format,
                    "columns": export.columns,
                    "filters": filters,
                    "output": "standard output" if to_stdout else str(output),
                    "complete": export.finished,
                },
                row_count=export.rows_written,
            )
        where = "standard output" if to_stdout else output
        summary = f"{export.rows_written} events written to {where}"
        # On standard output the summary would end up in the file.
        (self.stderr if to_stdout else self.stdout).write(summary)

    def export_chain(self, output: str) -> None:
        to_stdout = output == "-"
        try:
            stream = self.stdout if to_stdout else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"--output: cannot write {output}: {error.strerror}") from None
        written, complete = 0, False
        try:
            for line in chain_export_lines():
                if to_stdout:
                    stream.write(line, ending="")
                else:
                    stream.write(line)
                written += 1
            complete = True
        finally:
            if not to_stdout:
                stream.close()
            record_access(
                AccessRecord.Action.EXPORT,
                user=None,
                username=operating_system_user(),
                detail={
                    "via": "command",
                    "format": CHAIN_FORMAT,
                    "filters": {},
                    "output": "standard output" if to_stdout else str(output),
                    "complete": complete,
                },
                row_count=written,
            )
        where = "standard output" if to_stdout else output
        (self.stderr if to_stdout else self.stdout).write(f"{written} events written to {where}")

    def filtered_events(self, filters: dict):
        data = QueryDict(mutable=True)
        for name, value in filters.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        filterset = AuditEventFilterSet(data=data, queryset=AuditEvent.objects.all())
        errors = {} if filterset.is_valid() else dict(filterset.errors)
        if not errors:
            errors = unapplied_values(filterset, data)
        if errors:
            raise CommandError(
                "; ".join(
                    f"{FILTER_OPTIONS.get(name, 'filters')}: {' '.join(map(str, messages))}"
                    for name, messages in errors.items()
                )
            )
        return filterset.qs


def parse_columns(value: str | None) -> list[str] | None:
    if value is None:
        return None
    keys = [key.strip() for key in value.split(",") if key.strip()]
    unknown = [key for key in keys if key not in COLUMNS_BY_KEY]
    if unknown or not keys:
        raise CommandError(
            f"--columns: unknown column {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(COLUMNS_BY_KEY)}."
        )
    return list(dict.fromkeys(keys))
