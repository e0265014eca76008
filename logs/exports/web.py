"""Serving an export over HTTP: streamed as it is written, and recorded in the access trail.

The response is a StreamingHttpResponse over the Export: the first chunk leaves before the
last is read, and nothing is staged in memory or in a temporary file. Each web export leaves
one AccessRecord (who, filters, format, columns, rows written, from where). AccessRecords are
immutable, so it is written once, when the stream ends: after the last chunk, or when the server
closes the response because the client went away (then ``row_count`` is what had been written
and ``detail.complete`` is false).
"""

from django.http import StreamingHttpResponse

from logs.access_trail import record_access
from logs.models import AccessRecord
from logs.routing import read_only_queries

EXPORT_PERMISSION = "logs.export_auditevent"


def may_export(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(EXPORT_PERMISSION))


class RecordedExportStream:
    """Iterates an Export and writes its AccessRecord exactly once, however the stream ends."""

    def __init__(self, export, record):
        self._export = export
        self._chunks = iter(export)
        self._record = record
        self._closed = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        # The server reads the stream after the view has returned, outside the view's
        # read-only work: each chunk is read-only work of its own (logs.routing).
        try:
            with read_only_queries():
                return next(self._chunks)
        except Exception:  # StopIteration included: the export is finished
            self.close()
            raise

    def close(self) -> None:
        """Called by the server when the response ends, finished or not."""
        if self._closed:
            return
        self._closed = True
        self._chunks.close()
        self._record(self._export)


def export_response(request, export, *, filters: dict, via: str) -> StreamingHttpResponse:
    """The streamed download of ``export``, recorded as ``request.user``'s export."""
    user = request.user

    def record(finished_export) -> None:
        record_access(
            AccessRecord.Action.EXPORT,
            user=user,
            request=request,
            detail={
                "via": via,
                "format": finished_export.format,
                "layout": finished_export.layout,
                "columns": finished_export.columns,
                "filters": filters,
                "limit": finished_export.limit,
                "truncated": finished_export.truncated,
                "complete": finished_export.finished,
            },
            row_count=finished_export.rows_written,
        )

    response = StreamingHttpResponse(
        RecordedExportStream(export, record), content_type=export.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{export.file_name()}"'
    if export.limit is not None:
        response["X-Export-Limit"] = str(export.limit)
        response["X-Export-Truncated"] = "true" if export.exceeds_limit() else "false"
    return response
