"""Renderers that name the export formats, so that content negotiation accepts ``format=csv``
and ``format=ndjson`` (and the matching Accept headers) on the event list. They render nothing
themselves: the view streams the file through ``logs.exports`` instead of building a
Response, so an export is never held in memory."""

import json

from rest_framework.renderers import BaseRenderer


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
