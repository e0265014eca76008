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
SSGM = "Self-service Group Management"


@dataclass(frozen=True)
class ActivityEntry:
    service: str
    category: str
    activity: str
    operation_type: str
    target_type: str
    modified_properties: tuple[str, ...] = ()


CATALOGUE = [
    ActivityEntry(CORE, "UserManagement", "Add user", "Add", "User",
                  ("AccountEnabled", "DisplayName", "UserPrincipalName", "UserType",
                   "Included Updated Properties")),
    ActivityEntry(CORE, "UserManagement", "Update user", "Update", "User",
                  ("Department", "JobTitle", "Included Updated Properties")),
    ActivityEntry(CORE, "UserManagement", "Delete user", "Delete", "User"),
    ActivityEntry(CORE, "UserManagement", "Change user password", "Update", "User"),
    ActivityEntry(CORE, "UserManagement", "Reset user password", "Update", "User"),
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
    ActivityEntry(CORE, "GroupManagement", "Add member to group", "Assign", "Group"),
    ActivityEntry(CORE, "GroupManagement", "Remove member from group", "Unassign", "Group"),
    ActivityEntry(CORE, "GroupManagement", "Add owner to group", "Assign", "Group"),
    ActivityEntry(CORE, "GroupManagement", "Remove owner from group", "Unassign", "Group"),
    ActivityEntry(CORE, "GroupManagement", "Set group license", "Assign", "Group",
                  ("AssignedLicense",)),
    ActivityEntry(SSGM, "GroupManagement", "Add a member to a group", "Add", "Group"),
    ActivityEntry(CORE, "ApplicationManagement", "Add application", "Add", "Application",
                  ("AppAddress", "AppId", "DisplayName", "Included Updated Properties")),
    ActivityEntry(CORE, "ApplicationManagement", "Update application", "Update", "Application",
                  ("DisplayName", "Included Updated Properties")),
    ActivityEntry(CORE, "ApplicationManagement", "Delete application", "Delete", "Application"),
    ActivityEntry(CORE, "ApplicationManagement", "Add service principal", "Add",
                  "ServicePrincipal", ("AccountEnabled", "AppPrincipalId", "DisplayName")),
    ActivityEntry(CORE, "ApplicationManagement", "Update service principal", "Update",
                  "ServicePrincipal", ("Included Updated Properties",)),
    ActivityEntry(CORE, "ApplicationManagement", "Remove service principal", "Delete",
                  "ServicePrincipal"),
    ActivityEntry(CORE, "ApplicationManagement", "Add owner to application", "Assign",
                  "Application"),
    ActivityEntry(CORE, "ApplicationManagement", "Consent to application", "Assign",
                  "ServicePrincipal",
                  ("ConsentContext.IsAdminConsent", "ConsentAction.Permissions")),
    ActivityEntry(CORE, "RoleManagement", "Add member to role", "Assign", "Role",
                  ("Role.DisplayName", "Role.ObjectID")),
    ActivityEntry(CORE, "RoleManagement", "Remove member from role", "Unassign", "Role",
                  ("Role.DisplayName", "Role.ObjectID")),
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
