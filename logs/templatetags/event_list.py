"""``{% event_result_list cl %}``: the audit-log changelist's table (``logs.admin.result_rows``).

The same template and context as Django's ``{% result_list cl %}``, the rows rendered from the
registry columns in one pass; a changelist whose columns that rendering does not know falls
back to Django's.
"""

from django import template
from django.contrib.admin.templatetags.admin_list import result_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

from logs.admin import result_rows

register = template.Library()


def event_result_list(changelist) -> dict:
    if result_rows.can_render(changelist):
        return result_rows.result_list_context(changelist)
    return result_list(changelist)


@register.tag(name="event_result_list")
def event_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=event_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
