from django.core.management.base import BaseCommand, CommandError

from logs.access_trail import operating_system_user
from logs.filters import AuditEventFilterSet
from logs.models import LegalHold
from logs.retention.holds import HoldError, covered_events, place_hold, release_hold

# FilterSet parameter → its option, as export_audit_logs names them. All of them: the two a
# hold cannot take (--period, --ordering) are refused with the reason.
FILTER_OPTIONS = {name: "--" + name.replace("_", "-") for name in AuditEventFilterSet.base_filters}


class Command(BaseCommand):
    help = (
        "Legal holds: keep events from retention while litigation or an investigation needs "
        "them. 'add NAME --reason TEXT' with the export's filter options or --event-id places "
        "a hold; 'release NAME --reason TEXT' ends it; 'list' shows every hold."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="add|release|list", required=True)
        add = actions.add_parser("add", help="place a hold")
        add.add_argument("name", help="the hold's name (never reused)")
        add.add_argument("--reason", required=True, help="why the events must be kept")
        add.add_argument(
            "--event-id",
            dest="event_ids",
            action="extend",
            nargs="+",
            default=[],
            metavar="ID",
            help="hold the events with these Entra activity ids (instead of filters)",
        )
        filters = add.add_argument_group("filters (as export_audit_logs takes them)")
        for name, option in FILTER_OPTIONS.items():
            filter_ = AuditEventFilterSet.base_filters[name]
            help_text = filter_.extra.get("help_text") or filter_.label or name
            filters.add_argument(option, dest=f"filter_{name}", metavar="VALUE", help=help_text)
        release = actions.add_parser("release", help="release a hold")
        release.add_argument("name", help="the hold's name")
        release.add_argument("--reason", required=True, help="why the events need not be kept")
        actions.add_parser("list", help="every hold, active and released")

    def handle(self, *args, action, **options):
        try:
            if action == "add":
                self.add(options)
            elif action == "release":
                self.release(options)
            else:
                self.list()
        except HoldError as error:
            raise CommandError(self.explain(error)) from None

    def add(self, options):
        filters = {
            name: options[f"filter_{name}"]
            for name in FILTER_OPTIONS
            if options.get(f"filter_{name}") is not None
        }
        hold = place_hold(
            options["name"],
            reason=options["reason"],
            filters=filters,
            event_ids=options["event_ids"],
            username=operating_system_user(),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Legal hold {hold.name!r} placed ({hold.coverage_text()}): it covers "
                f"{hold.covered_now} stored events."
            )
        )
        if hold.event_ids and hold.covered_now < len(hold.event_ids):
            missing = len(hold.event_ids) - hold.covered_now
            self.stdout.write(
                f"{missing} of the listed ids are not stored (yet): they are held once imported."
            )

    def release(self, options):
        release = release_hold(
            options["name"], reason=options["reason"], username=operating_system_user()
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Legal hold {release.hold.name!r} released: the next retention run treats its "
                "events normally."
            )
        )

    def list(self):
        holds = LegalHold.objects.select_related("release").order_by("placed_at", "id")
        if not holds:
            self.stdout.write("No legal holds.")
            return
        for hold in holds:
            placed = f"placed {hold.placed_at:%Y-%m-%d %H:%M} UTC by {hold.placed_by or '?'}"
            if hold.is_active:
                status = f"active, covers {covered_events(hold).count()} stored events"
            else:
                release = hold.release
                status = (
                    f"released {release.released_at:%Y-%m-%d %H:%M} UTC by "
                    f"{release.released_by or '?'}: {release.reason}"
                )
            self.stdout.write(
                f"{hold.name}: {status}; {hold.coverage_text()}; {placed}: {hold.reason}"
            )

    @staticmethod
    def explain(error: HoldError) -> str:
        """The error with each filter named as its option."""
        names = {**FILTER_OPTIONS, "event_ids": "--event-id", "reason": "--reason"}
        return "; ".join(
            f"{names.get(field, field)}: {' '.join(map(str, messages))}"
            for field, messages in error.errors.items()
        )
