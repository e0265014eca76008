#!/usr/bin/env python
"""Django's command-line utility for auditportal."""

import os
import sys
from pathlib import Path


def main():
    # After `python3 -m auditportal.quickstart serve`, its development settings (DEBUG and a
    # generated SECRET_KEY, in var/development.env), unless the environment sets its own.
    from auditportal.environment import load_development_env

    load_development_env(Path(__file__).resolve().parent / "var" / "development.env")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditportal.settings")
    from django.core.management import execute_from_command_line

    from logs.command_context import run_by_command

    # What a command changes outside a request (a password set by changepassword, a superuser
    # made by createsuperuser) is recorded in the access trail under the operating-system user.
    with run_by_command(sys.argv[1] if len(sys.argv) > 1 else "help"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
