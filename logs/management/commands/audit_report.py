"""``audit_report``: the former name of the ``insights`` command, kept for existing scripts and
schedules; the same options, the same output."""

from logs.management.commands.insights import Command as InsightsCommand


class Command(InsightsCommand):
    help = f"Former name of the insights command. {InsightsCommand.help}"
