"""A refused page in the portal's look: what was refused, and which role would allow it.

Django answers a missing permission with a bare "403 Forbidden". An auditor who clicks
*Download* without the right role needs to know that the portal works, and whom to ask for what:
the roles that grant the permission come from the one role definition, ``logs.roles``.
"""

from django.template.response import TemplateResponse

from logs.roles import ROLE_PERMISSIONS


def roles_granting(permission: str) -> list[str]:
    """The roles holding ``permission`` (``app_label.codename``), narrowest first."""
    return [role for role, held in ROLE_PERMISSIONS.items() if permission in held]


def refusal_response(request, model_admin, *, permission: str, refused: str):
    """A 403 page saying that ``refused`` (e.g. "Downloading events") needs ``permission``."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Not allowed",
        "refused": refused,
        "permission": permission,
        "roles": roles_granting(permission),
    }
    return TemplateResponse(request, "admin/logs/refused.html", context, status=403)
