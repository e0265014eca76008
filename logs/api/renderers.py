"""The event list's renderers.

``PageJSONRenderer`` writes a page built from rows (``PlainBody``) with orjson, and everything
else as DRF's JSON renderer does. The export renderers name the export formats, so that content
negotiation accepts ``format=csv`` and ``format=ndjson`` (and the matching Accept headers) on
the event list. They render nothing themselves: the view streams the file through
``logs.exports`` instead of building a Response, so an export is never held in memory."""

import json

from rest_framework.renderers import BaseRenderer, JSONRenderer

from logs.drf_json import drf_json_bytes


class PlainBody(dict):
    """A response body of JSON's own types alone: strings, integers, booleans, None, lists and
    dicts with string keys, no floats (see ``logs.drf_json``). Only a body built that way
    (``logs.api.event_rows``) is marked so; anything else, an error's details or a record's
    original with its numbers, goes through ``json.dumps``."""


class PageJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, with a ``PlainBody`` written by orjson where the output is DRF's
    compact UTF-8 form: an indented body (the browsable page's, ``; indent=``) or one under
    settings that change the form (``COMPACT_JSON``, ``UNICODE_JSON``) is left to DRF."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (
            type(data) is PlainBody
            and self.compact
            and not self.ensure_ascii
            and self.get_indent(accepted_media_type, renderer_context or {}) is None
        ):
            return drf_json_bytes(data)
        return super().render(data, accepted_media_type, renderer_context)


class ExportRenderer(BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The view answers errors in JSON (AuditEventViewSet.finalize_response); this is the
        # fallback should a short document still reach here.
        return json.dumps(data, ensure_ascii=False).encode()


class CSVExportRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class NDJSONExportRenderer(ExportRenderer):
    media_type = "application/x-ndjson"
    format = "ndjson"


EXPORT_RENDERERS = [CSVExportRenderer, NDJSONExportRenderer]
