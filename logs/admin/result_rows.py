"""The changelist's rows of events, rendered in one pass per row.

Django's ``result_list`` renders every cell through the admin's generic machinery: it looks
the column up on the model admin, asks whether it is a model field, formats the value for
display, reverses the event's URL, merges the preserved filters into it, and renders the
action checkbox through a form widget's template, once per cell or row. The audit-log
changelist's columns are all registry columns (``logs.columns``) shown by
``_column_display``, so all of that is known once per page: this module builds each row's
HTML from the columns, with the same markup Django's ``items_for_result`` writes (the
``field-<name>`` classes, the link in the first chosen column with the list's filters
preserved, the ``action-select`` checkbox), so the page, its styles, its actions and its
scripts are unchanged. ``tests/admin/test_result_rows.py`` holds the two renderings equal.
"""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

# A primary key no event has, replaced by each row's own in the link computed once per page.
_PK_PLACEHOLDER = "987654321987654321"


def can_render(changelist) -> bool:
    """Whether every column is one this module renders (else Django's rendering is used):
    the action checkbox and registry columns, named links, no editable list, no popup."""
    admin = changelist.model_admin
    return (
        not changelist.formset
        and not changelist.is_popup
        and not changelist.to_field
        and changelist.list_display_links
        and all(
            name == "action_checkbox" or getattr(getattr(admin, name, None), "column", None)
            for name in changelist.list_display
        )
    )


def result_list_context(changelist) -> dict:
    """The context Django's ``result_list`` tag gives ``admin/change_list_results.html``,
    with each row as one cell of ready HTML (the template writes its cells one after the
    other, so the page is the same)."""
    headers = list(result_headers(changelist))
    return {
        "cl": changelist,
        "result_hidden_fields": list(result_hidden_fields(changelist)),
        "result_headers": headers,
        "num_sorted_fields": sum(
            1 for header in headers if header["sortable"] and header["sorted"]
        ),
        "results": [ResultList(None, [row]) for row in rows(changelist)],
    }


def rows(changelist) -> list[str]:
    """Each event of the page as its ``<td>``/``<th>`` cells, in Django's markup."""
    admin = changelist.model_admin
    links = changelist.list_display_links
    cells = []
    linked = False
    for name in changelist.list_display:
        if name == "action_checkbox":
            cells.append(("checkbox", None, None))
            continue
        # The named link columns (can_render wants some named); the first is a row header.
        link = name in links
        tag = "th" if link and not linked else "td"
        linked = linked or link
        cells.append((name, getattr(admin, name).column, (tag, link)))
    url_start, url_end = _event_url_parts(changelist)
    label = gettext("Select this object for an action - {}")
    rendered = []
    for event in changelist.result_list:
        pk = str(event.pk)
        parts = []
        for name, column, how in cells:
            if column is None:
                parts.append(
                    '<td class="action-checkbox"><input type="checkbox" '
                    f'name="{ACTION_CHECKBOX_NAME}" value="{escape(pk)}" class="action-select" '
                    f'aria-label="{label.format(escape(str(event)))}"></td>'
                )
                continue
            tag, link = how
            value = _cell(column, event)
            if link:
                value = f'<a href="{escape(url_start + pk + url_end)}">{value}</a>'
            parts.append(f'<{tag} class="field-{name}">{value}</{tag}>')
        rendered.append(mark_safe("".join(parts)))
    return rendered


def _cell(column, event) -> str:
    """What ``_column_display`` shows (logs.admin.events), escaped as format_html would."""
    value = column.value(event)
    shown = column.display(event) if column.display else value
    return (
        f'<span class="cell" title="{conditional_escape(value)}">{conditional_escape(shown)}</span>'
    )


def _event_url_parts(changelist) -> tuple[str, str]:
    """The detail link of every row, with the list's filters preserved, as the text before
    and after the event's id: reversed and merged once for the page."""
    placeholder = _Placeholder()
    setattr(placeholder, changelist.pk_attname, _PK_PLACEHOLDER)
    url = changelist.url_for_result(placeholder)
    url = add_preserved_filters(
        {"preserved_filters": changelist.preserved_filters, "opts": changelist.opts}, url
    )
    start, found, end = url.partition(_PK_PLACEHOLDER)
    if not found:
        raise ValueError(f"the event URL {url!r} does not hold its id")
    return start, end


class _Placeholder:
    """Stands for an event in ``url_for_result``, which reads only its primary key."""
