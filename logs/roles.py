"""The portal's four roles (docs/auditors/roles.md) as Django groups: one definition for the
data migration and for ``setup_roles``.

Each role lists exactly the permissions it needs. No role holds ``change`` or ``delete`` on an
audit record: events leave the database only through retention (``purge_auditevent``).
"""

from dataclasses import dataclass, field

AUDIT_READER = "Audit Reader"
AUDIT_EXPORTER = "Audit Exporter"
COMPLIANCE_ADMINISTRATOR = "Compliance Administrator"
INGESTION_SERVICE = "Ingestion Service"

# Viewing an event means viewing everything that makes up its detail page and the reports.
_READ = (
    "logs.view_auditevent",
    "logs.view_target",
    "logs.view_modifiedproperty",
    "logs.view_annotation",
    "logs.view_service",
    "logs.view_category",
    "logs.view_activity",
    "logs.view_initiator",
    "logs.view_importbatch",
    "logs.view_legalhold",
    "logs.view_legalholdrelease",
    # Whether collection runs: an auditor sees each source's health.
    "logs.view_collectionsource",
)
_EXPORT = ("logs.export_auditevent",)
_ADMINISTER = (
    "logs.add_annotation",
    "logs.add_legalhold",
    "logs.add_legalholdrelease",
    "logs.purge_auditevent",
    "logs.view_accessrecord",
    # Continuous collection is configured in the admin by a Compliance Administrator.
    "logs.add_collectionsource",
    "logs.change_collectionsource",
    "logs.delete_collectionsource",
)
_INGEST = ("logs.ingest_auditevent",)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    AUDIT_READER: _READ,
    AUDIT_EXPORTER: _READ + _EXPORT,
    COMPLIANCE_ADMINISTRATOR: _READ + _EXPORT + _ADMINISTER,
    INGESTION_SERVICE: _INGEST,
}


@dataclass
class RoleChange:
    """What ``apply_roles`` did to one group, so ``setup_roles`` can say it."""

    role: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed)


def apply_roles(group_model, permission_model, *, only_existing=False) -> list[RoleChange]:
    """Create each role's group and make its permissions exactly the listed ones.

    Takes the models as arguments so the data migrations can pass their historical models.
    Permissions the role should not hold are removed, so a hand-edited group is put back.
    ``only_existing`` leaves out permissions whose model a migration has not created yet (the
    migration that creates it grants them); otherwise a missing permission is an error.
    """
    changes = []
    for role, wanted_names in ROLE_PERMISSIONS.items():
        wanted_by_pk = {}
        for name in wanted_names:
            try:
                wanted_by_pk[_permission(permission_model, name).pk] = name
            except LookupError:
                if not only_existing:
                    raise
        group, created = group_model.objects.get_or_create(name=role)
        held = {
            permission.pk: permission
            for permission in group.permissions.select_related("content_type")
        }
        change = RoleChange(role=role, created=created)
        to_add = [pk for pk in wanted_by_pk if pk not in held]
        to_remove = [pk for pk in held if pk not in wanted_by_pk]
        if to_add:
            group.permissions.add(*to_add)
            change.added = sorted(wanted_by_pk[pk] for pk in to_add)
        if to_remove:
            group.permissions.remove(*to_remove)
            change.removed = sorted(
                f"{held[pk].content_type.app_label}.{held[pk].codename}" for pk in to_remove
            )
        changes.append(change)
    return changes


def _permission(permission_model, dotted_name: str):
    app_label, codename = dotted_name.split(".", 1)
    try:
        return permission_model.objects.get(content_type__app_label=app_label, codename=codename)
    except permission_model.DoesNotExist:
        raise LookupError(
            f"Permission {dotted_name} does not exist; run 'manage.py migrate' first."
        ) from None
