"""The access trail, the portal's own audit trail: one AccessRecord per thing a person or a
service did to it.

``record_access`` writes a record; everything that leaves one calls it (exports, the commands,
the receivers below). The receivers cover what happens inside Django rather than in our views:

- sign-in and failed sign-in (``user_logged_in``, ``user_login_failed``): the user name tried,
  address and user agent; never the password;
- role membership (``m2m_changed`` on ``User.groups``, from either side, ``clear()`` included,
  and a user or group deleted with its memberships): which members, which groups, added or
  removed, and who did it;
- direct permissions (``m2m_changed`` on ``User.user_permissions``, from either side, the same
  way): which users, which permissions (``app_label.codename``), granted or withdrawn;
- accounts (``pre_save``/``post_save`` on the user model, compared with the stored row): an
  account created with its flags, a change of ``is_superuser``, ``is_staff`` or ``is_active``
  (old and new value), of the user name, or of the password (that it changed: never the
  password or its hash), and an account deleted;
- API tokens (knox ``AuthToken`` saved or deleted): created, revoked, or deleted by knox itself
  because it expired. A password change or a deactivation revokes all of the user's tokens,
  each revocation recorded with that reason.

Changes made by ``QuerySet.update()`` or raw SQL send no signal and are not recorded here.

Signals carry no request, so ``TrailRequestMiddleware`` keeps the current one in a context
variable: a change made through the admin is recorded with the administrator who made it and
the address it came from. A change made by a management command (``manage.py`` runs every
command inside ``run_by_command``, see ``logs.command_context``) is recorded under the
operating-system user who ran it, with the command's name; one made elsewhere outside a request
(code that does not go through ``manage.py``) is recorded without a user.
"""

import contextvars
import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, is_password_usable
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from logs.client_address import client_address
from logs.command_context import current_command
from logs.models import AccessRecord

Action = AccessRecord.Action

USERNAME_LENGTH = AccessRecord._meta.get_field("username").max_length
# A user agent is whatever the client sends; a bounded prefix is all the trail needs.
USER_AGENT_LENGTH = 1000

_current_request = contextvars.ContextVar("auditportal_trail_request", default=None)
# Why the tokens being deleted now are revoked, when the portal revokes them itself.
_revocation_reason = contextvars.ContextVar("auditportal_trail_revocation", default=None)
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
    command = current_command() if request is None else None
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
        remote_address=client_address(request) if request is not None else None,
        # PostgreSQL stores no null character in text; a client may send one all the same.
        user_agent=meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH].replace("\x00", "\\x00"),
    )


def operating_system_user() -> str:
    """Who ran a management command: the only name there is outside a request."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""


# -- sign-in -------------------------------------------------------------------------------
def record_sign_in(sender, request, user, **kwargs):
    record_access(Action.SIGN_IN, user=user, request=request)


def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in ``credentials``; only the name is kept.
    attempted = str(credentials.get(get_user_model().USERNAME_FIELD, ""))
    record_access(Action.SIGN_IN_FAILED, user=None, request=request, username=attempted)


# -- role membership -----------------------------------------------------------------------
def _m2m_change(instance, action, reverse, model, pk_set, forward: str):
    """``(change, others)`` for an ``m2m_changed`` signal of a user's relation ``forward``
    (``groups``, ``user_permissions``), sent from the user's side or, ``reverse``, from the
    other one (``user_set``); None when there is nothing to record. ``others`` are the rows
    on the other side of the instance that were added or removed."""
    if action == "pre_clear":
        # After the clear the rows are gone; remember which they were.
        instance._trail_cleared = list(
            instance.user_set.all() if reverse else getattr(instance, forward).all()
        )
        return None
    if action not in ("post_add", "post_remove", "post_clear"):
        return None
    if action == "post_clear":
        others = instance.__dict__.pop("_trail_cleared", [])
    else:
        others = list(model.objects.filter(pk__in=pk_set or ()))
    if not others:
        return None
    return ("added" if action == "post_add" else "removed"), others


def record_group_membership(sender, instance, action, reverse, model, pk_set, **kwargs):
    """One record per membership change, whichever side it was made from."""
    changed = _m2m_change(instance, action, reverse, model, pk_set, "groups")
    if changed is None:
        return
    change, others = changed
    if reverse:  # group.user_set.add(...): the instance is the group
        groups, members = [instance], others
    else:  # user.groups.add(...): the instance is the user
        groups, members = others, [instance]
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


# -- direct permissions --------------------------------------------------------------------
def record_direct_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    """One record per change of a user's own permissions (not a role's), from either side."""
    changed = _m2m_change(instance, action, reverse, model, pk_set, "user_permissions")
    if changed is None:
        return
    change, others = changed
    if reverse:  # permission.user_set.add(...): the instance is the permission
        permissions, holders = [instance], others
    else:  # user.user_permissions.add(...): the instance is the user
        permissions, holders = others, [instance]
    _record_permissions(change, holders, permissions)


def record_direct_permissions_deleted(sender, instance, **kwargs):
    """Deleting a user or a permission drops direct grants without ``m2m_changed``."""
    if isinstance(instance, Permission):
        holders, permissions = list(instance.user_set.all()), [instance]
    else:
        holders, permissions = [instance], list(instance.user_permissions.all())
    if holders and permissions:
        kind = "permission" if isinstance(instance, Permission) else "user"
        _record_permissions("removed", holders, permissions, reason=f"{kind} deleted")


def _record_permissions(change: str, holders, permissions, **extra) -> None:
    record_access(
        Action.PERMISSION,
        detail={
            "change": change,
            "members": sorted(holder.get_username() for holder in holders),
            "permissions": sorted(_permission_name(permission) for permission in permissions),
            **extra,
        },
        row_count=len(holders) * len(permissions),
    )


def _permission_name(permission) -> str:
    """``app_label.codename``, the name ``has_perm`` takes."""
    return f"{permission.content_type.app_label}.{permission.codename}"


# -- accounts ------------------------------------------------------------------------------
# What an auditor of the portal's own users must see change. The password is compared only to
# know that it changed; neither it nor its hash is ever recorded.
ACCOUNT_FLAGS = ("is_superuser", "is_staff", "is_active")
ACCOUNT_FIELDS = ("password", *ACCOUNT_FLAGS)


def remember_stored_account(sender, instance, raw=False, using=None, update_fields=None, **kw):
    """Before a user is saved, read the stored row to compare with after the save.

    Reading the row (rather than trusting what the instance was loaded with) catches every path:
    the admin's forms, ``set_password()`` then ``save()``, ``changepassword``, a stale instance.
    A save naming only other fields (the ``last_login`` of each sign-in) is not looked at.
    """
    instance._trail_stored = None
    if raw or instance.pk is None:
        return
    fields = [sender.USERNAME_FIELD, *ACCOUNT_FIELDS]
    if update_fields is not None:  # only these are written: an unsaved change elsewhere is not
        fields = [field for field in fields if field in update_fields]
    if fields:
        stored = sender._base_manager.using(using).filter(pk=instance.pk).values(*fields)
        instance._trail_stored = stored.first()


def record_account_saved(sender, instance, created, raw=False, **kwargs):
    """Record the account's creation or what changed in it; a password change or a deactivation
    revokes all of the user's API tokens."""
    stored = getattr(instance, "_trail_stored", None)
    instance._trail_stored = None
    if raw:
        return
    name = instance.get_username()
    if created:
        flags = {flag: getattr(instance, flag) for flag in ACCOUNT_FLAGS}
        record_access(Action.ACCOUNT, detail={"change": "created", "members": [name], **flags})
        return
    if stored is None:  # a save of other fields only: nothing watched can have changed
        return
    changes = {}
    for field in (sender.USERNAME_FIELD, *ACCOUNT_FLAGS):
        if field in stored and stored[field] != getattr(instance, field):
            changes[field] = {"old": stored[field], "new": getattr(instance, field)}
    password_changed = "password" in stored and _password_changed(stored["password"], instance)
    if password_changed:
        changes["password"] = "changed"
    if not changes:
        return
    record_access(Action.ACCOUNT, detail={"change": "changed", "members": [name], **changes})
    if password_changed:
        revoke_tokens(instance, "password changed")
    elif "is_active" in changes and not instance.is_active:
        revoke_tokens(instance, "user deactivated")


def _password_changed(stored_hash: str, instance) -> bool:
    """Whether the password itself changed, not just how it is stored.

    Django rehashes a password on sign-in when its hasher's parameters change; that upgrade
    keeps the password and is not a change. It is the only save where the hash changes from one
    that must be updated to the preferred hasher without ``set_password`` keeping the new raw
    password for the validators (``_password``), as Django's own upgrade clears it.
    """
    new_hash = instance.password
    if new_hash == stored_hash:
        return False
    if getattr(instance, "_password", None) is not None:
        return True  # set_password(): a password was given
    return not _is_hash_upgrade(stored_hash, new_hash)


def _is_hash_upgrade(stored_hash: str, new_hash: str) -> bool:
    if not (is_password_usable(stored_hash) and is_password_usable(new_hash)):
        return False
    try:
        old_hasher, new_hasher = identify_hasher(stored_hash), identify_hasher(new_hash)
    except ValueError:
        return False
    preferred = get_hasher()
    if new_hasher.algorithm != preferred.algorithm or new_hasher.must_update(new_hash):
        return False
    return old_hasher.algorithm != preferred.algorithm or old_hasher.must_update(stored_hash)


def record_account_deleted(sender, instance, **kwargs):
    record_access(
        Action.ACCOUNT, detail={"change": "deleted", "members": [instance.get_username()]}
    )


def revoke_tokens(user, reason: str) -> int:
    """Delete all of ``user``'s API tokens, each revocation recorded with ``reason``."""
    from knox.models import get_token_model

    token = _revocation_reason.set(reason)
    try:
        deleted, _ = get_token_model().objects.filter(user=user).delete()
    finally:
        _revocation_reason.reset(token)
    return deleted


# -- API tokens ----------------------------------------------------------------------------
def record_token_created(sender, instance, created, **kwargs):
    if created and not kwargs.get("raw"):
        record_access(Action.TOKEN, detail={"change": "created", **_token_detail(instance)})


def record_token_deleted(sender, instance, **kwargs):
    expired = instance.expiry is not None and instance.expiry <= timezone.now()
    detail = {"change": "expired" if expired else "revoked", **_token_detail(instance)}
    reason = _revocation_reason.get()
    if reason is not None:
        detail["reason"] = reason
    record_access(Action.TOKEN, detail=detail)


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
    m2m_changed.connect(
        record_direct_permissions,
        sender=get_user_model().user_permissions.through,
        dispatch_uid="trail_direct_permissions",
    )
    pre_delete.connect(
        record_direct_permissions_deleted,
        sender=get_user_model(),
        dispatch_uid="trail_user_permissions_deleted",
    )
    pre_delete.connect(
        record_direct_permissions_deleted,
        sender=Permission,
        dispatch_uid="trail_permission_deleted",
    )
    pre_save.connect(
        remember_stored_account, sender=get_user_model(), dispatch_uid="trail_account_before"
    )
    post_save.connect(
        record_account_saved, sender=get_user_model(), dispatch_uid="trail_account_saved"
    )
    pre_delete.connect(
        record_account_deleted, sender=get_user_model(), dispatch_uid="trail_account_deleted"
    )
    post_save.connect(record_token_created, sender=token_model, dispatch_uid="trail_token_save")
    post_delete.connect(record_token_deleted, sender=token_model, dispatch_uid="trail_token_delete")
