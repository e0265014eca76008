"""Create or refresh the four role groups and their permissions (idempotent)."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from logs.roles import apply_roles


class Command(BaseCommand):
    help = (
        "Create the role groups (Audit Reader, Audit Exporter, Compliance Administrator, "
        "Ingestion Service) and set each one's permissions to exactly what the role needs."
    )

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                changes = apply_roles(Group, Permission)
        except LookupError as error:
            raise CommandError(str(error)) from error
        for change in changes:
            if change.created:
                self.stdout.write(f"{change.role}: created")
            for name in change.added:
                self.stdout.write(f"{change.role}: granted {name}")
            for name in change.removed:
                self.stdout.write(f"{change.role}: withdrew {name}")
        changed = sum(change.changed for change in changes)
        summary = f"{len(changes)} roles checked, {changed} changed."
        self.stdout.write(self.style.SUCCESS(summary) if changed else summary)
