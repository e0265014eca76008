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

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
