"""Showing modified-property values the way a person reads them.

Entra writes most values as JSON inside a string: ``["Payroll Sync"]`` for a one-value list,
``"Mail"`` for a string, ``[true]``, or a policy document that is itself JSON text inside a
list. The stored value stays exactly as sent; this only decides what the detail page shows.
"""

import json

import orjson


def readable_value(raw: str | None) -> str:
    """The decoded value for display; the raw text when it is not JSON, or JSON nested too
    deeply to decode and show (the standard parser and the indenting writer recurse once per
    level: a value is text, and can nest as deeply as its sender liked)."""
    if raw is None:
        return ""
    try:
        return _readable(raw)
    except RecursionError:
        return raw


def _readable(raw: str) -> str:
    value = _decode(raw)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        nested = _decode(value)
        if isinstance(nested, dict | list):
            return json.dumps(nested, indent=2, ensure_ascii=False)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "" if raw.strip() in ("", "null") else raw
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def is_decoded(raw: str | None) -> bool:
    """Whether the display differs from the stored text (so the page can offer the raw form)."""
    return raw is not None and readable_value(raw) != raw


def _decode(text: str):
    stripped = text.strip()
    if not stripped or stripped[0] not in '["{tfn-0123456789':
        return text
    try:
        # orjson first: a report decodes tens of thousands of values. It refuses a few things
        # the standard parser takes (NaN, integers past 64 bits, lone surrogates).
        return orjson.loads(stripped)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(stripped)
    except ValueError:
        return text
