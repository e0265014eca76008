"""``collection_source add|list|remove``: configure where ``collect_audit_logs`` collects from.

A source names the environment variable or the file that holds its secret; the secret itself is
never given on the command line (it would sit in the shell's history and in ``ps``), never
stored in the database and never printed.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from logs.access_trail import record_access
from logs.collection.health import describe, health, lag
from logs.collection.sources import DEFAULT_CONTAINER, SourceConfigError, validate
from logs.command_context import run_by_command
from logs.models import AccessRecord, CollectionSource

KIND_OPTIONS = {
    "entra": ["tenant_id", "client_id", "client_secret_env", "certificate_path",
              "certificate_password_env", "url"],
    "graph": ["url", "token_env"],
    "storage": ["account_url", "credential_env", "container", "tenant_id"],
}  # fmt: skip


class Command(BaseCommand):
    help = "Add, list or remove the sources collect_audit_logs collects from."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser(
            "add",
            help="add a source",
            description="entra: --tenant-id ID --client-id ID (--client-secret-env VAR | "
            "--certificate PATH); graph: --url BASE_URL --token-env VAR; storage: "
            "--account-url URL --credential-env VAR [--container NAME]",
        )
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=CollectionSource.Kind.values)
        add.add_argument("--tenant-id", default="", help="entra: the directory (tenant) id; "
                         "storage: only this tenant's blobs")  # fmt: skip
        add.add_argument("--client-id", default="", help="entra: the app registration's id")
        add.add_argument(
            "--client-secret-env", default="", metavar="VAR",
            help="entra: the environment variable holding the client secret",
        )  # fmt: skip
        add.add_argument(
            "--certificate", dest="certificate_path", default="", metavar="PATH",
            help="entra: a PEM or PKCS12 file with the certificate and its private key",
        )  # fmt: skip
        add.add_argument(
            "--certificate-password-env", default="", metavar="VAR",
            help="entra: the environment variable holding the certificate file's password",
        )  # fmt: skip
        add.add_argument(
            "--url", default="", metavar="BASE_URL",
            help="graph: the endpoint's base URL (https://host/graph/v1.0); entra: a national "
            "cloud's Graph (default https://graph.microsoft.com/v1.0)",
        )  # fmt: skip
        add.add_argument(
            "--token-env", default="", metavar="VAR",
            help="graph: the environment variable holding the bearer token",
        )  # fmt: skip
        add.add_argument(
            "--account-url", default="", metavar="URL",
            help="storage: https://ACCOUNT.blob.core.windows.net",
        )  # fmt: skip
        add.add_argument(
            "--credential-env", default="", metavar="VAR",
            help="storage: the environment variable holding the account key, a SAS token or a "
            "connection string",
        )  # fmt: skip
        add.add_argument("--container", default=DEFAULT_CONTAINER)
        add.add_argument("--disabled", action="store_true", help="add it without collecting")
        actions.add_parser("list", help="list the sources and their health")
        remove = actions.add_parser(
            "remove", help="remove a source (its runs and the events they stored stay)"
        )
        remove.add_argument("name")

    def handle(self, *args, action, **options):
        with run_by_command("collection_source"):
            if action == "add":
                self.add(options)
            elif action == "list":
                self.list()
            else:
                self.remove(options["name"])

    def add(self, options) -> None:
        kind = options["kind"]
        unused = [
            name
            for name in ("tenant_id", "client_id", "client_secret_env", "certificate_path",
                         "certificate_password_env", "url", "token_env", "account_url",
                         "credential_env")
            if options[name] and name not in KIND_OPTIONS[kind]
        ]  # fmt: skip
        if unused:
            named = ", ".join("--" + name.replace("_", "-") for name in unused)
            raise CommandError(f"A {kind} source takes no {named}.")
        fields = {name: options[name] for name in KIND_OPTIONS[kind]}
        if kind != "storage":
            fields.pop("container", None)
        source = CollectionSource(
            name=options["name"], kind=kind, enabled=not options["disabled"], **fields
        )
        try:
            validate(source)
            source.full_clean()
        except SourceConfigError as error:
            raise CommandError(str(error)) from None
        except Exception as error:  # ValidationError: a bad name or URL
            messages = getattr(error, "message_dict", {"": [str(error)]})
            raise CommandError(
                "; ".join(f"{field or 'source'}: {' '.join(m)}" for field, m in messages.items())
            ) from None
        with transaction.atomic():
            source.save()
            record_access(
                AccessRecord.Action.COLLECTION_SOURCE,
                detail={"change": "add", "source": source.name, "kind": kind,
                        "from": source.where(), "secret": source.secret_reference()},
            )  # fmt: skip
        self.stdout.write(
            f"Added {source.name} [{kind}]: {source.where()}; secret from "
            f"{source.secret_reference()}"
        )

    def list(self) -> None:
        sources = list(CollectionSource.objects.all())
        if not sources:
            self.stdout.write("No collection source (manage.py collection_source add).")
        for source in sources:
            state = health(source)
            age = lag(source)
            last = source.last_success_at.isoformat() if source.last_success_at else "never"
            self.stdout.write(
                f"{source.name} [{source.kind}{'' if source.enabled else ', disabled'}] "
                f"{source.where()}; secret from {source.secret_reference()}; last success "
                f"{last}; lag {describe(age) if age is not None else 'unknown'}; "
                f"{'OK' if state.healthy else 'UNHEALTHY: ' + state.problem}"
            )

    def remove(self, name: str) -> None:
        with transaction.atomic():
            deleted, _ = CollectionSource.objects.filter(name=name).delete()
            if not deleted:
                raise CommandError(f"No collection source named {name!r}.")
            record_access(
                AccessRecord.Action.COLLECTION_SOURCE,
                detail={"change": "remove", "source": name},
            )
        self.stdout.write(f"Removed {name}; its runs and the events they stored are kept.")
