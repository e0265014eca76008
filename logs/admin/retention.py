"""The retention policy page: what is kept how long, and what a run would purge now.

Read-only, and only for those who may run retention (``logs.purge_auditevent``, the
Compliance Administrators): the numbers say how much evidence a run is about to remove, and
how much each active legal hold keeps from it.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ImproperlyConfigured
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from logs.admin.refusal import refusal_response
from logs.models import Category
from logs.retention.holds import (
    HoldError,
    active_holds,
    kept_back,
    kept_back_total,
    without_held,
)
from logs.retention.policy import RetentionPolicy
from logs.retention.selection import summary_by_category

PURGE_PERMISSION = "logs.purge_auditevent"


def expired_events_url(cutoff: datetime, category: str | None = None) -> str:
    """The changelist of exactly the events dated before ``cutoff`` (of ``category``).

    Retention purges events dated strictly before the cutoff, the ``until`` filter keeps those
    at or before it: a microsecond earlier (the precision dates are stored with) selects the
    same events.
    """
    until = (cutoff - timedelta(microseconds=1)).astimezone(UTC)
    query = {"category": category} if category else {}
    query["until"] = f"{until:%Y-%m-%dT%H:%M:%S.%f}Z"
    return f"{reverse('admin:logs_auditevent_changelist')}?{urlencode(query)}"


def retention_policy_view(model_admin, request):
    if not request.user.has_perm(PURGE_PERMISSION):
        return refusal_response(
            request, model_admin, permission=PURGE_PERMISSION, refused="The retention policy"
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Retention policy",
    }
    try:
        policy = RetentionPolicy.from_settings()
    except ImproperlyConfigured as error:
        context["error"] = str(error)
        return TemplateResponse(request, "admin/logs/retention/policy.html", context)
    now = timezone.now()
    default_cutoff, cutoffs = policy.cutoffs(now)
    condition, holds = policy.expired(now), active_holds()
    try:
        purgeable = without_held(condition, holds)
        kept = kept_back(condition, holds)
        context["held_total"] = kept_back_total(condition, holds)
    except HoldError as error:
        context["error"] = f"Retention would stop: {error}"
        return TemplateResponse(request, "admin/logs/retention/policy.html", context)
    context["holds"] = [{"hold": hold, "kept": kept[hold.name]} for hold in holds]
    expired = {row.category: row for row in summary_by_category(purgeable)}
    names = sorted(set(Category.objects.values_list("name", flat=True)) | set(policy.overrides))
    rows = [
        {
            "category": name,
            "days": policy.overrides.get(name, policy.default_days),
            "overridden": name in policy.overrides,
            "cutoff": cutoffs.get(name, default_cutoff),
            "events": expired[name].events if name in expired else 0,
            "oldest": expired[name].oldest if name in expired else None,
        }
        for name in names
    ]
    for row in rows:
        row["changelist_url"] = (
            expired_events_url(row["cutoff"], row["category"]) if row["events"] else None
        )
    total = sum(row["events"] for row in rows)
    context.update(
        {
            "policy": policy,
            "default_cutoff": default_cutoff,
            "rows": rows,
            "total": total,
            # One cutoff for every category: one filter selects them all.
            "total_changelist_url": (
                expired_events_url(default_cutoff) if total and not policy.overrides else None
            ),
            "now": now,
        }
    )
    return TemplateResponse(request, "admin/logs/retention/policy.html", context)
