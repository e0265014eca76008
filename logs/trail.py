"""The portal's own audit trail: one AccessRecord per thing a person or a service did to it.

``record_access`` writes a record; everything that leaves one calls it (exports, the commands,
the receivers below). The receivers cover what happens inside Django rather than in our views:

- sign-in and failed sign-in (``user_logged_in``, ``user_login_failed``): the user name tried,
  address and user agent; never the password;
- role membership (``m2m_changed`` on ``User.groups``, from either side, ``clear()`` included,
  and a user or group deleted with its memberships): which members, which groups, added or
  removed, and who did it;
- API tokens (knox ``AuthToken`` saved or deleted): created, revoked, or deleted by knox itself
  because it expired.

Signals carry no request, so ``TrailRequestMiddleware`` keeps the current one in a context
variable: a change made through the admin is recorded with the administrator who made it and
the address it came from. A change made by a management command inside ``run_by_command`` is
recorded under the operating-system user who ran it, with the command's name; one made
elsewhere outside a request (the shell) is recorded without a user.
"""

import contextvars
import getpass
import ipaddress
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone

from logs.models import AccessRecord

Action = AccessRecord.Action

USERNAME_LENGTH = AccessRecord._meta.get_field("username").max_length
# A user agent is whatever the client sends; a bounded prefix is all the trail needs.
USER_AGENT_LENGTH = 1000

_current_request = contextvars.ContextVar("auditportal_trail_request", default=None)
_current_command = contextvars.ContextVar("auditportal_trail_command", default=None)
# ``record_access``'s default user: whoever is signed in on the request.
REQUEST_USER = object()


def current_request():
    """The request being served on this thread or task, or None outside one."""
    return _current_request.get()


class TrailRequestMiddleware:
    """Makes the current request known to the trail's signal receivers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


@contextmanager
def run_by_command(name: str):
    """What is recorded meanwhile outside a request (a role given by ``create_user``, through
    the receivers below) is recorded as done by the operating-system user running ``name``."""
    token = _current_command.set(name)
    try:
        yield
    finally:
        _current_command.reset(token)


def record_access(
    action: str,
    *,
    user=REQUEST_USER,
    request=None,
    username: str | None = None,
    detail: dict | None = None,
    row_count: int | None = None,
) -> AccessRecord:
    """Write one AccessRecord.

    ``user`` is who acted: by default the signed-in user of ``request`` (or of the current
    request), None for nobody. ``username`` defaults to that user's; give it when there is no
    user account (a failed sign-in, a command run by an operating-system user).
    """
    if request is None:
        request = current_request()
    command = _current_command.get() if request is None else None
    if command is not None and user is REQUEST_USER:
        user = None
        username = operating_system_user() if username is None else username
        detail = {**(detail or {}), "via": f"manage.py {command}"}
    if user is REQUEST_USER:
        request_user = getattr(request, "user", None)
        user = request_user if request_user is not None and request_user.is_authenticated else None
    if username is None:
        username = user.get_username() if user is not None else ""
    meta = request.META if request is not None else {}
    return AccessRecord.objects.create(
        user=user,
        username=username[:USERNAME_LENGTH],
        action=action,
        detail=detail or {},
        row_count=row_count,
        remote_address=_ip_address(meta.get("REMOTE_ADDR")),
        # PostgreSQL stores no null character in text; a client may send one all the same.
        user_agent=meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH].replace("\x00", "\\x00"),
    )


def operating_system_user() -> str:
    """Who ran a management command: the only name there is outside a request."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""


def _ip_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


# -- sign-in -------------------------------------------------------------------------------
def record_sign_in(sender, request, user, **kwargs):
    record_access(Action.SIGN_IN, user=user, request=request)


def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in ``credentials``; only the name is kept.
    attempted = str(credentials.get(get_user_model().USERNAME_FIELD, ""))
    record_access(Action.SIGN_IN_FAILED, user=None, request=request, username=attempted)


# -- role membership -----------------------------------------------------------------------
def record_group_membership(sender, instance, action, reverse, model, pk_set, **kwargs):
    """One record per membership change, whichever side it was made from."""
    if action == "pre_clear":
        # After the clear the members are gone; remember who they were.
        instance._trail_cleared = list(
            instance.user_set.all() if reverse else instance.groups.all()
        )
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        others = getattr(instance, "_trail_cleared", [])
        del instance._trail_cleared
    else:
        others = list(model.objects.filter(pk__in=pk_set or ()))
    if not others:
        return
    if reverse:  # group.user_set.add(...): the instance is the group
        groups, members = [instance], others
    else:  # user.groups.add(...): the instance is the user
        groups, members = others, [instance]
    change = "added" if action == "post_add" else "removed"
    _record_membership(change, members, groups)


def record_memberships_deleted(sender, instance, **kwargs):
    """Deleting a user or a group drops its memberships without ``m2m_changed``."""
    if isinstance(instance, Group):
        groups, members = [instance], list(instance.user_set.all())
    else:
        groups, members = list(instance.groups.all()), [instance]
    if groups and members:
        kind = "group" if isinstance(instance, Group) else "user"
        _record_membership("removed", members, groups, reason=f"{kind} deleted")


def _record_membership(change: str, members, groups, **extra) -> None:
    record_access(
        Action.ROLE,
        detail={
            "change": change,
            "members": sorted(member.get_username() for member in members),
            "groups": sorted(group.name for group in groups),
            **extra,
        },
        row_count=len(members) * len(groups),
    )


# -- API tokens ----------------------------------------------------------------------------
def record_token_created(sender, instance, created, **kwargs):
    if created and not kwargs.get("raw"):
        record_access(Action.TOKEN, detail={"change": "created", **_token_detail(instance)})


def record_token_deleted(sender, instance, **kwargs):
    expired = instance.expiry is not None and instance.expiry <= timezone.now()
    record_access(
        Action.TOKEN,
        detail={"change": "expired" if expired else "revoked", **_token_detail(instance)},
    )


def _token_detail(token) -> dict:
    owner = get_user_model().objects.filter(pk=token.user_id).first()
    return {
        "token_user": owner.get_username() if owner is not None else "",
        "token_prefix": token.token_key,
        "expiry": token.expiry.isoformat() if token.expiry else None,
    }


def connect_receivers() -> None:
    """Called once from LogsConfig.ready()."""
    from knox.models import get_token_model

    token_model = get_token_model()
    user_logged_in.connect(record_sign_in, dispatch_uid="trail_sign_in")
    user_login_failed.connect(record_failed_sign_in, dispatch_uid="trail_sign_in_failed")
    m2m_changed.connect(
        record_group_membership,
        sender=get_user_model().groups.through,
        dispatch_uid="trail_group_membership",
    )
    pre_delete.connect(
        record_memberships_deleted, sender=get_user_model(), dispatch_uid="trail_user_deleted"
    )
    pre_delete.connect(record_memberships_deleted, sender=Group, dispatch_uid="trail_group_deleted")
    post_save.connect(record_token_created, sender=token_model, dispatch_uid="trail_token_save")
    post_delete.connect(record_token_deleted, sender=token_model, dispatch_uid="trail_token_delete")
