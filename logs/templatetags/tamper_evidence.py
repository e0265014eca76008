"""The admin's warning when the chain's digests are not signed (no AUDITPORTAL_SIGNING_KEY)."""

from django import template

from logs.digests.keys import signing_key_path

register = template.Library()


@register.inclusion_tag("admin/logs/tamper_evidence_warning.html")
def tamper_evidence_warning():
    return {"off": not signing_key_path()}
