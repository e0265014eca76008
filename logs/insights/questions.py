"""Which activities, target types and modified properties each compliance question reads
(see the package docstring for how each answer reads them)."""

from logs.models import AuditEvent

USER_ACTIVITIES = [
    "Add user",
    "Update user",
    "Delete user",
    "Hard Delete user",
    "Restore user",
    "Disable account",
    "Enable account",
    "Change user license",
    "Set force change user password",
    "Change user password",
    "Reset password",
    "Reset user password",  # not in the reference, but real logs write it
    "Change password (self-service)",
    "Reset password (self-service)",
    "Reset password (by admin)",
]
PASSWORD_ACTIVITIES = [
    "Change user password",
    "Reset password",
    "Reset user password",
    "Change password (self-service)",
    "Reset password (self-service)",
    "Reset password (by admin)",
]
GROUP_ADDED_ACTIVITIES = ["Add group"]
OWNER_CHANGE_ACTIVITIES = {"Add owner to group": "added", "Remove owner from group": "removed"}
LICENCE_ACTIVITIES = ["Change user license", "Set group license"]
LICENCE_PROPERTY = "AssignedLicense"
APPLICATION_ACTIVITIES = {
    "Add application": "added",
    "Update application": "updated",
    "Delete application": "removed",
    "Hard Delete application": "removed",
    "Restore application": "restored",
}
SERVICE_PRINCIPAL_ACTIVITIES = [
    "Add service principal",
    "Update service principal",
    "Remove service principal",
    "Add service principal credentials",
    "Remove service principal credentials",
]
RENAME_ACTIVITIES = ["Update application"]
RENAME_PROPERTY = "DisplayName"
# The target types the per-object answers read.
USER, APPLICATION, SERVICE_PRINCIPAL = "User", "Application", "ServicePrincipal"

SUCCESS = AuditEvent.Result.SUCCESS
FAILURE = AuditEvent.Result.FAILURE
