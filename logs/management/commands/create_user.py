"""``manage.py create_user NAME --role ROLE``: a person (or service account) in one of the
portal's roles, with a password typed at a prompt or read from an environment variable, never
from the command line (where other users of the machine and the shell's history see it)."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from logs.command_context import run_by_command
from logs.roles import INGESTION_SERVICE, ROLE_PERMISSIONS


class Command(BaseCommand):
    help = (
        "Create a user in one of the portal's roles. The password is asked for twice, or read "
        "from the environment variable named by --password-env. The role given is recorded in "
        "the access trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            required=True,
            choices=list(ROLE_PERMISSIONS),
            help="the role (see docs/auditors/roles.md)",
        )
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the password from this environment variable instead of a prompt",
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, password_env, email, **options):
        users = get_user_model()
        # Everyone but an ingestion service uses the portal, which the admin's staff flag opens.
        staff = role != INGESTION_SERVICE
        email = users.objects.normalize_email(email)
        user = users(**{users.USERNAME_FIELD: username}, email=email, is_staff=staff)
        # The name and address checked as the admin's forms check them, before any query:
        # PostgreSQL refuses a NUL or a value longer than its column, where SQLite would keep
        # what no form could have made.
        try:
            user.clean_fields(exclude=["password"])
        except ValidationError as error:
            raise CommandError(_refusal(error)) from None
        if users.objects.filter(**{users.USERNAME_FIELD: username}).exists():
            raise CommandError(f"A user {username!r} exists already; nothing was changed.")
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise CommandError(f"The role {role!r} is missing: run 'manage.py setup_roles'.")
        password = self._password(password_env)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("The password was refused: " + " ".join(error.messages)) from None
        user.set_password(password)
        with transaction.atomic(), run_by_command("create_user"):
            user.save()
            user.groups.add(group)
        kind = "staff user" if user.is_staff else "user (no portal access: API tokens only)"
        self.stdout.write(self.style.SUCCESS(f"Created the {kind} {username!r} in {role!r}."))

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is not set or empty.")
            return password
        if not self.stdin_is_interactive():
            raise CommandError("No terminal to ask for the password: use --password-env VAR.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was created.")
        return password

    @staticmethod
    def stdin_is_interactive() -> bool:
        return os.isatty(0)


def _refusal(error: ValidationError) -> str:
    """One line naming each refused field and why; nothing was created."""
    reasons = "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
    )
    return f"The user was refused ({reasons}); nothing was created."
