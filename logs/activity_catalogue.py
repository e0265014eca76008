"""Real Entra audit activities: the names, services, categories, operation types, target types and
modified-property names that Entra writes, as listed in Microsoft's "Microsoft Entra audit log
activity reference" and seen in published records (fixtures/SOURCES.md).

Used to generate realistic demo data; the compliance answers keep their own documented mapping.
"""

from dataclasses import dataclass

SUBSTRATE_DISPLAY_NAME = "Microsoft Substrate Management"
SUBSTRATE_APP_ID = "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"

CORE = "Core Directory"
SSPR = "Self-service Password Management"


@dataclass(frozen=True)
class ActivityEntry:
    service: str
    category: str
    activity: str
    operation_type: str
    target_type: str
    modified_properties: tuple[str, ...] = ()


# Names, services and categories checked against Microsoft's "Microsoft Entra audit log activity
# reference", MicrosoftDocs/entra-docs docs/identity/monitoring-health/reference-audit-activities.md
# at commit 092dd5c10f0a9862e46feda3d47f705ea1586303 (sections "Core Directory" and "Self-service
# password management"). Membership and ownership records put the member or owner first in
# targetResources, with the group, role or application in Group.*, Role.* or Application.*
# modified properties; that first target is the one generated here.
CATALOGUE = [
    ActivityEntry(CORE, "UserManagement", "Add user", "Add", "User",
                  ("AccountEnabled", "DisplayName", "UserPrincipalName", "UserType",
                   "Included Updated Properties")),
    ActivityEntry(CORE, "UserManagement", "Update user", "Update", "User",
                  ("Department", "JobTitle", "Included Updated Properties")),
    ActivityEntry(CORE, "UserManagement", "Delete user", "Delete", "User"),
    ActivityEntry(CORE, "UserManagement", "Change user password", "Update", "User"),
    ActivityEntry(CORE, "UserManagement", "Reset password", "Update", "User"),
    ActivityEntry(CORE, "UserManagement", "Set force change user password", "Update", "User"),
    ActivityEntry(CORE, "UserManagement", "Change user license", "Update", "User",
                  ("AssignedLicense", "AssignedPlan")),
    ActivityEntry(CORE, "UserManagement", "Disable account", "Update", "User",
                  ("AccountEnabled",)),
    ActivityEntry(SSPR, "UserManagement", "Reset password (self-service)", "Update", "User"),
    ActivityEntry(SSPR, "UserManagement", "Change password (self-service)", "Update", "User"),
    ActivityEntry(SSPR, "UserManagement", "Reset password (by admin)", "Update", "User"),
    ActivityEntry(CORE, "GroupManagement", "Add group", "Add", "Group",
                  ("DisplayName", "GroupType", "MailEnabled", "SecurityEnabled")),
    ActivityEntry(CORE, "GroupManagement", "Update group", "Update", "Group",
                  ("Description", "Included Updated Properties")),
    ActivityEntry(CORE, "GroupManagement", "Delete group", "Delete", "Group"),
    ActivityEntry(CORE, "GroupManagement", "Add member to group", "Assign", "User",
                  ("Group.ObjectID", "Group.DisplayName", "Group.WellKnownObjectName")),
    ActivityEntry(CORE, "GroupManagement", "Remove member from group", "Unassign", "User",
                  ("Group.ObjectID", "Group.DisplayName", "Group.WellKnownObjectName")),
    ActivityEntry(CORE, "GroupManagement", "Add owner to group", "Assign", "User",
                  ("Group.ObjectID", "Group.DisplayName", "Group.WellKnownObjectName")),
    ActivityEntry(CORE, "GroupManagement", "Remove owner from group", "Unassign", "User",
                  ("Group.ObjectID", "Group.DisplayName", "Group.WellKnownObjectName")),
    ActivityEntry(CORE, "GroupManagement", "Set group license", "Assign", "Group",
                  ("AssignedLicense",)),
    ActivityEntry(CORE, "ApplicationManagement", "Add application", "Add", "Application",
                  ("AppAddress", "AppId", "DisplayName", "Included Updated Properties")),
    ActivityEntry(CORE, "ApplicationManagement", "Update application", "Update", "Application",
                  ("DisplayName", "Included Updated Properties")),
    ActivityEntry(CORE, "ApplicationManagement", "Delete application", "Delete", "Application"),
    ActivityEntry(CORE, "ApplicationManagement", "Add service principal", "Add",
                  "ServicePrincipal", ("AccountEnabled", "AppPrincipalId", "DisplayName",
                                       "ServicePrincipalName", "Included Updated Properties")),
    ActivityEntry(CORE, "ApplicationManagement", "Update service principal", "Update",
                  "ServicePrincipal", ("Included Updated Properties",
                                       "TargetId.ServicePrincipalNames")),
    ActivityEntry(CORE, "ApplicationManagement", "Remove service principal", "Delete",
                  "ServicePrincipal"),
    ActivityEntry(CORE, "ApplicationManagement", "Add owner to application", "Assign", "User",
                  ("Application.ObjectID", "Application.DisplayName")),
    ActivityEntry(CORE, "ApplicationManagement", "Consent to application", "Assign",
                  "ServicePrincipal",
                  ("ConsentContext.IsAdminConsent", "ConsentContext.IsAppOnly",
                   "ConsentContext.OnBehalfOfAll", "ConsentAction.Permissions")),
    ActivityEntry(CORE, "RoleManagement", "Add member to role", "Assign", "User",
                  ("Role.ObjectID", "Role.DisplayName", "Role.TemplateId",
                   "Role.WellKnownObjectName")),
    ActivityEntry(CORE, "RoleManagement", "Remove member from role", "Unassign", "User",
                  ("Role.ObjectID", "Role.DisplayName", "Role.TemplateId",
                   "Role.WellKnownObjectName")),
    ActivityEntry(CORE, "Policy", "Add policy", "Add", "Policy"),
    ActivityEntry(CORE, "Policy", "Update policy", "Update", "Policy"),
    ActivityEntry(CORE, "DirectoryManagement", "Update company settings", "Update", "Directory"),
    ActivityEntry(CORE, "Device", "Add device", "Add", "Device"),
    ActivityEntry(CORE, "Device", "Delete device", "Delete", "Device"),
]  # fmt: skip

# Exchange Online writes recipient changes back to Entra as these create/update/delete entries.
SUBSTRATE_WRITE_BACKS = [
    entry
    for entry in CATALOGUE
    if entry.service == CORE
    and entry.category in {"UserManagement", "GroupManagement"}
    and entry.activity in {"Add user", "Update user", "Delete user", "Add group", "Update group",
                           "Delete group"}
]  # fmt: skip
