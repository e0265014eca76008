"""Which management command is running, for the access trail.

``manage.py`` sets it for the whole run of every command, so that what a command changes outside
a request (a password set by ``changepassword``, a superuser made by ``createsuperuser``, a
change made in ``shell``) is recorded under the operating-system user who ran it; a command of
ours may name itself more precisely around what it does. Kept apart from ``logs.access_trail``
because ``manage.py`` needs it before Django is set up.
"""

import contextvars
from contextlib import contextmanager

_current_command = contextvars.ContextVar("auditportal_trail_command", default=None)


def current_command() -> str | None:
    """The name of the management command running on this thread or task, or None."""
    return _current_command.get()


@contextmanager
def run_by_command(name: str):
    """What is recorded meanwhile outside a request is recorded as done by the operating-system
    user running ``manage.py name``."""
    token = _current_command.set(name)
    try:
        yield
    finally:
        _current_command.reset(token)
